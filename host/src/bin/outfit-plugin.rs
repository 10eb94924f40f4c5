//! `outfit-plugin`: makes signing keys, signs plug-in bundles and checks them
//! the way the agent will. A bundle is a directory with `plugin.wasm` and
//! `manifest.toml`; signing adds `signature`. `bench` measures what a plug-in
//! call costs on each backend.

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
    /// Compile a signed bundle's component ahead of time for each TARGET and sign
    /// the machine code (with the component, manifest, target and wasmtime
    /// version), for agents built without the compiler. TARGET is an agent's
    /// target triple (x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu,
    /// x86_64-pc-windows-gnu, x86_64-unknown-illumos, …) or pulley64 /
    /// pulley64be for agents that run plug-ins on the interpreter.
    Precompile {
        #[arg(long)]
        key: PathBuf,
        #[arg(long = "target", required = true)]
        targets: Vec<String>,
        bundle: PathBuf,
    },
    /// Check a bundle's signature against a trusted-keys file, as the agent does.
    Verify {
        #[arg(long)]
        trusted_keys: PathBuf,
        bundle: PathBuf,
    },
    /// Measure the built-in Debian plug-in on Cranelift and on Pulley: compile
    /// (cold), load from the agent's cache (warm), and a call through the
    /// pre-instantiated path (fresh store and instance each, as the agent does).
    Bench {
        /// Calls measured per backend and call kind.
        #[arg(long, default_value_t = 2000)]
        calls: usize,
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
        Cmd::Precompile { key, targets, bundle } => {
            let pkcs8 = std::fs::read(&key).with_context(|| format!("read {}", key.display()))?;
            let public = signature::public_key(&pkcs8)?;
            // The bundle must already be what its signer vouched for: the
            // artifact is signed as the compilation of exactly these bytes.
            let trusted = TrustedKeys::from_keys([public.clone()])?;
            let verified = Bundle { dir: bundle.clone() }.verify(&trusted).with_context(|| {
                format!("{} is not signed by this key (run `outfit-plugin sign` first)", bundle.display())
            })?;
            for target in &targets {
                let code = outfit_agent::plugin::precompile(target, &verified.component).with_context(|| {
                    format!(
                        "precompile {} for {target} (this tool generates code for {} and pulley64/pulley64be; \
                         other architectures need a build with wasmtime's `all-arch` feature)",
                        bundle.display(),
                        std::env::consts::ARCH
                    )
                })?;
                Bundle { dir: bundle.clone() }.sign_precompiled(&pkcs8, target, &code)?;
                println!(
                    "{}: precompiled for {target} ({} bytes), signed with key {public}",
                    bundle.display(),
                    code.len()
                );
            }
        }
        Cmd::Bench { calls } => bench::run(calls)?,
        Cmd::Verify { trusted_keys, bundle } => {
            let trusted = TrustedKeys::load(&trusted_keys)?;
            Bundle { dir: bundle.clone() }.verify(&trusted).with_context(|| format!("{} refused", bundle.display()))?;
            println!("{}: signature verifies under a trusted key", bundle.display());
        }
    }
    Ok(())
}

mod bench {
    use anyhow::{Context, Result};
    use outfit_agent::plugin::cache::CompileCache;
    use outfit_agent::plugin::signature::{self, Bundle, TrustedKeys};
    use outfit_agent::plugin::{Backend, CallContext, ConfigFile, DEBIAN_MANIFEST, DEBIAN_WASM, Parameter, Plugin};
    use std::time::{Duration, Instant};

    fn median(mut samples: Vec<Duration>) -> Duration {
        samples.sort();
        samples[samples.len() / 2]
    }

    fn p99(mut samples: Vec<Duration>) -> Duration {
        samples.sort();
        samples[(samples.len() * 99 / 100).min(samples.len() - 1)]
    }

    fn time<T>(f: impl FnOnce() -> T) -> (Duration, T) {
        let started = Instant::now();
        let value = f();
        (started.elapsed(), value)
    }

    struct Figures {
        compile: Duration,
        cached: Duration,
        signed: Duration,
        describe: (Duration, Duration),
        configure: (Duration, Duration),
    }

