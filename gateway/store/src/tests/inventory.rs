//! Inventory reports as stored: a device's history stays bounded.

use super::{TestMysql, by, model};
use crate::*;

/// A device keeps its latest [`HISTORY`] reports, whatever arrives.
fn inventory_history_is_bounded(storage: &Storage) {
    use outfit_domain::inventory::{Inventory, Occasion};
    let device = storage.add_device("s", "reporter", "m").unwrap();
    let report = |taken_at| Inventory {
        taken_at,
        occasion: Occasion::Periodic,
        facts: vec![],
        disks: vec![],
        interfaces: vec![],
        packages: vec![],
        files: vec![],
        plugins: vec![],
        changes: vec![],
    };
    for taken_at in 1..=(HISTORY + 5) {
        storage.exchange(|s| s.record_inventory(device.id, &report(taken_at), None, &[], |_| None)).unwrap();
    }
    let kept: Vec<i64> = storage.inventories(device.id).unwrap().into_iter().map(|i| i.taken_at).collect();
    assert_eq!(kept, (6..=HISTORY + 5).rev().collect::<Vec<_>>(), "the newest {HISTORY}, newest first");
}

#[test]
fn sqlite_inventory_history() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path().join("db.sqlite").to_str().unwrap()).unwrap();
    storage.import_model(&model("2.0"), &by()).unwrap();
    inventory_history_is_bounded(&storage);
}

#[test]
fn mariadb_inventory_history() {
    let db = TestMysql::new("history");
    let storage = Storage::open(&db.url()).unwrap();
    storage.import_model(&model("2.0"), &by()).unwrap();
    inventory_history_is_bounded(&storage);
}
