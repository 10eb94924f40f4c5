//! Storage tests on both backends: a fresh SQLite file and a fresh MariaDB
//! database per test (dropped afterwards).

use super::queue::state;
use super::schema::*;
use super::*;
use outfit_domain::enrolment::{EnrolmentRequest, RequestState};
use outfit_domain::ids::DeviceId;
use outfit_domain::model::{Component, ConfigFile, ImportedModel, Model, PackageRef, ParameterChange, Role};
use outfit_domain::queue::{CommandState, Head, NewCommand, Recorded, Reported};
use outfit_domain::rights::{Action, Holder, Scope};

mod causal;
mod federation;
mod file_servers;
mod inventory;
mod rollouts;
mod sessions;

/// A MariaDB database created for one test and dropped with it.
struct TestMysql {
    server: String,
    name: String,
}

impl TestMysql {
    fn new(tag: &str) -> Self {
        use diesel::Connection as _;
        let server = std::env::var("OUTFIT_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
        let name = format!("outfit_unit_{tag}_{}_{}", std::process::id(), now_ms() % 1_000_000);
        let mut admin = diesel::mysql::MysqlConnection::establish(&server)
            .expect("connect to MariaDB on 127.0.0.1:3306 (see README: test setup)");
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin).unwrap();
        Self { server, name }
    }

    fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }
}

impl Drop for TestMysql {
    fn drop(&mut self) {
        use diesel::Connection as _;
        if let Ok(mut admin) = diesel::mysql::MysqlConnection::establish(&self.server) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {}", self.name)).execute(&mut admin);
        }
    }
}

fn component(name: &str, version: &str) -> Component {
    let digest = format!("{:0>64}", version.replace('.', ""));
    Component {
        name: name.into(),
        package: PackageRef {
            name: format!("pkg-{name}"),
            version: version.into(),
            format: "deb".into(),
            sha256: digest.clone(),
            size: 10,
            storage_key: digest,
        },
        config: Some(ConfigFile {
            path: format!("/etc/{name}.conf"),
            template: "x={{ x }}\n".into(),
            attributes: Default::default(),
        }),
        plugin: None,
        parameters: vec![("x".into(), "1".into())],
    }
}

fn model(app_version: &str) -> Model {
    Model {
        site: "s".into(),
        name: "m".into(),
        roles: vec![
            Role { category: "CONTENT".into(), name: "content".into(), components: vec![component("site", "3.0")] },
            Role { category: "OS".into(), name: "os".into(), components: vec![component("base", "1.0")] },
            Role { category: "APP".into(), name: "app".into(), components: vec![component("web", app_version)] },
        ],
    }
}

