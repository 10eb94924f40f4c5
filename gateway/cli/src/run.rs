//! Runs one parsed command: builds the request, calls the gateway, prints.

use crate::args::*;
use crate::client::Client;
use crate::failure::{CliError, Exit};
use crate::output::{or_dash, show, table};
use crate::profile::{self, Profile};
use outfit_wsdl::operator::{self as wire, OperatorRequest as Q, OperatorResponse as R};

fn connection_profile(c: &Connection) -> Result<Profile, CliError> {
    let asked = std::env::var_os("OUTFIT_PROFILE").is_some() || c.profile != "default";
    let flags = Profile {
        gateway: c.gateway.clone(),
        ca: c.ca.clone(),
        cert: c.cert.clone(),
        key: c.key.clone(),
        user: c.user.clone(),
    };
    Ok(profile::get(&c.profile, asked)?.overridden(flags))
}

pub fn run(cli: Cli) -> Result<(), CliError> {
    let json = cli.json;
    if let Command::Profile(command) = &cli.command {
        return profile_command(command, &cli.connection, json);
    }
    let mut client = Client::new(&connection_profile(&cli.connection)?)?;
    client.progress = !json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    match cli.command {
        Command::Status(list) | Command::Device(DeviceCmd::List(list)) => status(&client, list, json),
        Command::Device(command) => device(&client, command, json),
        Command::Provision { site, model, devices, expires_in, wait } => {
            let request = wire::ProvisionMany { site, device: devices, model, expires_in };
            let response = call!(client, ProvisionMany(request));
            queued(&client, json, &response, &response.queued, &wait)
        }
        Command::Queue(command) => queue(&client, command, json),
        Command::Model(command) => crate::models::model(&client, command, json),
        Command::Category(command) => crate::models::category(&client, command, json),
        Command::Rollout(command) => crate::rollouts::rollout(&client, command, json),
        Command::Inventory(command) => crate::drift::inventory(&client, command, json),
        Command::Drift(command) => crate::drift::drift(&client, command, json),
        Command::Package(PackageCmd::Upload { files }) => {
            let mut uploaded = Vec::new();
            for file in &files {
                let (sha256, size) = client.upload(file)?;
                uploaded.push(serde_json::json!({ "file": file, "sha256": sha256, "size": size }));
            }
            show(json, &uploaded, |all| {
                for u in all {
                    println!(
                        "{} {} ({} bytes)",
                        u["sha256"].as_str().unwrap_or(""),
                        u["file"].as_str().unwrap_or(""),
                        u["size"]
                    );
                }
            });
            Ok(())
        }
        Command::Package(PackageCmd::List) => {
            let r = call!(client, ListPackages(wire::ListPackages {}));
            show(json, &r, |r| {
                table(&["sha256", "size"], r.package.iter().map(|p| vec![p.sha256.clone(), p.size.to_string()]))
            });
            Ok(())
        }
        Command::Script(ScriptCmd::Import { file }) => {
            let request = crate::content::script(&client, &file)?;
            let r = call!(client, ImportScript(request));
            show(json, &r, |r| {
                println!("script {}: {}, {} steps", file.display(), if r.created { "new" } else { "replaced" }, r.steps)
            });
            Ok(())
        }
        Command::Plugin(PluginCmd::Install { bundle, targets }) => {
            let sha256 = crate::content::bundle(&client, &bundle)?;
            let request = wire::InstallPlugin {
                sha256,
                site: targets.site,
                device: targets.devices,
                model: targets.model,
                expires_in: targets.expires_in,
            };
            let response = call!(client, InstallPlugin(request));
            if !json {
                println!("plug-in {} {} stored", response.name, response.version);
            }
            queued(&client, json, &response, &response.queued, &Wait { wait: false, timeout: 0 })
        }
        Command::Script(ScriptCmd::List) => {
            let r = call!(client, ListScripts(wire::ListScripts {}));
            show(json, &r, |r| {
                let rows = r
                    .script
                    .iter()
                    .map(|s| vec![s.site.clone(), s.name.clone(), s.steps.to_string(), s.description.clone()]);
                table(&["site", "script", "steps", "description"], rows);
            });
            Ok(())
        }
        Command::Script(ScriptCmd::Run { script, targets, wait }) => {
            let request = wire::RunScript {
                script,
                site: targets.site,
                device: targets.devices,
                model: targets.model,
                expires_in: targets.expires_in,
            };
            let response = call!(client, RunScript(request));
            queued(&client, json, &response, &response.queued, &wait)
        }
        Command::Plugin(PluginCmd::Rollback { plugin, targets }) => {
            let request = wire::RollbackPlugin {
                plugin,
                site: targets.site,
                device: targets.devices,
                model: targets.model,
                expires_in: targets.expires_in,
            };
            let response = call!(client, RollbackPlugin(request));
            queued(&client, json, &response, &response.queued, &Wait { wait: false, timeout: 0 })
        }
        Command::Operator(command) => operator(&client, command, json),
        Command::Group(command) => group(&client, command, json),
        Command::Audit(a) => {
            let request = wire::ListAudit {
                site: a.site,
                principal: a.principal,
                action: a.action,
                outcome: a.outcome,
                offset: Some(a.offset),
                limit: Some(a.limit),
            };
            let r = call!(client, ListAudit(request));
            show(json, &r, |r| {
                let rows = r.entry.iter().rev().map(|e| {
                    vec![
                        e.time.clone(),
                        e.principal.clone(),
                        e.outcome.clone(),
                        e.action.clone(),
                        or_dash(&e.site),
                        e.object.clone(),
                        e.from.clone(),
                        e.detail.clone(),
                    ]
                });
                table(&["time", "principal", "outcome", "action", "site", "object", "from", "detail"], rows);
            });
            Ok(())
        }
        Command::Profile(_) | Command::Completions { .. } => unreachable!("handled before connecting"),
    }
}

