//! `outfit-agent`: parses the command line and starts the agent
//! (`outfit_agent::start`), as a Windows service when asked.

use clap::Parser;
use outfit_agent::settings::Settings;
use outfit_agent::start;

fn main() -> std::process::ExitCode {
    // Run by the agent itself to compile a plug-in (`plugin::cache`).
    #[cfg(feature = "compiler")]
    if let Some(exit) = outfit_agent::plugin::cache::compiling_child() {
        return exit;
    }
    // `outfit-agent service install | uninstall` (Windows).
    #[cfg(windows)]
    if std::env::args_os().nth(1).is_some_and(|a| a == "service") {
        return outfit_agent::platform::service_install::command(std::env::args_os().skip(2));
    }
    let settings = Settings::parse();
    if let Err(e) = start::start_logging(settings.log_file.as_deref(), settings.log_format) {
        eprintln!("error: {e:#}");
        return std::process::ExitCode::FAILURE;
    }
    if settings.windows_service {
        return outfit_agent::platform::run_as_service(move |stop| start::serve(settings, Some(stop)));
    }
    start::serve(settings, None)
}