fn exercise(storage: &Storage) {
    // Import is idempotent; a change adds versions and never edits old rows.
    let v1 = storage.import_model(&model("2.0"), &by()).unwrap();
    assert_eq!((v1.version, v1.created), (1, true));
    assert_eq!(storage.import_model(&model("2.0"), &by()).unwrap(), ImportedModel { created: false, ..v1.clone() });
    let v2 = storage.import_model(&model("2.1"), &by()).unwrap();
    assert_eq!((v2.version, v2.created), (2, true));

    // Desired components come in category order whatever the file order.
    let desired = storage.desired_components(v1.model_version_id).unwrap();
    let order: Vec<_> = desired.iter().map(|d| (d.category.as_str(), d.component.package.version.as_str())).collect();
    assert_eq!(order, [("OS", "1.0"), ("APP", "2.0"), ("CONTENT", "3.0")]);
    assert_eq!(storage.desired_components(v2.model_version_id).unwrap()[1].component.package.version, "2.1");

    let device = storage.add_device("s", "d1", "m").unwrap();
    assert_eq!(device.desired, Some(v2.model_version_id));
    assert_eq!(storage.current_model_version(device.model).unwrap(), Some(v2.model_version_id));
    assert!(matches!(storage.add_device("s", "d1", "m"), Err(StorageError::Invalid(_))));
    assert!(matches!(storage.add_device("s", "d2", "nope"), Err(StorageError::NotFound { .. })));

    let cmd = |k: &str| NewCommand { kind: k.into(), payload: "{}".into(), expires_at: None };
    let ids = storage.enqueue(device.id, Some(v2.model_version_id), &[cmd("a"), cmd("b"), cmd("c")]).unwrap();
    let Head::Command(first) = storage.next_command(device.id).unwrap() else { panic!("expected a command") };
    assert_eq!((first.id, first.sequence, first.attempts), (ids[0], 1, 1));
    // Not acknowledged: handed out again, never skipped.
    let Head::Command(again) = storage.next_command(device.id).unwrap() else { panic!() };
    assert_eq!((again.id, again.attempts), (ids[0], 2));
    assert_eq!(storage.record_result(device.id, ids[0], Reported::Succeeded, "ok").unwrap(), Recorded::Final);
    assert_eq!(storage.record_result(device.id, ids[0], Reported::Failed, "late").unwrap(), Recorded::Repeated);
    // A command not yet handed out cannot be reported.
    assert!(storage.record_result(device.id, ids[2], Reported::Succeeded, "early").is_err());
    let Head::Command(second) = storage.next_command(device.id).unwrap() else { panic!() };
    assert_eq!(second.id, ids[1]);
    storage.record_result(device.id, ids[1], Reported::Failed, "boom").unwrap();
    assert_eq!(storage.next_command(device.id).unwrap(), Head::Halted);
    let counts = storage.queue_counts(device.id).unwrap();
    assert_eq!((counts.succeeded, counts.failed, counts.pending), (1, 1, 1));
    let rows = storage.commands(device.id).unwrap();
    assert_eq!(rows[0].result.as_deref(), Some("ok"), "a repeated report does not overwrite the result");
    assert_eq!(storage.device("d1").unwrap().unwrap().applied, None);

    // Operator actions on the halted queue.
    assert_eq!(storage.retry_failed(device.id).unwrap(), ids[1]);
    let Head::Command(retried) = storage.next_command(device.id).unwrap() else { panic!() };
    assert_eq!((retried.id, retried.attempts, retried.run), (ids[1], 2, 2), "a retry keeps the id, runs anew");
    storage.record_result(device.id, ids[1], Reported::Failed, "boom again").unwrap();
    assert_eq!(storage.skip_failed(device.id).unwrap(), ids[1]);
    assert!(storage.skip_failed(device.id).is_err(), "nothing left to skip");
    let Head::Command(third) = storage.next_command(device.id).unwrap() else { panic!() };
    assert_eq!(third.id, ids[2]);
    storage.record_result(device.id, ids[2], Reported::Succeeded, "ok").unwrap();
    assert_eq!(storage.next_command(device.id).unwrap(), Head::Empty);
    assert_eq!(
        storage.device("d1").unwrap().unwrap().applied,
        None,
        "a skipped command means the device does not equal its model"
    );
    let more = storage.enqueue(device.id, Some(v2.model_version_id), &[cmd("d"), cmd("e")]).unwrap();
    assert_eq!(storage.abort_queue(device.id).unwrap(), 2);
    assert_eq!(storage.next_command(device.id).unwrap(), Head::Empty);
    assert_eq!(storage.commands(device.id).unwrap().iter().filter(|c| more.contains(&c.id)).count(), 2);
    // Provisioning again, all of it succeeding, makes the device match: the
    // skipped and aborted commands of earlier provisionings no longer count.
    let again = storage.enqueue(device.id, Some(v2.model_version_id), &[cmd("f")]).unwrap();
    storage.next_command(device.id).unwrap();
    storage.record_result(device.id, again[0], Reported::Succeeded, "ok").unwrap();
    assert_eq!(storage.device("d1").unwrap().unwrap().applied, Some(v2.model_version_id));

    // Reboot: the queue waits in `rebooting` until a Hello with a new boot id.
    let d2 = storage.add_device("s", "d2", "m").unwrap();
    assert_eq!(storage.record_hello(d2.id, "boot-1", "t", None, None).unwrap(), (None, 0));
    let ids = storage.enqueue(d2.id, None, &[cmd("install"), cmd("reboot"), cmd("configure")]).unwrap();
    storage.next_command(d2.id).unwrap();
    assert!(storage.record_result(d2.id, ids[0], Reported::RebootUnderway, "x").is_err(), "only a reboot may");
    storage.record_result(d2.id, ids[0], Reported::Succeeded, "ok").unwrap();
    storage.next_command(d2.id).unwrap();
    storage.record_result(d2.id, ids[1], Reported::RebootUnderway, "going down").unwrap();
    assert_eq!(storage.next_command(d2.id).unwrap(), Head::Rebooting);
    assert_eq!(storage.queue_counts(d2.id).unwrap().rebooting, 1);
    assert_eq!(storage.overdue_reboots(0).unwrap().len(), 1);
    assert!(storage.overdue_reboots(3_600_000).unwrap().is_empty());
    // Same boot id: a reconnect; the reboot is still under way.
    // The Hello tells the agent of the commands waiting for it: `configure`,
    // not the finished `install` nor the reboot it is in the middle of.
    assert_eq!(storage.record_hello(d2.id, "boot-1", "t", None, None).unwrap(), (None, 1));
    assert_eq!(storage.next_command(d2.id).unwrap(), Head::Rebooting);
    assert_eq!(storage.record_hello(d2.id, "boot-2", "t", None, None).unwrap(), (Some(ids[1]), 1));
    let Head::Command(next) = storage.next_command(d2.id).unwrap() else { panic!("queue should resume") };
    assert_eq!(next.id, ids[2]);
    assert!(storage.commands(d2.id).unwrap()[1].result.as_deref().unwrap().contains("boot-1 -> boot-2"));
    storage.record_result(d2.id, ids[2], Reported::Succeeded, "ok").unwrap();

    // Expiry: commands for an offline device with a deadline in the past close
    // as expired, at hand-out or by the sweep; later commands still run.
    let d3 = storage.add_device("s", "d3", "m").unwrap();
    let past = NewCommand { expires_at: Some(now_ms() - 1), ..cmd("install") };
    let later = NewCommand { expires_at: Some(now_ms() + 3_600_000), ..cmd("configure") };
    let ids = storage.enqueue(d3.id, None, &[past.clone(), past, later, cmd("configure")]).unwrap();
    let no_timeouts = std::collections::BTreeMap::new();
    assert_eq!(storage.sweep(&no_timeouts).unwrap().expired, 2, "the sweep closes both overdue commands");
    let Head::Command(head) = storage.next_command(d3.id).unwrap() else { panic!("the unexpired command goes out") };
    assert_eq!(head.id, ids[2]);
    let rows = storage.commands(d3.id).unwrap();
    assert_eq!((rows[0].state.as_str(), rows[1].state.as_str()), (state::EXPIRED, state::EXPIRED));
    storage.record_result(d3.id, ids[2], Reported::Succeeded, "ok").unwrap();
    let Head::Command(fourth) = storage.next_command(d3.id).unwrap() else { panic!() };
    storage.record_result(d3.id, fourth.id, Reported::Succeeded, "ok").unwrap();
    // Without the sweep, the hand-out itself passes over an expired head.
    let expired = NewCommand { expires_at: Some(now_ms() - 1), ..cmd("install") };
    let ids = storage.enqueue(d3.id, None, &[expired, cmd("configure")]).unwrap();
    let Head::Command(head) = storage.next_command(d3.id).unwrap() else { panic!() };
    assert_eq!(head.id, ids[1]);
    assert_eq!(storage.commands(d3.id).unwrap()[4].state, CommandState::Expired);

    // Timeout: a handed-out command unanswered past its kind's limit halts the
    // queue; a late result still counts; retry and skip act on it.
    let timeouts: std::collections::BTreeMap<String, u64> = [("configure".to_owned(), 0)].into();
    assert_eq!(storage.sweep(&timeouts).unwrap().timed_out, vec![(head.id, d3.id, "configure".to_owned())]);
    assert_eq!(storage.next_command(d3.id).unwrap(), Head::Halted);
    assert_eq!(storage.queue_counts(d3.id).unwrap().timed_out, 1);
    assert_eq!(storage.record_result(d3.id, head.id, Reported::Succeeded, "late").unwrap(), Recorded::Final);
    assert_eq!(storage.next_command(d3.id).unwrap(), Head::Empty);
    let ids = storage.enqueue(d3.id, None, &[cmd("configure")]).unwrap();
    storage.next_command(d3.id).unwrap();
    assert_eq!(storage.sweep(&timeouts).unwrap().timed_out.len(), 1);
    assert_eq!(storage.skip_failed(d3.id).unwrap(), ids[0]);
    assert_eq!(storage.next_command(d3.id).unwrap(), Head::Empty);

    // Each kind by its own limit, in one sweep: an `install` within its hour
    // stays out, a `configure` past its zero seconds times out, and a kind
    // without a limit never does.
    let out = |name: &str, kind: &str| {
        let device = storage.add_device("s", name, "m").unwrap();
        let id = storage.enqueue(device.id, None, &[cmd(kind)]).unwrap()[0];
        assert!(matches!(storage.next_command(device.id).unwrap(), Head::Command(c) if c.id == id));
        (device.id, id)
    };
    let (d4, _) = out("d4", "install");
    let (d5, configure) = out("d5", "configure");
    let (d6, _) = out("d6", "inventory");
    let timeouts: std::collections::BTreeMap<String, u64> =
        [("install".to_owned(), 3600), ("configure".to_owned(), 0)].into();
    assert_eq!(storage.sweep(&timeouts).unwrap().timed_out, vec![(configure, d5, "configure".to_owned())]);
    let sent = |device| storage.commands(device).unwrap()[0].state == CommandState::Sent;
    assert!(sent(d4) && sent(d6), "commands within their limit, or without one, stay out");
}

