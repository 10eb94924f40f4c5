//! Where a plug-in's allowed commands really run: the one OS effect that is
//! not a file under the device root. [`System`] starts the program on this
//! machine; [`Recording`] records the argv and answers from a script, for the
//! contract tests of plug-ins whose OS cannot exist here (msiexec, pkgadd,
//! svcadm, netsh): they check the exact argv sequence and the files written.
//!
//! **Invariant:** the policy check runs before either is asked anything; an
//! `Os` never sees a command the manifest does not grant.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// Output kept per stream of a command; the rest is cut so a chatty program
/// cannot exhaust the agent's memory.
const MAX_OUTPUT: u64 = 1 << 20;

/// How a program ended, with its (capped) output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs programs for plug-ins.
pub trait Os: Send + Sync + std::fmt::Debug {
    /// The program file `name` stands for, looked up only in the system's own
    /// directories (never a plug-in's PATH); `None` if it is not installed.
    fn locate(&self, name: &str) -> Option<PathBuf>;
    /// Runs `program` with `argv[1..]`, no shell, a clean environment.
    fn run(&self, program: &Path, argv: &[String]) -> Result<Output, String>;
}

/// This machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct System;

/// Where programs are looked up.
#[cfg(unix)]
pub const SYSTEM_PATH: &[&str] = &["/usr/sbin", "/usr/bin", "/sbin", "/bin"];
#[cfg(windows)]
pub const SYSTEM_PATH: &[&str] = &[r"C:\Windows\System32", r"C:\Windows"];

fn capped(reader: impl Read) -> String {
    let mut buffer = Vec::new();
    let _ = reader.take(MAX_OUTPUT).read_to_end(&mut buffer);
    String::from_utf8_lossy(&buffer).into_owned()
}

impl Os for System {
    fn locate(&self, name: &str) -> Option<PathBuf> {
        let candidates = |dir: &&str| {
            let plain = Path::new(dir).join(name);
            let exe = Path::new(dir).join(format!("{name}.exe"));
            [plain, exe]
        };
        SYSTEM_PATH.iter().flat_map(candidates).find(|candidate| candidate.is_file())
    }

    fn run(&self, program: &Path, argv: &[String]) -> Result<Output, String> {
        let mut command = Command::new(program);
        command.args(&argv[1..]).env_clear().env("PATH", std::env::join_paths(SYSTEM_PATH).unwrap_or_default());
        command.env("LC_ALL", "C");
        // Windows programs look for their system directory through these.
        #[cfg(windows)]
        for name in ["SystemRoot", "windir"] {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("start {}: {e}", program.display()))?;
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let err_reader = std::thread::spawn(move || capped(stderr));
        let out = capped(stdout);
        let err = err_reader.join().unwrap_or_default();
        let status = child.wait().map_err(|e| format!("wait for {}: {e}", program.display()))?;
        Ok(Output { status: status.code().unwrap_or(-1), stdout: out, stderr: err })
    }
}

/// A scripted OS for contract tests: every program "exists", each run is
/// recorded, and the answer is the first scripted one whose argv starts with
/// its words and whose turn has come (status 0 and no output when none).
#[derive(Debug, Default)]
pub struct Recording {
    answers: Vec<Answer>,
    runs: Mutex<Vec<Vec<String>>>,
}

#[derive(Debug)]
struct Answer {
    prefix: Vec<String>,
    /// Runs with this prefix that must have happened before this answer applies.
    after: usize,
    output: Output,
}

impl Recording {
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers a run whose argv starts with `prefix`.
    pub fn answer(self, prefix: &[&str], status: i32, stdout: &str) -> Self {
        self.answer_after(prefix, 0, status, stdout)
    }

    /// Answers a run whose argv starts with `prefix` once `after` such runs
    /// have happened (the state a real tool would show after a change).
    pub fn answer_after(mut self, prefix: &[&str], after: usize, status: i32, stdout: &str) -> Self {
        let output = Output { status, stdout: stdout.to_owned(), stderr: String::new() };
        self.answers.push(Answer { prefix: prefix.iter().map(|s| s.to_string()).collect(), after, output });
        self
    }

    /// Every argv run so far, in order.
    pub fn runs(&self) -> Vec<Vec<String>> {
        self.runs.lock().expect("runs").clone()
    }
}

impl Os for Recording {
    fn locate(&self, name: &str) -> Option<PathBuf> {
        Some(PathBuf::from("/recorded").join(name))
    }

    fn run(&self, _program: &Path, argv: &[String]) -> Result<Output, String> {
        let mut runs = self.runs.lock().expect("runs");
        let earlier = |prefix: &[String]| runs.iter().filter(|run| run.starts_with(prefix)).count();
        let answer = self
            .answers
            .iter()
            .find(|a| argv.starts_with(&a.prefix) && earlier(&a.prefix) >= a.after)
            .map(|a| a.output.clone());
        runs.push(argv.to_vec());
        Ok(answer.unwrap_or(Output { status: 0, stdout: String::new(), stderr: String::new() }))
    }
}
