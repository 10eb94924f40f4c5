//! `outfit-agent service install -- ARGS` and `outfit-agent service
//! uninstall`: registers the agent with the Windows Service Control Manager
//! (started at boot as LocalSystem, restarted after a failure) or removes it.
//! The arguments are checked as the agent would read them before anything is
//! registered, so a mistake fails here rather than at the next boot.

use super::windows::SERVICE_NAME;
use crate::settings::Settings;
use clap::Parser;
use std::ffi::OsString;
use std::time::{Duration, Instant};
use windows_service::service::{
    ServiceAccess, ServiceAction, ServiceActionType, ServiceErrorControl, ServiceFailureActions,
    ServiceFailureResetPeriod, ServiceInfo, ServiceStartType, ServiceState, ServiceType,
};
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};

/// What `outfit-agent service` does.
#[derive(Parser)]
#[command(name = "outfit-agent service", about = "Registers the agent as a Windows service, or removes it")]
enum ServiceCommand {
    /// Registers the service `OutfitAgent`, started at boot, running the agent
    /// with ARGS (its usual arguments, after `--`) plus `--windows-service`
    /// and, unless given, `--log-file STATE\agent.log`.
    Install {
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Stops the service if it runs, and removes it.
    Uninstall,
}

/// Runs `outfit-agent service …` (`args` after `service`).
pub fn command(args: impl Iterator<Item = OsString>) -> std::process::ExitCode {
    let command = ServiceCommand::parse_from(std::iter::once(OsString::from("outfit-agent service")).chain(args));
    let done = match command {
        ServiceCommand::Install { args } => install(args),
        ServiceCommand::Uninstall => uninstall(),
    };
    match done {
        Ok(said) => {
            println!("{said}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn install(mut args: Vec<OsString>) -> Result<String, String> {
    let settings = Settings::try_parse_from(std::iter::once(OsString::from("outfit-agent")).chain(args.clone()))
        .map_err(|e| format!("the agent's arguments are not valid, nothing registered:\n{e}"))?;
    if settings.windows_service {
        return Err("leave --windows-service out: `service install` adds it".into());
    }
    if settings.log_file.is_none() {
        let state = settings.state_dir.clone().unwrap_or_else(|| super::default_state_dir(&settings.root));
        args.push("--log-file".into());
        args.push(state.join("agent.log").into_os_string());
    }
    args.insert(0, "--windows-service".into());
    let program = std::env::current_exe().map_err(|e| format!("failed to find the agent's own program: {e}"))?;
    let access = ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE;
    let manager = ServiceManager::local_computer(None::<&str>, access)
        .map_err(|e| format!("failed to open the service manager (run as an administrator): {e}"))?;
    let info = ServiceInfo {
        name: SERVICE_NAME.into(),
        display_name: "Outfit agent".into(),
        service_type: ServiceType::OWN_PROCESS,
        start_type: ServiceStartType::AutoStart,
        error_control: ServiceErrorControl::Normal,
        executable_path: program,
        launch_arguments: args,
        dependencies: Vec::new(),
        account_name: None,
        account_password: None,
    };
    let service = manager.create_service(&info, ServiceAccess::CHANGE_CONFIG).map_err(|e| {
        format!("failed to register the service {SERVICE_NAME} (remove an old one with `outfit-agent service uninstall`): {e}")
    })?;
    // Best effort: what the service is, and a restart after a failure.
    let _ = service.set_description("Runs the commands of its Outfit gateway on this device");
    let restart = ServiceAction { action_type: ServiceActionType::Restart, delay: Duration::from_secs(5) };
    let actions = ServiceFailureActions {
        reset_period: ServiceFailureResetPeriod::After(Duration::from_secs(24 * 3600)),
        reboot_msg: None,
        command: None,
        actions: Some(vec![restart.clone(), restart.clone(), restart]),
    };
    if let Err(e) = service.update_failure_actions(actions) {
        eprintln!("warning: the service will not be restarted after a failure: {e}");
    }
    Ok(format!("registered the service {SERVICE_NAME}; start it with `sc start {SERVICE_NAME}` (it starts at boot)"))
}

fn uninstall() -> Result<String, String> {
    let manager = ServiceManager::local_computer(None::<&str>, ServiceManagerAccess::CONNECT)
        .map_err(|e| format!("failed to open the service manager (run as an administrator): {e}"))?;
    let access = ServiceAccess::QUERY_STATUS | ServiceAccess::STOP | ServiceAccess::DELETE;
    let service = manager
        .open_service(SERVICE_NAME, access)
        .map_err(|e| format!("failed to open the service {SERVICE_NAME} (is it installed?): {e}"))?;
    let status = service.query_status().map_err(|e| format!("failed to ask the service's state: {e}"))?;
    if status.current_state != ServiceState::Stopped {
        service.stop().map_err(|e| format!("failed to stop the service: {e}"))?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while service.query_status().map_err(|e| e.to_string())?.current_state != ServiceState::Stopped {
            if Instant::now() > deadline {
                return Err("the service did not stop within 60 s; nothing removed".into());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    service.delete().map_err(|e| format!("failed to remove the service: {e}"))?;
    Ok(format!("removed the service {SERVICE_NAME}"))
}