/// Devices asked for at once: pages of this size keep each answer small.
const PAGE: i32 = 1000;

fn status(client: &Client, list: ListArgs, json: bool) -> Result<(), CliError> {
    // Page by page until `--limit` devices or the end.
    let mut r = wire::ListDevicesResponse::default();
    loop {
        let offset = list.offset + r.device.len() as i32;
        let wanted = (list.limit - r.device.len() as i32).min(PAGE);
        let request = wire::ListDevices {
            site: list.site.clone(),
            model: list.model.clone(),
            queue: list.queue.clone(),
            search: list.search.clone(),
            offset: Some(offset),
            limit: Some(wanted),
        };
        let page = call!(client, ListDevices(request));
        let got = page.device.len() as i32;
        (r.total, r.overdue_reboot) = (page.total, page.overdue_reboot);
        r.device.extend(page.device);
        if got < wanted || r.device.len() as i32 >= list.limit || offset + got >= r.total {
            break;
        }
    }
    show(json, &r, |r| {
        let rows = r.device.iter().map(|d| {
            vec![
                d.name.clone(),
                d.site.clone(),
                d.model.clone(),
                d.queue.clone(),
                d.pending.to_string(),
                d.sent.to_string(),
                d.succeeded.to_string(),
                d.failed.to_string(),
                d.timed_out.to_string(),
                d.rebooting.to_string(),
                d.closed.to_string(),
                format!("{}/{}", or_dash(&d.applied_version), or_dash(&d.desired_version)),
            ]
        });
        let header = [
            "device",
            "site",
            "model",
            "queue",
            "pending",
            "sent",
            "succeeded",
            "failed",
            "timedout",
            "rebooting",
            "closed",
            "applied/desired",
        ];
        table(&header, rows);
        println!("{} of {} devices", r.device.len(), r.total);
        for o in &r.overdue_reboot {
            println!("REBOOT OVERDUE: {} has not come back from command {} since {}", o.device, o.command, o.since);
        }
    });
    Ok(())
}

/// Prints what was queued where, then waits if asked.
pub(crate) fn queued<T: serde::Serialize>(
    client: &Client,
    json: bool,
    response: &T,
    queued: &[wire::Queued],
    wait: &Wait,
) -> Result<(), CliError> {
    show(json, response, |_| {
        for q in queued {
            println!("{}: queued {} commands (poke {})", q.device, q.commands, q.poked);
        }
    });
    if wait.wait {
        let devices: Vec<String> = queued.iter().map(|q| q.device.clone()).collect();
        crate::wait::queues(client, &devices, std::time::Duration::from_secs(wait.timeout))?;
    }
    Ok(())
}

