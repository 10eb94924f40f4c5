//! Console sessions as stored: live until they expire or end; a password
//! change ends every session of that operator and no other's.

use super::TestMysql;
use crate::*;

fn sessions_live_until_they_expire_or_end(storage: &Storage) {
    storage.save_operator("ann", "hash-1").unwrap();
    storage.save_operator("bob", "hash-2").unwrap();
    let ann = storage.operator("ann").unwrap().unwrap().id;
    let bob = storage.operator("bob").unwrap().unwrap().id;
    let later = now_ms() + 60_000;
    storage.open_console_session(ann, "a1", "csrf-a1", later).unwrap();
    storage.open_console_session(ann, "a2", "csrf-a2", later).unwrap();
    storage.open_console_session(bob, "b1", "csrf-b1", later).unwrap();
    storage.open_console_session(bob, "b-old", "csrf-b-old", now_ms() - 1).unwrap();

    let live = storage.console_session("a1").unwrap().unwrap();
    assert_eq!((live.operator, live.name.as_str(), live.csrf.as_str()), (ann, "ann", "csrf-a1"));
    assert_eq!(storage.console_session("b-old").unwrap(), None, "an expired session signs nobody in");
    assert_eq!(storage.console_session("nope").unwrap(), None);

    assert!(storage.end_console_session("a1").unwrap());
    assert!(!storage.end_console_session("a1").unwrap(), "ended once");
    assert_eq!(storage.console_session("a1").unwrap(), None);

    assert_eq!(storage.end_console_sessions_of("bob").unwrap(), 1, "b-old had expired, b1 was live");
    assert_eq!(storage.console_session("b1").unwrap(), None);
    assert!(storage.console_session("a2").unwrap().is_some(), "another operator's session lives on");
}

#[test]
fn sqlite_console_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path().join("db.sqlite").to_str().unwrap()).unwrap();
    sessions_live_until_they_expire_or_end(&storage);
}

#[test]
fn mariadb_console_sessions() {
    let db = TestMysql::new("sessions");
    let storage = Storage::open(&db.url()).unwrap();
    sessions_live_until_they_expire_or_end(&storage);
}