/// The database's generated `in_queue` flag, which the head-of-queue lookup
/// reads, says open for exactly the states of `state::OPEN`, on both backends.
fn in_queue_follows_the_open_states(storage: &Storage) {
    let device = storage.add_device("s", "flags", "m").unwrap();
    let command = NewCommand { kind: "configure".into(), payload: "{}".into(), expires_at: None };
    let ids = storage.enqueue(device.id, None, &[command]).unwrap();
    let mut conn = storage.conn().unwrap();
    for s in CommandState::ALL {
        let row = commands::table.find(ids[0].0);
        diesel::update(row).set(commands::state.eq(s.as_str())).execute(&mut *conn).unwrap();
        let flag: Option<i32> = row.select(commands::in_queue).first(&mut *conn).unwrap();
        assert_eq!(flag, Some(i32::from(s.is_open())), "in_queue for state {s}");
    }
}

/// `ReportResult` records a result and hands out the next command in one
/// exchange; when the reported command is the head, one `UPDATE` moves both
/// rows. Every case leaves each row as the separate steps would.
fn report_and_next_moves_each_row_once(storage: &Storage) {
    use state::*;
    let device = storage.add_device("s", "fused", "m").unwrap();
    let cmd = |k: &str| NewCommand { kind: k.into(), payload: "{}".into(), expires_at: None };
    let expired = NewCommand { expires_at: Some(now_ms() - 1), ..cmd("c") };
    let queue = [cmd("a"), cmd("b"), expired, cmd("d"), cmd("reboot"), cmd("e")];
    let ids = storage.enqueue(device.id, None, &queue).unwrap();
    let row = |i: usize| storage.commands(device.id).unwrap().swap_remove(i);
    let next = |command, reported, message| storage.report_and_next(device.id, command, reported, message).unwrap();
    let Head::Command(a) = storage.next_command(device.id).unwrap() else { panic!("a goes out") };
    assert_eq!(a.id, ids[0]);
    // A reported command that was never handed out is refused; nothing moves.
    assert!(storage.report_and_next(device.id, ids[1], Reported::Succeeded, "early").is_err());
    assert_eq!((row(1).state.as_str(), row(1).attempts), (PENDING, 0));

    // Success, a pending command behind it: recorded and the next handed out.
    let (recorded, head) = next(ids[0], Reported::Succeeded, "a ok");
    let Head::Command(b) = head else { panic!("b goes out, got {head:?}") };
    assert_eq!((recorded, b.id, b.state.as_str(), b.attempts), (Recorded::Final, ids[1], SENT, 1));
    assert_eq!((row(0).state.as_str(), row(0).result.as_deref(), row(0).attempts), (SUCCEEDED, Some("a ok"), 1));
    assert_eq!((row(1).state.as_str(), row(1).attempts, row(1).result), (SENT, 1, None));

    // The same report again (its answer was lost): accepted, nothing
    // overwritten, and b is handed out again.
    let (recorded, head) = next(ids[0], Reported::Succeeded, "a again");
    assert!(matches!(head, Head::Command(ref again) if again.id == ids[1] && again.attempts == 2), "{head:?}");
    assert_eq!((recorded, row(0).result.as_deref()), (Recorded::Repeated, Some("a ok")));

    // Success with an expired command behind: it closes, d goes out.
    let (_, head) = next(ids[1], Reported::Succeeded, "b ok");
    assert!(matches!(head, Head::Command(ref d) if d.id == ids[3] && d.attempts == 1), "{head:?}");
    assert_eq!((row(1).state.as_str(), row(2).state.as_str()), (SUCCEEDED, EXPIRED));

    // Failure: the queue halts at d; the reboot behind it stays pending.
    assert_eq!(next(ids[3], Reported::Failed, "d failed"), (Recorded::Final, Head::Halted));
    assert_eq!((row(3).state.as_str(), row(3).result.as_deref()), (FAILED, Some("d failed")));
    assert_eq!((row(4).state.as_str(), row(4).attempts), (PENDING, 0));
    assert_eq!(next(ids[3], Reported::Failed, "d again"), (Recorded::Repeated, Head::Halted));

    // Retried and successful: the reboot goes out, is under way, and the queue
    // waits until the device is back.
    storage.retry_failed(device.id).unwrap();
    storage.next_command(device.id).unwrap();
    let (_, head) = next(ids[3], Reported::Succeeded, "d ok");
    assert!(matches!(head, Head::Command(ref r) if r.id == ids[4]), "{head:?}");
    assert_eq!(next(ids[4], Reported::RebootUnderway, "going down"), (Recorded::Final, Head::Rebooting));
    storage.record_hello(device.id, "boot-2", "t", None, None).unwrap();

    // The last command's success leaves the queue empty.
    let Head::Command(e) = storage.next_command(device.id).unwrap() else { panic!("e goes out") };
    assert_eq!(next(e.id, Reported::Succeeded, "e ok"), (Recorded::Final, Head::Empty));
    let states: Vec<_> = storage.commands(device.id).unwrap().into_iter().map(|c| c.state.as_str()).collect();
    assert_eq!(states, [SUCCEEDED, SUCCEEDED, EXPIRED, SUCCEEDED, SUCCEEDED, SUCCEEDED]);
}

