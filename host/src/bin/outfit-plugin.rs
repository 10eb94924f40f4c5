//! `outfit-plugin`: makes signing keys, signs plug-in bundles and checks them
//! the way the agent will. A bundle is a directory with `plugin.wasm` and
//! `manifest.toml`; signing adds `signature`.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use outfit_agent::plugin::signature::{self, Bundle, TrustedKeys};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "outfit-plugin", version, about = "Sign Outfit plug-in bundles and check their signatures")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create an ed25519 signing key (PKCS#8, written 0600); prints its public key,
    /// which goes into the agents' --trusted-keys file.
    Keygen {
        #[arg(long)]
        key: PathBuf,
    },
    /// Sign a bundle (its component and manifest together).
    Sign {
        #[arg(long)]
        key: PathBuf,
        bundle: PathBuf,
    },
    /// Check a bundle's signature against a trusted-keys file, as the agent does.
    Verify {
        #[arg(long)]
        trusted_keys: PathBuf,
        bundle: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Cmd::Keygen { key } => {
            anyhow::ensure!(!key.exists(), "{} exists; refusing to overwrite a signing key", key.display());
            let (pkcs8, public) = signature::generate_key()?;
            outfit_agent::identity::write_private(&key, &pkcs8).with_context(|| format!("write {}", key.display()))?;
            println!("{public}");
        }
        Cmd::Sign { key, bundle } => {
            let pkcs8 = std::fs::read(&key).with_context(|| format!("read {}", key.display()))?;
            Bundle { dir: bundle.clone() }.sign(&pkcs8)?;
            println!("signed {} with key {}", bundle.display(), signature::public_key(&pkcs8)?);
        }
        Cmd::Verify { trusted_keys, bundle } => {
            let trusted = TrustedKeys::load(&trusted_keys)?;
            Bundle { dir: bundle.clone() }.verify(&trusted).with_context(|| format!("{} refused", bundle.display()))?;
            println!("{}: signature verifies under a trusted key", bundle.display());
        }
    }
    Ok(())
}
