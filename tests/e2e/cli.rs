//! `outfit`, the operator CLI, against a live gateway: every subcommand, once
//! with an operator certificate and once with a UsernameToken; `--json` parses;
//! a refusal names the missing right and exits 3, as the same request over
//! SOAP is refused; every state-changing call leaves exactly one audit line.

use anyhow::{Context, Result, ensure};
use outfit_tests::{Gateway, bin, build_demo_model, run, wait_for};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const ADMIN_PASSWORD: &str = "administrator passphrase";
const READER_PASSWORD: &str = "read only passphrase";

/// How a call authenticates.
#[derive(Clone, Copy, Debug)]
enum Auth<'a> {
    Certificate { cert: &'a Path, key: &'a Path },
    Password { user: &'a str, password: &'a str },
}

struct Outfit {
    gateway: String,
    ca: PathBuf,
    config: PathBuf,
}

impl Outfit {
    fn command(&self, auth: Auth<'_>, args: &[&str]) -> Command {
        let mut command = Command::new(bin("outfit"));
        command
            .args(args)
            .arg("--gateway")
            .arg(&self.gateway)
            .arg("--ca")
            .arg(&self.ca)
            .env("OUTFIT_CONFIG", &self.config)
            .env_remove("OUTFIT_PASSWORD")
            .stdin(Stdio::null());
        match auth {
            Auth::Certificate { cert, key } => command.arg("--cert").arg(cert).arg("--key").arg(key),
            Auth::Password { user, password } => command.args(["--user", user]).env("OUTFIT_PASSWORD", password),
        };
        command
    }

    fn output(&self, auth: Auth<'_>, args: &[&str]) -> Result<Output> {
        Ok(self.command(auth, args).output()?)
    }