/// A queue exchange of a remembered certificate commits only if its log row
/// can be written, which needs the certificate valid now: issued to this
/// device, not revoked, not past its end.
fn a_certified_log_row_needs_a_valid_certificate(storage: &Storage) {
    let device = storage.add_device("s", "certified", "m").unwrap().id;
    let other = storage.add_device("s", "stranger", "m").unwrap().id;
    let record = |device: DeviceId| ExchangeRecord {
        device: Some(device),
        operation: "NextCommand",
        connection_serial: 7,
        gateway_instance: "g".into(),
        peer: "p".into(),
        answer: "noCommand".into(),
    };
    let issue = |device, fingerprint: &str, not_after_ms| {
        let issued = Issued { fingerprint: fingerprint.into(), not_after_ms };
        storage.exchange(|s| s.renew(device, &issued)).unwrap();
    };
    let logged = |device, fingerprint| {
        storage.exchange(|s| s.record_exchange_if_certified(&record(device), fingerprint)).unwrap()
    };
    let anonymous = ExchangeRecord { device: None, ..record(device) };
    issue(device, "valid", now_ms() + 3_600_000);
    issue(other, "ended", now_ms() - 1);
    assert!(logged(device, "valid"));
    assert!(!storage.exchange(|s| s.record_exchange_if_certified(&anonymous, "valid")).unwrap(), "no device");
    assert!(!logged(other, "valid"), "another device's certificate");
    assert!(!logged(device, "unknown"));
    assert!(!logged(other, "ended"), "past its end");
    storage.revoke_certificates(device).unwrap();
    assert!(!logged(device, "valid"), "revoked");
    let mut conn = storage.conn().unwrap();
    let rows: i64 = exchanges::table
        .filter(exchanges::device_id.eq_any([device.0, other.0]))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(rows, 1, "only the valid certificate's exchange is logged");
}

