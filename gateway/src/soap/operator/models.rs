//! Model operations: `SetParameter`.

use outfit_app::{Failure, Services};
use outfit_domain::model::ParameterChange;
use outfit_domain::rights::Caller;
use outfit_wsdl::operator::{SetParameter, SetParameterResponse};

pub fn set_parameter(s: &Services, caller: &Caller, m: SetParameter) -> Result<SetParameterResponse, Failure> {
    let change = ParameterChange {
        site: m.site,
        model: m.model,
        category: m.category,
        component: m.component,
        name: m.name,
        value: m.value,
    };
    let imported = s.set_parameter(caller, &change)?;
    Ok(SetParameterResponse { model_version: imported.version, created: imported.created })
}
