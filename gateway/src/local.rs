//! The local administrator's way in, for what must happen on the gateway host
//! before any operator exists (`outfit-gateway bootstrap`, `migrate`): the
//! same use cases as every operator, authorised as the local administrator
//! and audited as `local:USER` from `cli`. Everything else is the `outfit`
//! CLI's, through the operator API.

use crate::home::{Home, Settings};
use crate::server::Gateway;
use outfit_app::Services;
use outfit_domain::rights::{Caller, Principal};
use std::path::PathBuf;

/// `outfit-gateway init`: a new gateway directory, kept only if its database
/// opens. `settings.timeouts` holds the ones given, over the defaults; the
/// server certificate names `sans`, and always localhost. Returns what to
/// tell the user.
pub fn init(dir: PathBuf, mut settings: Settings, mut sans: Vec<String>) -> anyhow::Result<String> {
    for always in ["localhost", "127.0.0.1"] {
        if !sans.iter().any(|s| s == always) {
            sans.push(always.into());
        }
    }
    let mut timeouts = crate::home::default_timeouts();
    timeouts.append(&mut settings.timeouts);
    settings.timeouts = timeouts;
    let home = Home::new(&dir);
    home.init(&settings, &sans)?;
    if let Err(e) = Gateway::open(home.clone()) {
        // Without this the directory would "already hold a gateway" that cannot start.
        let _ = std::fs::remove_file(home.settings_path());
        return Err(anyhow::Error::new(e).context(format!(
            "failed to open the database `{}`; fix --database and run init again (same --dir)",
            settings.database
        )));
    }
    Ok(format!("initialised gateway in {}\n", dir.display()))
}

/// The gateway of `dir`, its use cases, and the local administrator as the caller.
pub fn open(dir: PathBuf) -> anyhow::Result<(Gateway, Services, Caller)> {
    let gateway = Gateway::open(Home::new(dir))?;
    let services = gateway.services.clone();
    Ok((gateway, services, local_administrator()))
}

/// Who runs this command: the user on this machine.
pub fn local_administrator() -> Caller {
    let user = std::env::var("SUDO_USER").or_else(|_| std::env::var("USER")).unwrap_or_else(|_| "unknown".into());
    Caller { principal: Principal::LocalAdministrator { user }, from: "cli".into() }
}

/// A password nobody will type (256 random bits), for an operator who signs
/// in with a certificate.
pub fn unguessable_password() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("failed to draw random bytes: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// `outfit-gateway bootstrap`: the first administrator — an operator with
/// every right on every site and a client certificate written to `out` (a
/// password too if `OUTFIT_PASSWORD` is set). Returns what to tell the user.
pub fn bootstrap(dir: PathBuf, name: &str, out: &std::path::Path, days: u64) -> anyhow::Result<String> {
    use anyhow::Context as _;
    use outfit_domain::rights::{Action, Holder, Right};
    let (gateway, services, caller) = open(dir)?;
    let password = match std::env::var("OUTFIT_PASSWORD") {
        Ok(password) => password,
        // Nobody knows it: the certificate is the way in.
        Err(_) => unguessable_password()?,
    };
    services.save_operator(&caller, name, &password).context("failed to add the administrator")?;
    for action in Action::ALL {
        services.grant(&caller, Holder::Operator(name), &Right { action, site: None, category: None })?;
    }
    let issued = services.issue_operator_certificate(&caller, name, days)?;
    std::fs::create_dir_all(out).with_context(|| format!("failed to create {}", out.display()))?;
    let (cert, key) = (out.join(format!("{name}.pem")), out.join(format!("{name}.key")));
    issued.write(&cert, &key)?;
    let url = std::fs::read_to_string(gateway.home.operator_url_file()).unwrap_or_default();
    let url = if url.trim().is_empty() { "https://HOST:PORT".to_owned() } else { url.trim().to_owned() };
    Ok(format!(
        "administrator {name}: every right on every site; certificate {} and key {}\n\
         connect with: outfit profile set default --gateway {url} --ca {} --cert {} --key {}\n",
        cert.display(),
        key.display(),
        gateway.home.ca_cert().display(),
        cert.display(),
        key.display()
    ))
}
