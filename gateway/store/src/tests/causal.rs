//! Causal exchanges (see `transaction.rs`): Galera's causality check is on
//! for the transaction's reads, and off again for whatever the pooled
//! connection serves next. On SQLite a causal exchange is a plain one.

use super::TestMysql;
use crate::*;

/// The session's `wsrep_sync_wait`, as the transaction sees it.
fn sync_wait(session: &mut Session<'_>) -> Result<String, StorageError> {
    let DbConnection::Mysql(conn) = &mut *session.conn else { unreachable!("MariaDB only") };
    let value = diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>("CAST(@@session.wsrep_sync_wait AS CHAR)"))
        .get_result(conn)?;
    Ok(value)
}

#[test]
fn mariadb_a_causal_exchange_checks_causality_and_no_other_does() {
    let db = TestMysql::new("causal");
    let storage = Storage::open(&db.url()).unwrap();
    assert_eq!(storage.exchange_causal(sync_wait).unwrap(), "1", "on while the causal exchange reads");
    // The pool hands its idle connections on again; none keeps the check.
    for _ in 0..8 {
        assert_eq!(storage.exchange(sync_wait).unwrap(), "0", "off for the exchanges after it");
    }
}

#[test]
fn sqlite_a_causal_exchange_is_a_plain_one() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path().join("db.sqlite").to_str().unwrap()).unwrap();
    let logged = |session: &mut Session<'_>| -> Result<i64, StorageError> {
        Ok(schema::exchanges::table.count().get_result(&mut *session.conn)?)
    };
    let record = ExchangeRecord {
        device: None,
        operation: "Hello",
        connection_serial: 1,
        gateway_instance: "test".into(),
        peer: "127.0.0.1".into(),
        answer: "ok".into(),
    };
    // What it writes is committed, and it reads what is committed.
    storage.exchange_causal(|session| session.record_exchange(&record)).unwrap();
    assert_eq!(storage.exchange_causal(logged).unwrap(), 1);
    assert_eq!(storage.exchange(logged).unwrap(), 1);
}