    fn measure(backend: Backend, calls: usize) -> Result<Figures> {
        let dir = tempfile::tempdir()?;
        let compile =
            median((0..3).map(|_| time(|| Plugin::load_on(backend, DEBIAN_WASM, DEBIAN_MANIFEST, None)).0).collect());
        let cache = CompileCache::new(dir.path().join("cache"));
        Plugin::load_on(backend, DEBIAN_WASM, DEBIAN_MANIFEST, Some(&cache))?;
        let mut loads = Vec::new();
        let mut plugin = None;
        for _ in 0..10 {
            let (took, loaded) = time(|| Plugin::load_on(backend, DEBIAN_WASM, DEBIAN_MANIFEST, Some(&cache)));
            loads.push(took);
            plugin = Some(loaded?);
        }
        let plugin = plugin.expect("loaded ten times");
        let signed = signed_load(backend, dir.path(), &cache)?;
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("etc"))?;
        let ctx = CallContext {
            device: "bench".into(),
            command: "0".into(),
            root: root.clone(),
            spool: root.join("spool"),
            repository: None,
        };
        let file = ConfigFile {
            path: "/etc/bench.conf".into(),
            template: "listen = {{ port }}\n{% for i in range(20) %}line {{ i }}\n{% endfor %}".into(),
            parameters: vec![Parameter { name: "port".into(), value: "8080".into() }],
        };
        let mut describe = Vec::with_capacity(calls);
        let mut configure = Vec::with_capacity(calls);
        for _ in 0..calls {
            let (took, info) = time(|| plugin.describe(&ctx));
            info?;
            describe.push(took);
            let (took, done) = time(|| plugin.configure(&ctx, &file));
            done?.map_err(anyhow::Error::msg)?;
            configure.push(took);
        }
        Ok(Figures {
            compile,
            cached: median(loads),
            signed,
            describe: (median(describe.clone()), p99(describe)),
            configure: (median(configure.clone()), p99(configure)),
        })
    }

    /// What a runtime-only agent pays to load the plug-in: verify the bundle
    /// and its precompiled artifact, then map the code (median of ten).
    fn signed_load(backend: Backend, dir: &std::path::Path, cache: &CompileCache) -> Result<Duration> {
        let (pkcs8, public) = signature::generate_key()?;
        let bundle = Bundle { dir: dir.join("bundle") };
        std::fs::create_dir_all(&bundle.dir)?;
        std::fs::write(bundle.dir.join(signature::COMPONENT_FILE), DEBIAN_WASM)?;
        std::fs::write(bundle.dir.join(signature::MANIFEST_FILE), DEBIAN_MANIFEST)?;
        bundle.sign(&pkcs8)?;
        let target = backend.target();
        bundle.sign_precompiled(&pkcs8, target, &outfit_agent::plugin::precompile(target, DEBIAN_WASM)?)?;
        let trusted = TrustedKeys::from_keys([public])?;
        let mut loads = Vec::new();
        for _ in 0..10 {
            let (took, loaded) = time(|| -> Result<Plugin> {
                let verified = bundle.verify(&trusted)?;
                let code = verified.precompiled(target, &trusted)?.context("the artifact is missing")?;
                Ok(Plugin::load_precompiled(backend, &code, &verified.manifest, Some(cache))?)
            });
            loaded?;
            loads.push(took);
        }
        Ok(median(loads))
    }

    pub fn run(calls: usize) -> Result<()> {
        anyhow::ensure!(calls > 0, "--calls must be at least 1");
        let micros = |d: Duration| d.as_secs_f64() * 1e6;
        let millis = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "debian plug-in, {calls} calls per kind; describe is a no-op call, configure renders a template and writes a file"
        );
        println!(
            "{:<8} {:>12} {:>16} {:>16} {:>22} {:>22}",
            "backend", "compile ms", "cached load ms", "signed load ms", "describe p50/p99 µs", "configure p50/p99 µs"
        );
        let mut figures = Vec::new();
        for (name, backend) in [("native", Backend::Native), ("pulley", Backend::Pulley)] {
            let f = measure(backend, calls)?;
            println!(
                "{name:<8} {:>12.1} {:>16.2} {:>16.2} {:>22} {:>22}",
                millis(f.compile),
                millis(f.cached),
                millis(f.signed),
                format!("{:.0}/{:.0}", micros(f.describe.0), micros(f.describe.1)),
                format!("{:.0}/{:.0}", micros(f.configure.0), micros(f.configure.1)),
            );
            figures.push(f);
        }
        let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
        println!(
            "pulley / native: describe {:.1}×, configure {:.1}× (p50)",
            ratio(figures[1].describe.0, figures[0].describe.0),
            ratio(figures[1].configure.0, figures[0].configure.0)
        );
        Ok(())
    }
}