    /// Runs `outfit --json ARGS`, which must succeed; its JSON document.
    fn json(&self, auth: Auth<'_>, args: &[&str]) -> Result<Value> {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.output(auth, &all)?;
        ensure!(
            out.status.success(),
            "outfit {args:?} ({auth:?}) failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .with_context(|| format!("outfit {args:?}: {}", String::from_utf8_lossy(&out.stdout)))
    }

    /// Runs `outfit ARGS`, which must fail with `code`; its standard error.
    fn refused(&self, auth: Auth<'_>, args: &[&str], code: i32) -> Result<String> {
        let out = self.output(auth, args)?;
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        ensure!(
            out.status.code() == Some(code),
            "outfit {args:?}: exit {:?}, wanted {code}: {stderr}",
            out.status.code()
        );
        ensure!(stderr.contains("help: "), "every error says what to do next: {stderr}");
        Ok(stderr)
    }

    /// How many audit lines the gateway holds (read through the CLI).
    fn audit_lines(&self, auth: Auth<'_>) -> Result<usize> {
        let log = self.json(auth, &["audit", "--limit", "10000"])?;
        Ok(log["entry"].as_array().context("entries")?.len())
    }
}

#[test]
fn every_subcommand_works_with_a_certificate_and_with_a_password() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (_database, gateway) = Gateway::start_on_sqlite(dir.path())?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    // The first administrator, with a certificate and (from OUTFIT_PASSWORD) a password.
    let keys = dir.path().join("keys");
    run(Command::new(bin("outfit-gateway"))
        .args(["bootstrap", "root", "--out"])
        .arg(&keys)
        .arg("--dir")
        .arg(&gateway.dir)
        .env("OUTFIT_PASSWORD", ADMIN_PASSWORD))?;
    let (cert, key) = (keys.join("root.pem"), keys.join("root.key"));
    let outfit = Outfit {
        gateway: std::fs::read_to_string(gateway.dir.join("operator.url"))?.trim().to_owned(),
        ca: gateway.dir.join("ca.pem"),
        config: dir.path().join("profiles.toml"),
    };
    let modes =
        [Auth::Certificate { cert: &cert, key: &key }, Auth::Password { user: "root", password: ADMIN_PASSWORD }];
    for (i, auth) in modes.into_iter().enumerate() {
        let device = format!("cli-{i}");
        let d = device.as_str();
        let other = format!("cli-{i}-other");
        let lines = |o: &Outfit| o.audit_lines(auth);
        // Each state-changing call of the API adds exactly one audit line: a
        // command that makes `calls` of them (uploads, then an import) adds that many.
        let audited = |o: &Outfit, args: &[&str], calls: usize| -> Result<Value> {
            let before = lines(o)?;
            let answer = o.json(auth, args)?;
            let added = lines(o)? - before;
            ensure!(added == calls, "outfit {args:?} left {added} audit lines, not {calls}");
            Ok(answer)
        };
        let once = |o: &Outfit, args: &[&str]| audited(o, args, 1);
        let added = once(&outfit, &["device", "add", d, "--site", "demo", "--model", "webserver"])?;
        assert_eq!(added["device"], d);
        once(&outfit, &["device", "add", &other, "--site", "demo", "--model", "webserver"])?;
        let token = once(&outfit, &["device", "token", d, "--site", "demo", "--expires-in", "600"])?;
        assert_eq!(token["token"].as_str().map(str::len), Some(64), "{token}");

        // Enrolment by approval: a real agent asks; one is approved, one rejected.
        let mut asking = gateway.ask_for_approval(d, "demo", &dir.path().join(format!("agent-{i}")))?;
        let rejected = gateway.ask_for_approval(&other, "demo", &dir.path().join(format!("agent-{i}-other")))?;
        let requests = wait_for(Duration::from_secs(30), "two enrolment requests", || {
            let r = outfit.json(auth, &["device", "requests"])?;
            Ok((r["request"].as_array().map_or(0, Vec::len) == 2).then_some(r))
        })?;
        assert_eq!(requests["request"][0]["site"], "demo", "{requests}");
        let approved = once(&outfit, &["device", "approve", d])?;
        assert_eq!(approved["address"], "127.0.0.1", "{approved}");
        once(&outfit, &["device", "reject", &other])?;
        wait_for(Duration::from_secs(30), "the approved agent to take its certificate", || {
            Ok(asking.child.try_wait()?)
        })?;
        drop(rejected);

        let shown = outfit.json(auth, &["device", "show", d])?;
        assert_eq!(shown["summary"]["model"], "webserver", "{shown}");
        let status = outfit.json(auth, &["status", "--search", d])?;
        assert!(status["device"].as_array().unwrap().iter().any(|x| x["name"] == d), "{status}");

        // The queue: provision (the agent is not running: it finds the work later).
        let queued = once(&outfit, &["provision", "--site", "demo", d])?;
        assert_eq!(queued["queued"][0]["commands"], 6, "{queued}");
        assert_eq!(queued["queued"][0]["poked"], "waiting", "{queued}");
        let shown = outfit.json(auth, &["queue", "show", d])?;
        assert_eq!(shown["command"].as_array().unwrap().len(), 6, "{shown}");
        once(&outfit, &["queue", "reboot", d, "--expires-in", "60"])?;
        let aborted = once(&outfit, &["queue", "abort", d])?;
        assert_eq!(aborted["aborted"], 7, "{aborted}");
        // Nothing failed, so there is nothing to retry or skip: refused (one audit line each).
        for action in ["retry", "skip"] {
            let before = lines(&outfit)?;
            let err = outfit.refused(auth, &["queue", action, d], 6)?;
            assert!(err.contains("not halted"), "{err}");
            assert_eq!(lines(&outfit)?, before + 1);
        }
        once(
            &outfit,
            &[
                "model",
                "set-parameter",
                "--site",
                "demo",
                "--model",
                "webserver",
                "--category",
                "CONTENT",
                "--component",
                "site",
                &format!("greeting=hello {i}"),
            ],
        )?;
        // Content: packages, a model, a script and a plug-in bundle, uploaded
        // (with a password, over HTTP Basic) and then imported by digest.
        let model_file = build_demo_model(&dir.path().join(format!("model-{i}")))?;
        let text =
            std::fs::read_to_string(&model_file)?.replace(r#"name = "webserver""#, &format!(r#"name = "shop-{i}""#));
        std::fs::write(&model_file, text)?;
        let uploaded = audited(
            &outfit,
            &[
                "package",
                "upload",
                model_file.with_file_name("build").join("outfit-demo-os_1.0.0_all.deb").to_str().unwrap(),
            ],
            1,
        )?;
        let digest = uploaded[0]["sha256"].as_str().context("a digest")?.to_owned();
        let packages = outfit.json(auth, &["package", "list"])?;
        assert!(packages["package"].as_array().unwrap().iter().any(|p| p["sha256"] == digest.as_str()), "{packages}");
        // The model's packages the gateway lacks are uploaded (the OS package
        // just was, so not it), then one ImportModel; imported again, nothing
        // is uploaded.
        let stored: Vec<String> =
            packages["package"].as_array().unwrap().iter().map(|p| p["sha256"].to_string()).collect();
        let sums =
            run(Command::new("sh").arg("-c").arg("sha256sum *.deb").current_dir(model_file.with_file_name("build")))?;
        let missing = sums.lines().filter(|l| !stored.contains(&format!("\"{}\"", &l[..64]))).count();
        assert!(missing <= 2, "the OS package is stored: {sums} {packages}");
        let imported = audited(&outfit, &["model", "import", model_file.to_str().unwrap()], missing + 1)?;
        assert_eq!((&imported["modelVersion"], &imported["created"]), (&1.into(), &true.into()), "{imported}");
        let again = audited(&outfit, &["model", "import", model_file.to_str().unwrap()], 1)?;
        assert_eq!(again["created"], false, "the same content is no new version: {again}");
        let models = outfit.json(auth, &["model", "list", "--site", "demo"])?;
        assert!(models["model"].as_array().unwrap().iter().any(|m| m["name"] == format!("shop-{i}")), "{models}");
        let shown = outfit.json(auth, &["model", "show", &format!("shop-{i}"), "--site", "demo"])?;
        assert_eq!(shown["role"].as_array().map(Vec::len), Some(3), "{shown}");
        assert_eq!(shown["role"][0]["component"][0]["sha256"], digest.as_str(), "{shown}");
        let script = dir.path().join(format!("script-{i}.toml"));
        std::fs::write(
            &script,
            format!(
                "site = \"demo\"\nname = \"restart-{i}\"\n[[steps]]\nkind = \"service\"\nname = \"nginx\"\naction = \"restart\"\n"
            ),
        )?;
        assert_eq!(once(&outfit, &["script", "import", script.to_str().unwrap()])?["steps"], 1);
        let ran = once(&outfit, &["script", "run", &format!("restart-{i}"), "--site", "demo", d])?;
        assert_eq!(ran["queued"][0]["commands"], 1, "{ran}");
        let bundle = dir.path().join(format!("bundle-{i}"));
        std::fs::create_dir_all(&bundle)?;
        std::fs::write(bundle.join("manifest.toml"), "name = \"fake\"\nversion = \"1.0.0\"\n")?;
        std::fs::write(bundle.join("plugin.wasm"), b"\0asm")?;
        std::fs::write(bundle.join("signature"), "00")?;
        let installed = audited(&outfit, &["plugin", "install", bundle.to_str().unwrap(), "--site", "demo", d], 2)?;
        assert_eq!((&installed["name"], &installed["version"]), (&"fake".into(), &"1.0.0".into()), "{installed}");
        let listed = outfit.json(auth, &["device", "list", "--site", "demo", "--limit", "1"])?;
        assert_eq!(listed["device"].as_array().map(Vec::len), Some(1), "paged: {listed}");
        assert!(listed["total"].as_i64() > Some(1), "{listed}");

        let scripts = outfit.json(auth, &["script", "list"])?;
        assert!(scripts["script"].as_array().unwrap().iter().any(|s| s["name"] == format!("restart-{i}")), "{scripts}");
        let missing = outfit.refused(auth, &["script", "run", "nope", "--site", "demo", d], 4)?;
        assert!(missing.contains("no script named `nope`"), "{missing}");
        let rolled = once(&outfit, &["plugin", "rollback", "files", "--site", "demo", d])?;
        assert_eq!(rolled["queued"][0]["device"], d, "{rolled}");
        let revoked = once(&outfit, &["device", "revoke", d])?;
        assert_eq!(revoked["revoked"], 1, "{revoked}");

        // Operators, groups, rights, certificates.
        let reader = format!("reader-{i}");
        let new = outfit
            .command(auth, &["--json", "operator", "add", &reader])
            .env("OUTFIT_NEW_PASSWORD", READER_PASSWORD)
            .output()?;
        ensure!(new.status.success(), "{}", String::from_utf8_lossy(&new.stderr));
        let granted = once(&outfit, &["operator", "grant", &reader, "--action", "read", "--site", "demo"])?;
        assert_eq!(granted["right"], format!("operator {reader} may now read all roles of site demo"));
        let group = format!("deployers-{i}");
        assert_eq!(once(&outfit, &["group", "add", &group])?["created"], true);
        once(&outfit, &["group", "join", &group, &reader])?;
        once(&outfit, &["group", "grant", &group, "--action", "deploy", "--site", "demo", "--category", "APP"])?;
        let certs = dir.path().join(format!("certs-{i}"));
        let written = once(&outfit, &["operator", "cert", &reader, "--out", certs.to_str().unwrap()])?;
        assert!(written["key"].as_str().unwrap().ends_with(&format!("{reader}.key")), "{written}");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(certs.join(format!("{reader}.key")))?.permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the private key is the owner's alone");
        // The reader's certificate works, and may read but not deploy everything.
        let (reader_cert, reader_key) = (certs.join(format!("{reader}.pem")), certs.join(format!("{reader}.key")));
        let reader_auth = Auth::Certificate { cert: &reader_cert, key: &reader_key };
        outfit.json(reader_auth, &["status"])?;
        let before = lines(&outfit)?;
        let refused =
            outfit.refused(reader_auth, &["device", "add", "nope-1", "--site", "demo", "--model", "webserver"], 3)?;
        assert!(
            refused.contains("no right to deploy every role category of site `demo`")
                && refused.contains("(Forbidden)"),
            "{refused}"
        );
        assert_eq!(lines(&outfit)?, before + 1, "a refusal is audited once");
        assert_eq!(once(&outfit, &["operator", "revoke", &reader])?["revoked"], 1);
        outfit.refused(reader_auth, &["status"], 3)?;

        let audit = outfit.json(auth, &["audit", "--action", "AddDevice", "--outcome", "allowed"])?;
        let entries = audit["entry"].as_array().unwrap();
        assert!(entries.iter().any(|e| e["object"] == d && e["principal"] == "root"), "{audit}");
        assert!(
            entries.iter().all(|e| e["time"].as_str().is_some_and(|t| t.ends_with('Z') && t.len() == 24)),
            "ISO-8601: {audit}"
        );
    }

    // Bad input: a wrong password, an unknown device, an unreachable gateway, no credentials.
    let wrong = Auth::Password { user: "root", password: "not the passphrase" };
    assert!(outfit.refused(wrong, &["status"], 3)?.contains("unknown operator or wrong password"));
    let admin = Auth::Certificate { cert: &cert, key: &key };
    assert!(outfit.refused(admin, &["device", "show", "ghost"], 4)?.contains("no device `ghost`"));
    let away = Outfit { gateway: "https://127.0.0.1:9".into(), ca: outfit.ca.clone(), config: outfit.config.clone() };
    assert!(away.refused(admin, &["status"], 7)?.contains("cannot reach the gateway"));
    let bare = Command::new(bin("outfit"))
        .arg("status")
        .env("OUTFIT_CONFIG", &outfit.config)
        .env_remove("OUTFIT_GATEWAY")
        .output()?;
    assert_eq!(bare.status.code(), Some(2), "{}", String::from_utf8_lossy(&bare.stderr));

    // Profiles and completions.
    let saved = outfit.command(admin, &["profile", "set", "lab"]).output()?;
    ensure!(saved.status.success(), "{}", String::from_utf8_lossy(&saved.stderr));
    let via_profile = Command::new(bin("outfit"))
        .args(["--json", "--profile", "lab", "status"])
        .env("OUTFIT_CONFIG", &outfit.config)
        .output()?;
    ensure!(via_profile.status.success(), "{}", String::from_utf8_lossy(&via_profile.stderr));
    let listed: Value = serde_json::from_slice(
        &Command::new(bin("outfit"))
            .args(["--json", "profile", "list"])
            .env("OUTFIT_CONFIG", &outfit.config)
            .output()?
            .stdout,
    )?;
    assert_eq!(listed["lab"]["gateway"], outfit.gateway.as_str(), "{listed}");
    let completions = run(Command::new(bin("outfit")).args(["completions", "bash"]))?;
    assert!(completions.contains("outfit") && completions.contains("provision"), "a bash completion script");
    Ok(())
}

/// The same refusal over SOAP (a client we did not write: zeep) and over the CLI.
#[test]
fn a_refusal_is_the_same_over_soap_and_the_cli() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (_database, gateway) = Gateway::start_on_sqlite(dir.path())?;
    gateway.import_demo_model(&dir.path().join("model"))?;
    gateway.add_operator("limited", READER_PASSWORD)?;
    gateway.cli(&["operator", "grant", "limited", "--action", "read", "--site", "demo"])?;
    let soap = crate::operators::call_operator(
        &gateway,
        "limited",
        READER_PASSWORD,
        None,
        "AddDevice",
        &[("site", "demo"), ("device", "x-1"), ("model", "webserver")],
    )?;
    let outfit = Outfit {
        gateway: std::fs::read_to_string(gateway.dir.join("operator.url"))?.trim().to_owned(),
        ca: gateway.dir.join("ca.pem"),
        config: dir.path().join("profiles.toml"),
    };
    let auth = Auth::Password { user: "limited", password: READER_PASSWORD };
    let cli = outfit.refused(auth, &["device", "add", "x-1", "--site", "demo", "--model", "webserver"], 3)?;
    let message = "no right to deploy every role category of site `demo`";
    assert!(soap.contains(r#""detail": "Forbidden""#) && soap.contains(message), "{soap}");
    assert!(cli.contains(message) && cli.contains("(Forbidden)"), "{cli}");
    Ok(())
}