/// A plug-in's `fetch` finds only components of its device's own model;
/// another site's package of the same name is not there for it.
fn a_device_may_fetch_only_its_models_packages(storage: &Storage) {
    let ours = Model { site: "fetch".into(), ..model("4.0") };
    let rival = Model { site: "rival".into(), ..model("7.0") };
    storage.import_model(&ours, &by()).unwrap();
    storage.import_model(&rival, &by()).unwrap();
    let device = storage.add_device("fetch", "fetching", "m").unwrap().id;
    let found = storage.exchange(|s| s.model_package(device, "pkg-web", "4.0")).unwrap().expect("its own model's");
    assert_eq!((found.format.as_str(), found.size), ("deb", 10));
    assert_eq!(found.storage_key, format!("{:0>64}", "40"));
    assert_eq!(
        storage.exchange(|s| s.model_package(device, "pkg-base", "1.0")).unwrap().map(|f| f.sha256),
        Some(format!("{:0>64}", "10"))
    );
    assert_eq!(storage.exchange(|s| s.model_package(device, "pkg-web", "7.0")).unwrap(), None, "the rival site's");
    assert_eq!(storage.exchange(|s| s.model_package(device, "pkg-none", "4.0")).unwrap(), None);
    // The download of what was located is released; the rival's is not.
    assert!(storage.exchange(|s| s.entitled(device, &found.storage_key)).unwrap());
    assert!(!storage.exchange(|s| s.entitled(device, &format!("{:0>64}", "70"))).unwrap());
}

#[test]
fn sqlite_model_and_queue() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path().join("db.sqlite").to_str().unwrap()).unwrap();
    exercise(&storage);
    in_queue_follows_the_open_states(&storage);
    report_and_next_moves_each_row_once(&storage);
    a_certified_log_row_needs_a_valid_certificate(&storage);
    a_device_may_fetch_only_its_models_packages(&storage);
}

