//! Federation as stored, across both backends: the home (SQLite) logs its
//! versions, the peer (MariaDB) applies them once, an edit at the peer
//! becomes a proposal, the home decides it by the rule, and both end with the
//! same replicated state.

use super::{TestMysql, model};
use crate::*;
use outfit_domain::federation::{Body, Outcome};
use outfit_domain::model::{Authorship, ParameterChange};

fn by(name: &str) -> Authorship {
    Authorship::new(name, Some("because"))
}

/// Applies everything `from` (data centre `from_name`) made that `to` lacks.
fn sync(from: &Storage, to: &Storage, from_name: &str) -> Vec<Applied> {
    let known = to.known_entries().unwrap();
    let after = known.iter().find(|(origin, _)| origin == from_name).map_or(0, |(_, seq)| *seq);
    let entries = from.entries_after(&["s".to_owned()], after, 100).unwrap();
    entries.iter().map(|e| to.apply_entry(e).unwrap()).collect()
}

fn title(value: &str) -> ParameterChange {
    ParameterChange {
        site: "s".into(),
        model: "m".into(),
        category: "CONTENT".into(),
        component: "site".into(),
        name: "x".into(),
        value: value.into(),
    }
}

#[test]
fn a_peer_edit_is_a_proposal_the_home_decides_and_both_converge() {
    let dir = tempfile::tempdir().unwrap();
    let home = Storage::open(dir.path().join("a.sqlite").to_str().unwrap()).unwrap();
    let db = TestMysql::new("federation");
    let peer = Storage::open(&db.url()).unwrap();

    home.import_model(&model("2.0"), &by("ann")).unwrap();
    home.add_peer("dc-a", "dc-b", "https://b", &"b".repeat(64), &["s".to_owned()]).unwrap();
    peer.add_peer("dc-b", "dc-a", "https://a", &"a".repeat(64), &["s".to_owned()]).unwrap();
    assert!(home.add_peer("dc-x", "dc-c", "https://c", &"c".repeat(64), &[]).is_err(), "one name per data centre");

    // The history written when the site was first shared reaches the peer once.
    assert_eq!(sync(&home, &peer, "dc-a"), vec![Applied::Stored]);
    assert_eq!(sync(&home, &peer, "dc-a"), Vec::<Applied>::new(), "nothing new");
    let entry = &home.entries_after(&["s".to_owned()], 0, 10).unwrap()[0];
    assert_eq!(peer.apply_entry(entry).unwrap(), Applied::Known);
    assert_eq!(peer.models(Some("s")).unwrap()[0].current.unwrap().1, 1);

    // Cut off: the home makes version 2, the peer's edit becomes a proposal.
    assert!(home.set_parameter(&title("home"), &by("ann")).unwrap().created);
    let proposed = peer.set_parameter(&title("peer"), &by("bob")).unwrap();
    assert_eq!((proposed.created, proposed.version), (false, 1));
    let proposal = proposed.proposed.expect("a proposal");
    assert_eq!(proposal.origin, "dc-b");
    assert_eq!(peer.proposals("s", Some("m")).unwrap()[0].state, "pending");

    // Together again: the home refuses it (made from 1, 2 came first); the peer learns why.
    let decided = sync(&peer, &home, "dc-b");
    let [Applied::Decided(Outcome::Refused { reason })] = decided.as_slice() else { panic!("{decided:?}") };
    assert!(reason.contains("made from version 1, but version 2 by ann (because)"), "{reason}");
    assert_eq!(sync(&home, &peer, "dc-a").len(), 2, "version 2 and the decision");
    let (mut a, mut b) = (home.replicated_state("s").unwrap(), peer.replicated_state("s").unwrap());
    assert_eq!((a.home.take(), b.home.take()), (None, Some("dc-a".to_owned())));
    assert_eq!(a, b);
    assert_eq!(b.proposals[0].state, "refused");

    // Made from the current version, the next proposal is accepted as version 3.
    peer.set_parameter(&title("peer again"), &by("bob")).unwrap();
    let decided = sync(&peer, &home, "dc-b");
    assert_eq!(decided, vec![Applied::Decided(Outcome::Accepted { version: 3 })]);
    sync(&home, &peer, "dc-a");
    let (mut a, mut b) = (home.replicated_state("s").unwrap(), peer.replicated_state("s").unwrap());
    (a.home, b.home) = (None, None);
    assert_eq!(a, b);
    let v3 = &b.models[0].versions[2];
    assert_eq!((v3.number, v3.author.as_deref()), (3, Some("bob@dc-b")));

    // A version of the home that skips one is refused, and nothing of it is kept.
    let mut skipping = home.entries_after(&["s".to_owned()], 0, 100).unwrap().pop().unwrap();
    skipping.seq += 100;
    skipping.body = Body::Version {
        version: 9,
        author: "ann".into(),
        reason: None,
        restores: None,
        roles: model("9.0").roles,
        accepts: None,
    };
    assert!(matches!(peer.apply_entry(&skipping), Err(StorageError::Invalid(_))));
    assert_eq!(peer.models(Some("s")).unwrap()[0].current.unwrap().1, 3);
}
