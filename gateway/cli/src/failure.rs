//! How the CLI fails: every error names what went wrong and what to do next,
//! and ends the process with a documented exit code (docs/cli.md).

/// The exit codes, one per kind of failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Bad arguments or configuration (clap also exits 2 for its own).
    Usage = 2,
    /// The gateway refused: not authenticated, or no right.
    Refused = 3,
    /// What the command names does not exist.
    NotFound = 4,
    /// It contradicts what the gateway holds.
    Conflict = 5,
    /// The gateway found the request invalid.
    Invalid = 6,
    /// The gateway could not be reached (network, TLS).
    Unreachable = 7,
    /// The gateway failed inside, or answered nonsense.
    Internal = 8,
    /// `--wait`: a queue halted, or time ran out first.
    Halted = 9,
}

impl Exit {
    /// The exit code for a Fault code of the operator API.
    pub fn of_fault(code: &str) -> Self {
        match code {
            "Unauthenticated" | "Forbidden" => Self::Refused,
            "UnknownObject" | "UnknownDevice" | "UnknownCommand" => Self::NotFound,
            "Conflict" => Self::Conflict,
            "Internal" => Self::Internal,
            _ => Self::Invalid,
        }
    }
}

/// A failure to report: what happened, and what to do about it.
#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    pub message: String,
    /// The stable Fault code, when the gateway gave one.
    pub code: Option<String>,
    pub help: Option<String>,
}

impl CliError {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self { exit, message: message.into(), code: None, help: None }
    }

    pub fn help(self, help: impl Into<String>) -> Self {
        Self { help: Some(help.into()), ..self }
    }

    /// The next step for a refusal of the gateway, by its code.
    pub fn fault(code: &str, message: &str) -> Self {
        let help = match code {
            "Unauthenticated" => {
                "check --user and OUTFIT_PASSWORD, or --cert/--key (an operator certificate of this gateway)"
            }
            "Forbidden" => "ask an administrator for the right the message names (`outfit operator grant …`)",
            "UnknownObject" => "check the name; `outfit status` lists devices, `outfit script list` scripts",
            "Conflict" => "look at the current state (`outfit queue show DEVICE`, `outfit device show DEVICE`)",
            "Internal" => "the gateway's log says why; try again once it is fixed",
            _ => "fix the request as the message says",
        };
        Self {
            exit: Exit::of_fault(code),
            message: message.to_owned(),
            code: Some(code.to_owned()),
            help: Some(help.into()),
        }
    }
}
