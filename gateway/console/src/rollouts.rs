//! Rollouts: starting one from a dry run (canary, batch size, failures
//! allowed), following it live, and steering it (pause, resume, abort).

use crate::Response;
use crate::page::{self, Ctx, Frame, Shown};
use askama::Template;
use outfit_app::rollouts::Steer;
use outfit_domain::ids::RolloutId;
use outfit_domain::rollout::{DeviceState, Member, PolicyRequest, Rollout, RolloutState};

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct StartForm {
    version: String,
    canary: String,
    batch: String,
    max_failures: String,
}

/// An optional whole number from a form field (empty: the default).
fn number(field: &str, text: &str) -> Result<Option<i32>, Shown> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| Shown::invalid(format!("{field} must be a whole number, not `{text}`")))
}

pub(crate) fn start(c: &Ctx<'_>, site: &str, model: &str) -> Result<Response, Shown> {
    let (site, model) = (page::decoded(site), page::decoded(model));
    let form: StartForm = c.form()?;
    let policy = PolicyRequest {
        canary: number("the canary", &form.canary)?,
        batch_size: number("the batch size", &form.batch)?,
        max_failures: number("the failures allowed", &form.max_failures)?,
        ..PolicyRequest::default()
    };
    let version = number("the version", &form.version)?;
    let rollout = c.services.start_rollout(c.caller(), &site, &model, version, true, policy)?;
    Ok(page::see_other(&format!("/console/rollouts/{}", rollout.id.0)))
}

#[derive(Template)]
#[template(path = "rollout.html")]
struct RolloutPage {
    frame: Frame,
    rollout: Rollout,
    members: Vec<Member>,
    /// (state, devices) for every state some device is in.
    tally: Vec<(&'static str, i32)>,
    live: bool,
    steers: Vec<(&'static str, &'static str)>,
}

fn parse_id(id: &str) -> Result<RolloutId, Shown> {
    id.parse().map(RolloutId).map_err(|_| Shown::invalid(format!("`{id}` is no rollout number")))
}

pub(crate) fn show(c: &Ctx<'_>, id: &str) -> Result<Response, Shown> {
    let (rollout, members) = c.services.show_rollout(c.caller(), parse_id(id)?)?;
    let tally = DeviceState::ALL.iter().map(|s| (s.as_str(), rollout.tally.get(*s))).filter(|(_, n)| *n > 0).collect();
    use RolloutState as S;
    let steers = match rollout.state {
        S::Prepared => vec![("start", "Start"), ("abort", "Abort")],
        S::Running => vec![("pause", "Pause"), ("abort", "Abort")],
        S::Paused | S::Halted => vec![("resume", "Resume"), ("abort", "Abort")],
        S::Completed | S::Aborted | S::Superseded => Vec::new(),
    };
    let live = matches!(rollout.state, S::Running);
    page::ok(RolloutPage { frame: c.frame("models"), rollout, members, tally, live, steers })
}

#[derive(Debug, serde::Deserialize)]
struct SteerForm {
    steer: String,
}

pub(crate) fn steer(c: &Ctx<'_>, id: &str) -> Result<Response, Shown> {
    let id = parse_id(id)?;
    let form: SteerForm = c.form()?;
    let steer = Steer::parse(&form.steer).map_err(|r| Shown::invalid(r.message))?;
    c.services.steer_rollout(c.caller(), id, steer)?;
    Ok(page::see_other(&format!("/console/rollouts/{}", id.0)))
}