fn device(client: &Client, command: DeviceCmd, json: bool) -> Result<(), CliError> {
    match command {
        DeviceCmd::List(_) => unreachable!("listed as status"),
        DeviceCmd::Show { device } => {
            let r = call!(client, ShowDevice(wire::ShowDevice { device }));
            show(json, &r, |r| {
                let s = &r.summary;
                println!("device: {}\nsite: {}\nmodel: {}", s.name, s.site, s.model);
                println!(
                    "desired model version: {}\napplied model version: {}",
                    or_dash(&s.desired_version),
                    or_dash(&s.applied_version)
                );
                println!(
                    "queue: {} ({} pending, {} sent, {} succeeded, {} failed)",
                    s.queue, s.pending, s.sent, s.succeeded, s.failed
                );
                match (&r.agent_version, &r.platform) {
                    (None, _) => println!("agent: has not said Hello yet"),
                    (Some(version), None) => println!("agent: {version} (too old to report its plug-ins)"),
                    (Some(version), Some(platform)) => println!("agent: {version}\nplatform: {platform}"),
                }
                if let Some(target) = &r.precompiled_only {
                    println!("runs only precompiled plug-ins for: {target}");
                }
                for p in &r.plugin {
                    println!("plugin: {} {} {} [{}]", p.name, p.version, p.world, p.serves);
                }
            });
        }
        DeviceCmd::Add { device, site, model } => {
            let r = call!(client, AddDevice(wire::AddDevice { site: site.clone(), device, model }));
            show(json, &r, |r| {
                println!(
                    "registered {}; issue its enrolment token with `outfit device token {} --site {site}`",
                    r.device, r.device
                )
            });
        }
        DeviceCmd::Token { device, site, address, expires_in } => {
            let r = call!(client, IssueToken(wire::IssueToken { site, device, address, expires_in }));
            show(json, &r, |r| println!("{}", r.token));
        }
        DeviceCmd::Revoke { device } => {
            let r = call!(client, RevokeDevice(wire::RevokeDevice { device: device.clone() }));
            show(json, &r, |r| println!("{device}: {} certificates revoked; the agent must enrol again", r.revoked));
        }
        DeviceCmd::Requests => {
            let r = call!(client, ListEnrolmentRequests(wire::ListEnrolmentRequests {}));
            show(json, &r, |r| {
                let rows = r.request.iter().map(|q| {
                    let certified = if q.certified { "yes (holds a valid certificate already)" } else { "no" };
                    vec![
                        q.device.clone(),
                        q.site.clone(),
                        q.key.clone(),
                        q.from.clone(),
                        q.created_at.clone(),
                        certified.to_owned(),
                    ]
                });
                table(&["device", "site", "key", "from", "asked at", "certified"], rows);
            });
        }
        DeviceCmd::Approve { device, fingerprint, address } => {
            let request = wire::ApproveEnrolment { device: device.clone(), key: fingerprint, address };
            let r = call!(client, ApproveEnrolment(request));
            show(json, &r, |r| {
                println!(
                    "{device}: enrolment approved (key {}, certificate for {}); the agent gets it when it next asks",
                    short(&r.key),
                    r.address
                )
            });
        }
        DeviceCmd::Reject { device, fingerprint } => {
            let r = call!(client, RejectEnrolment(wire::RejectEnrolment { device: device.clone(), key: fingerprint }));
            show(json, &r, |r| println!("{device}: enrolment request (key {}) rejected", short(&r.key)));
        }
    }
    Ok(())
}

fn short(key: &str) -> &str {
    &key[..key.len().min(16)]
}

fn queue(client: &Client, command: QueueCmd, json: bool) -> Result<(), CliError> {
    match command {
        QueueCmd::Show { device } => {
            let r = call!(client, ShowQueue(wire::ShowQueue { device }));
            show(json, &r, |r| {
                let rows = r.command.iter().map(|c| {
                    let result = c.result.as_deref().unwrap_or("").lines().next().unwrap_or("").to_owned();
                    vec![
                        c.sequence.to_string(),
                        c.id.clone(),
                        c.kind.clone(),
                        c.state.clone(),
                        c.attempts.to_string(),
                        result,
                    ]
                });
                table(&["seq", "id", "kind", "state", "attempts", "result"], rows);
            });
        }
        QueueCmd::Retry { device } => {
            let r = call!(client, Retry(wire::Retry { device: device.clone() }));
            show(json, &r, |r| println!("{device}: command {} will run again", r.command));
        }
        QueueCmd::Skip { device } => {
            let r = call!(client, Skip(wire::Skip { device: device.clone() }));
            show(json, &r, |r| {
                println!("{device}: command {} skipped; the device will not count as matching its model", r.command)
            });
        }
        QueueCmd::Abort { device } => {
            let r = call!(client, Abort(wire::Abort { device: device.clone() }));
            show(json, &r, |r| println!("{device}: {} commands aborted", r.aborted));
        }
        QueueCmd::Reboot { device, expires_in } => {
            let r = call!(client, Reboot(wire::Reboot { device, expires_in }));
            show(json, &r, |r| println!("{}: reboot queued (poke {})", r.queued.device, r.queued.poked));
        }
    }
    Ok(())
}

fn grant(
    client: &Client,
    operator: Option<String>,
    group: Option<String>,
    right: RightArgs,
    json: bool,
) -> Result<(), CliError> {
    let request = wire::Grant { operator, group, action: right.action, site: right.site, category: right.category };
    let r = call!(client, Grant(request));
    show(json, &r, |r| println!("{}", r.right));
    Ok(())
}

