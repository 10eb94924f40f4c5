//! `outfit`: parses the command line, connects as the profile says, and runs
//! one command against the gateway's operator API. Exit codes: docs/cli.md.

mod args;
#[macro_use]
mod client;
mod content;
mod drift;
mod failure;
mod models;
mod output;
mod profile;
mod rollouts;
mod run;
mod wait;

use clap::{CommandFactory, Parser};

fn main() -> std::process::ExitCode {
    let cli = args::Cli::parse();
    if let args::Command::Completions { shell } = cli.command {
        clap_complete::generate(shell, &mut args::Cli::command(), "outfit", &mut std::io::stdout());
        return std::process::ExitCode::SUCCESS;
    }
    match run::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            match &e.code {
                Some(code) => eprintln!("error: {} ({code})", e.message),
                None => eprintln!("error: {}", e.message),
            }
            if let Some(help) = &e.help {
                eprintln!("help: {help}");
            }
            std::process::ExitCode::from(e.exit as u8)
        }
    }
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks (a flag defined twice, a global that
    /// clashes with a subcommand's).
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        crate::args::Cli::command().debug_assert();
    }
}