#[test]
fn mariadb_model_and_queue() {
    let db = TestMysql::new("queue");
    let storage = Storage::open(&db.url()).unwrap();
    exercise(&storage);
    in_queue_follows_the_open_states(&storage);
    report_and_next_moves_each_row_once(&storage);
    a_certified_log_row_needs_a_valid_certificate(&storage);
    a_device_may_fetch_only_its_models_packages(&storage);
}

#[test]
fn migrations_run_down_and_up_again() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Storage::open(dir.path().join("db.sqlite").to_str().unwrap()).unwrap();
    let db = TestMysql::new("migrations");
    let mysql = Storage::open(&db.url()).unwrap();
    for storage in [sqlite, mysql] {
        storage.revert_all().unwrap();
        storage.migrate().unwrap();
        // The schema Diesel knows matches what the migrations built.
        exercise(&storage);
    }
}

/// Column names per table as `schema.rs` declares them.
fn declared_schema() -> std::collections::BTreeMap<String, Vec<String>> {
    let text = include_str!("schema.rs");
    let mut tables = std::collections::BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_suffix(") {") {
            current = rest.split_whitespace().next().map(str::to_owned);
            tables.insert(current.clone().unwrap(), Vec::new());
        } else if line == "}" {
            current = None;
        } else if let (Some(table), Some((column, _))) = (&current, line.split_once(" -> ")) {
            tables.get_mut(table).unwrap().push(column.to_owned());
        }
    }
    tables
}

#[derive(diesel::QueryableByName)]
struct ColumnName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// Fails when `schema.rs` and the migrations disagree on any table or column.
#[test]
fn schema_matches_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Storage::open(dir.path().join("db.sqlite").to_str().unwrap()).unwrap();
    let db = TestMysql::new("schema");
    let mysql = Storage::open(&db.url()).unwrap();
    let declared = declared_schema();
    assert_eq!(declared.len(), 36);
    for (backend, storage) in [("sqlite", sqlite), ("mysql", mysql)] {
        let mut conn = storage.conn().unwrap();
        for (table, columns) in &declared {
            // `table_xinfo`: `table_info` leaves out generated columns.
            let sql = match backend {
                "sqlite" => format!("SELECT name FROM pragma_table_xinfo('{table}') ORDER BY cid"),
                _ => format!(
                    "SELECT CAST(column_name AS CHAR) AS name FROM information_schema.columns \
                     WHERE table_schema = DATABASE() AND table_name = '{table}' ORDER BY ordinal_position"
                ),
            };
            let actual: Vec<String> =
                diesel::sql_query(sql).load::<ColumnName>(&mut *conn).unwrap().into_iter().map(|c| c.name).collect();
            assert_eq!(&actual, columns, "{backend}: table {table} differs from schema.rs");
        }
    }
}