fn operator(client: &Client, command: OperatorCmd, json: bool) -> Result<(), CliError> {
    match command {
        OperatorCmd::Add { operator } => {
            let password = match std::env::var("OUTFIT_NEW_PASSWORD") {
                Ok(password) => password,
                Err(_) => new_password(&operator)?,
            };
            let r = call!(client, SaveOperator(wire::SaveOperator { operator: operator.clone(), password }));
            show(json, &r, |r| {
                let done = if r.created { "added" } else { "password changed" };
                println!(
                    "operator {operator}: {done}; grant rights with `outfit operator grant {operator} --action …`"
                );
            });
        }
        OperatorCmd::Cert { operator, out, days } => {
            let r = call!(
                client,
                IssueOperatorCertificate(wire::IssueOperatorCertificate { operator: operator.clone(), days })
            );
            let (cert, key) = (out.join(format!("{operator}.pem")), out.join(format!("{operator}.key")));
            write_identity(&out, &cert, &r.certificate, &key, &r.key)?;
            // The key stays on disk only; --json says where it went.
            let written = serde_json::json!({ "certificate": cert, "key": key });
            show(json, &written, |_| {
                println!("operator {operator}: certificate {} and key {}", cert.display(), key.display())
            });
        }
        OperatorCmd::Revoke { operator } => {
            let r = call!(
                client,
                RevokeOperatorCertificates(wire::RevokeOperatorCertificates { operator: operator.clone() })
            );
            show(json, &r, |r| println!("operator {operator}: {} certificates revoked", r.revoked));
        }
        OperatorCmd::Grant { operator, right } => grant(client, Some(operator), None, right, json)?,
    }
    Ok(())
}

fn group(client: &Client, command: GroupCmd, json: bool) -> Result<(), CliError> {
    match command {
        GroupCmd::Add { group } => {
            let r = call!(client, AddGroup(wire::AddGroup { group: group.clone() }));
            show(json, &r, |r| println!("group {group}: {}", if r.created { "added" } else { "exists already" }));
        }
        GroupCmd::Join { group, operator } => {
            let r = call!(client, JoinGroup(wire::JoinGroup { group, operator: operator.clone() }));
            show(json, &r, |r| println!("operator {operator} is a member of group {}", r.group));
        }
        GroupCmd::Grant { group, right } => grant(client, None, Some(group), right, json)?,
    }
    Ok(())
}

/// A new operator's password, asked twice on the terminal.
fn new_password(operator: &str) -> Result<String, CliError> {
    let ask = |prompt: String| {
        rpassword::prompt_password(prompt).map_err(|e| {
            CliError::new(Exit::Usage, format!("cannot read the new password: {e}")).help("set OUTFIT_NEW_PASSWORD")
        })
    };
    let first = ask(format!("new password for {operator}: "))?;
    if ask("again: ".to_owned())? != first {
        return Err(CliError::new(Exit::Usage, "the two passwords differ").help("run the command again"));
    }
    Ok(first)
}

/// Writes a certificate and its private key (the key readable by its owner only).
fn write_identity(
    dir: &std::path::Path,
    cert: &std::path::Path,
    cert_pem: &str,
    key: &std::path::Path,
    key_pem: &str,
) -> Result<(), CliError> {
    let failed = |path: &std::path::Path, e: std::io::Error| {
        CliError::new(Exit::Usage, format!("cannot write {}: {e}", path.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| failed(dir, e))?;
    std::fs::write(cert, cert_pem).map_err(|e| failed(cert, e))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(key).map_err(|e| failed(key, e))?;
    std::io::Write::write_all(&mut file, key_pem.as_bytes()).map_err(|e| failed(key, e))
}

fn profile_command(command: &ProfileCmd, c: &Connection, json: bool) -> Result<(), CliError> {
    match command {
        ProfileCmd::Set { name } => {
            let given = Profile {
                gateway: c.gateway.clone(),
                ca: c.ca.clone(),
                cert: c.cert.clone(),
                key: c.key.clone(),
                user: c.user.clone(),
            };
            let path = profile::set(name, given)?;
            if !json {
                println!("profile {name} saved in {}", path.display());
            }
        }
        ProfileCmd::List => {
            let all = profile::all()?;
            show(json, &all, |all| {
                let rows = all.iter().map(|(name, p)| {
                    let who =
                        p.user.clone().or_else(|| p.cert.as_ref().map(|c| format!("certificate {}", c.display())));
                    vec![name.clone(), or_dash(&p.gateway), or_dash(&who)]
                });
                table(&["profile", "gateway", "as"], rows);
            });
        }
    }
    Ok(())
}
