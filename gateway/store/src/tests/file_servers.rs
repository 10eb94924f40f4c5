//! File servers as stored: added once with their sites, listed, read as the
//! directory agents are directed by, and removed; and which packages a file
//! server may copy besides its sites' components (one a command waiting for
//! a device of its sites installs).

use super::{TestMysql, by, model};
use crate::*;
use outfit_domain::queue::NewCommand;

fn file_servers_serve_their_sites(storage: &Storage) {
    storage.import_model(&model("2.0"), &by()).unwrap();
    let device = storage.add_device("s", "d1", "m").unwrap();
    storage.add_file_server("fs1", "https://fs1:8446", &"a".repeat(64), &["s".into(), "other".into()]).unwrap();
    storage.add_file_server("fs2", "https://fs2:8446", &"b".repeat(64), &["s".into()]).unwrap();
    assert!(matches!(
        storage.add_file_server("fs1", "https://x:1", &"c".repeat(64), &["s".into()]),
        Err(StorageError::Exists(_))
    ));
    let listed = storage.file_servers().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!((listed[0].name.as_str(), listed[0].sites.clone()), ("fs1", vec!["other".to_owned(), "s".to_owned()]));
    let found = storage.file_server_by_certificate(&"b".repeat(64)).unwrap();
    assert_eq!(found, Some(("fs2".to_owned(), vec!["s".to_owned()])));
    assert_eq!(storage.file_server_by_certificate(&"c".repeat(64)).unwrap(), None);
    let directory = storage.file_server_directory().unwrap();
    let of_s: Vec<&str> =
        directory.iter().filter(|(site, _)| *site == device.site.0).map(|(_, url)| url.as_str()).collect();
    assert_eq!(of_s, ["https://fs1:8446", "https://fs2:8446"], "by name");

    // A plug-in bundle queued for d1 may be copied by a file server of its site only.
    let key = "d".repeat(64);
    let payload = format!("{{\"kind\":\"install-plugin\",\"storage_key\":\"{key}\"}}");
    let step = NewCommand { kind: "install-plugin".into(), payload: payload.into(), expires_at: None };
    assert!(!storage.queued_for_sites(&["s".into()], &key).unwrap());
    storage.enqueue(device.id, None, &[step]).unwrap();
    assert!(storage.queued_for_sites(&["s".into()], &key).unwrap());
    assert!(!storage.queued_for_sites(&["other".into()], &key).unwrap());
    assert!(!storage.queued_for_sites(&["s".into()], &"e".repeat(64)).unwrap());

    storage.remove_file_server("fs1").unwrap();
    assert!(matches!(storage.remove_file_server("fs1"), Err(StorageError::NotFound { .. })));
    let left: Vec<String> = storage.file_servers().unwrap().into_iter().map(|f| f.name).collect();
    assert_eq!(left, ["fs2"]);
}

#[test]
fn sqlite_file_servers() {
    let dir = tempfile::tempdir().unwrap();
    file_servers_serve_their_sites(&Storage::open(dir.path().join("db.sqlite").to_str().unwrap()).unwrap());
}

#[test]
fn mariadb_file_servers() {
    let db = TestMysql::new("fileservers");
    file_servers_serve_their_sites(&Storage::open(&db.url()).unwrap());
}