/// A deadlock inside a transaction's work runs the work again, and the
/// victim's connection must not come back to hurt the next exchange. The
/// fault suite once stalled every queue: after a deadlock inside the cached
/// `SELECT … FOR UPDATE` of `hand_out`, the next execution of that statement
/// on the same pooled connection waited forever for a reply the server never
/// sent, holding the row locks of its open transaction.
#[test]
fn a_deadlock_inside_the_work_runs_it_again_and_the_next_exchange_completes() {
    use diesel::Connection as _;
    use std::sync::mpsc;
    use std::time::Duration;
    let db = TestMysql::new("deadlock");
    let storage = Storage::open(&db.url()).unwrap();
    storage.import_model(&model("1.0"), &by()).unwrap();
    let one = storage.add_device("s", "d1", "m").unwrap();
    let two = storage.add_device("s", "d2", "m").unwrap();
    let command =
        |n: u32| NewCommand { kind: "reboot".into(), payload: format!("{{\"n\":{n}}}").into(), expires_at: None };
    storage.enqueue(one.id, None, &[command(1)]).unwrap();
    storage.enqueue(two.id, None, &[command(2), command(3), command(4)]).unwrap();

    // The other party: a plain connection that takes d2's rows, then waits for d1's head.
    let mut other = diesel::mysql::MysqlConnection::establish(&db.url()).unwrap();
    let (locked_two, wait_locked) = mpsc::channel();
    let (took_one, wait_took_one) = mpsc::channel::<()>();
    let (dev1, dev2) = (one.id, two.id);
    let party = std::thread::spawn(move || {
        other.batch_execute("START TRANSACTION").unwrap();
        other.batch_execute(&format!("UPDATE commands SET result = 'x' WHERE device_id = {dev2}")).unwrap();
        locked_two.send(()).unwrap();
        wait_took_one.recv().unwrap();
        let _ = other.batch_execute(&format!("UPDATE commands SET result = 'y' WHERE device_id = {dev1}"));
        other.batch_execute("COMMIT").unwrap();
    });
    wait_locked.recv().unwrap();
    let runs = std::cell::Cell::new(0);
    let victim = storage.exchange(|session| -> Result<()> {
        runs.set(runs.get() + 1);
        session.next_command(one.id)?; // d1's head, locked until commit
        if runs.get() == 1 {
            took_one.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(300)); // the other party now waits for d1
        }
        session.next_command(two.id)?; // waits for d2: a deadlock the first time
        Ok(())
    });
    party.join().unwrap();
    assert_eq!(runs.get(), 2, "the deadlock victim (the lighter transaction) runs again");
    victim.expect("the second run completes");

    // The same pool, possibly the same connection: the next exchanges finish.
    let (done, finished) = mpsc::channel();
    let again = storage.clone();
    std::thread::spawn(move || {
        let heads = (again.next_command(one.id), again.next_command(two.id));
        let _ = done.send(heads);
    });
    let (a, b) = finished.recv_timeout(Duration::from_secs(20)).expect("an exchange after a deadlock hung");
    assert!(matches!(a.unwrap(), Head::Command(_)));
    assert!(matches!(b.unwrap(), Head::Command(_)));

    // A domain error leaves the transaction open: rolled back, not run again.
    runs.set(0);
    let refused = storage.exchange(|session| -> Result<()> {
        runs.set(runs.get() + 1);
        session.next_command(one.id)?;
        Err(StorageError::Invalid("refused".into()))
    });
    assert!(matches!(refused, Err(StorageError::Invalid(_))), "{refused:?}");
    assert_eq!(runs.get(), 1, "a refusal is not repeated");
}

/// Rights match on site and category, where a missing site or category is a
/// wildcard; a parameter change adds versions only when the value changes and
/// touches only the named role.
#[test]
fn rights_and_parameter_changes() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path().join("db.sqlite").to_str().unwrap()).unwrap();
    storage.import_model(&model("2.0"), &by()).unwrap();
    storage.import_model(&Model { site: "t".into(), ..model("2.0") }, &by()).unwrap();
    assert!(storage.save_operator("ann", "hash-1").unwrap());
    assert!(!storage.save_operator("ann", "hash-2").unwrap(), "a second add changes the password");
    let ann = storage.operator("ann").unwrap().unwrap();
    assert_eq!(ann.password_hash, "hash-2");
    let may =
        |id, site, category, action| storage.rights_of(id).unwrap().allow(site, Scope::Category(category), action);
    assert!(!may(ann.id, "s", "CONTENT", Action::Change), "nothing without a right");

    storage.grant(Holder::Operator("ann"), Some("s"), Some("CONTENT"), Action::Change).unwrap();
    storage.grant(Holder::Operator("ann"), Some("s"), Some("CONTENT"), Action::Change).unwrap(); // held already: no second row
    storage.grant(Holder::Operator("ann"), None, Some("APP"), Action::Deploy).unwrap();
    storage.grant(Holder::Operator("ann"), Some("t"), None, Action::Read).unwrap();
    let allowed = |site, category, action| may(ann.id, site, category, action);
    assert!(allowed("s", "CONTENT", Action::Change));
    assert!(!allowed("s", "OS", Action::Change));
    assert!(!allowed("t", "CONTENT", Action::Change));
    assert!(!allowed("s", "CONTENT", Action::Deploy));
    assert!(allowed("s", "APP", Action::Deploy) && allowed("t", "APP", Action::Deploy), "no site: every site");
    assert!(allowed("t", "OS", Action::Read) && allowed("t", "CONTENT", Action::Read), "no category: every one");
    assert!(!allowed("s", "OS", Action::Read));
    assert!(!allowed("nowhere", "OS", Action::Deploy));
    assert!(matches!(
        storage.grant(Holder::Operator("nobody"), None, None, Action::Read),
        Err(StorageError::NotFound { what: "operator", .. })
    ));

    // A group's right holds for its members only.
    storage.save_operator("bob", "hash").unwrap();
    let bob = storage.operator("bob").unwrap().unwrap();
    assert!(storage.add_group("staff").unwrap());
    assert!(!storage.add_group("staff").unwrap());
    storage.grant(Holder::Group("staff"), Some("t"), Some("OS"), Action::Change).unwrap();
    assert!(!may(bob.id, "t", "OS", Action::Change), "not a member yet");
    storage.join_group("staff", "bob").unwrap();
    storage.join_group("staff", "bob").unwrap();
    assert!(may(bob.id, "t", "OS", Action::Change), "a member");
    assert!(!may(bob.id, "s", "OS", Action::Change), "only on the group's site");
    assert!(!allowed("t", "OS", Action::Change), "ann is not in the group");
    assert!(matches!(storage.join_group("nope", "bob"), Err(StorageError::NotFound { what: "group", .. })));

    let change = ParameterChange {
        site: "s".into(),
        model: "m".into(),
        category: "CONTENT".into(),
        component: "site".into(),
        name: "greeting".into(),
        value: "hi".into(),
    };
    let v2 = storage.set_parameter(&change, &by()).unwrap();
    assert!(v2.created && v2.version == 2);
    assert!(!storage.set_parameter(&change, &by()).unwrap().created, "the same value adds nothing");
    let params = storage.desired_components(v2.model_version_id).unwrap();
    let site = params.iter().find(|c| c.component.name == "site").unwrap();
    assert!(site.component.parameters.contains(&("greeting".into(), "hi".into())), "{:?}", site.component);
    let other = storage.import_model(&Model { site: "t".into(), ..model("2.0") }, &by()).unwrap();
    assert_eq!(other.version, 1, "site t is untouched");
    for (category, component, what) in
        [("CONTENT", "nope", "component of that role"), ("NOPE", "site", "role category")]
    {
        let bad = ParameterChange { category: category.into(), component: component.into(), ..change.clone() };
        assert!(
            matches!(storage.set_parameter(&bad, &by()), Err(StorageError::NotFound { what: w, .. }) if w == what),
            "{category}/{component}"
        );
    }
}

