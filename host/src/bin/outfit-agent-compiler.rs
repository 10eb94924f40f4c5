//! `outfit-agent-compiler`: compiles one plug-in into an agent's cache and
//! exits, for an agent built without Cranelift, which runs it as a child
//! (`plugin::cache`). Installed beside the agent; not for people to run.

fn main() -> std::process::ExitCode {
    outfit_agent::plugin::cache::compiling_child().unwrap_or_else(|| {
        eprintln!(
            "usage: outfit-agent-compiler {} BACKEND WASM ENTRY (run by outfit-agent, not by hand)",
            outfit_agent::plugin::cache::COMPILE_ARG
        );
        std::process::ExitCode::from(2)
    })
}