/// A request without a token is filed once per key, capped per device, and
/// decided once; an ambiguous approval names no request.
#[test]
fn enrolment_requests_wait_once_per_key_and_are_decided_once() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path().join("db.sqlite").to_str().unwrap()).unwrap();
    storage.import_model(&model("2.0"), &by()).unwrap();
    storage.add_device("s", "d1", "m").unwrap();
    let ask = |key: &str| storage.request_enrolment("s", "d1", key, "csr", "10.0.0.9:4000").unwrap();
    assert_eq!(ask("aa"), Ok(RequestState::Waiting { new: true }));
    assert_eq!(ask("aa"), Ok(RequestState::Waiting { new: false }), "the same key finds its request");
    assert!(storage.request_enrolment("s", "nope", "aa", "csr", "p").unwrap().is_err(), "unknown device");
    assert!(storage.request_enrolment("t", "d1", "aa", "csr", "p").unwrap().is_err(), "another site's name");
    for key in ["bb", "cc", "dd", "ee"] {
        assert_eq!(ask(key), Ok(RequestState::Waiting { new: true }));
    }
    assert!(ask("ff").unwrap_err().contains("already wait"), "at most {MAX_WAITING} wait");
    assert_eq!(storage.waiting_requests().unwrap().len(), 5);
    assert!(storage.waiting_requests().unwrap().iter().all(|(_, certified)| !certified));

    let issued = |fingerprint: &str| Issued { fingerprint: fingerprint.into(), not_after_ms: now_ms() + 1000 };
    let sign = |fp: &'static str| move |_: &EnrolmentRequest| Ok::<_, StorageError>((issued(fp), format!("PEM {fp}")));
    assert!(matches!(storage.approve_enrolment("d1", None, "ann", sign("x")), Err(StorageError::Invalid(_))));
    let approved = storage.approve_enrolment("d1", Some("AA"), "ann", sign("f1")).unwrap();
    assert_eq!(approved.key_sha256, "aa");
    assert_eq!(ask("aa"), Ok(RequestState::Approved("PEM f1".into())));
    assert!(
        storage.waiting_requests().unwrap().iter().all(|(_, certified)| *certified),
        "once approved, d1's other requests say it holds a valid certificate"
    );
    assert!(matches!(
        storage.approve_enrolment("d1", Some("aa"), "ann", sign("f2")),
        Err(StorageError::NotFound { .. })
    ));
    storage.reject_enrolment("d1", Some("bb"), "bob").unwrap();
    assert_eq!(ask("bb"), Ok(RequestState::Rejected { by: "bob".into() }));
    assert_eq!(ask("ff"), Ok(RequestState::Waiting { new: true }), "decided requests free a place");
    assert_eq!(storage.waiting_requests().unwrap().len(), 4);
}

/// Who the tests' versions are made by.
fn by() -> outfit_domain::model::Authorship {
    outfit_domain::model::Authorship::new("test", None)
}
