//! A rollout's rows as a stage is queued and its devices move: written many
//! per statement, each device's queue positions right after what its queue
//! already held, and a round that looks at some devices moves only those.

use super::{TestMysql, by, model};
use crate::schema::*;
use crate::*;
use outfit_domain::ids::{DeviceId, RolloutId};
use outfit_domain::queue::NewCommand;
use outfit_domain::rollout::{DeviceState, Policy, StagePlan};

fn positions(storage: &Storage, id: RolloutId) -> Vec<(i64, String, Option<i64>, Option<i64>)> {
    let mut conn = storage.conn().unwrap();
    rollout_devices::table
        .filter(rollout_devices::rollout_id.eq(id.0))
        .order(rollout_devices::device_id)
        .select((
            rollout_devices::device_id,
            rollout_devices::state,
            rollout_devices::first_sequence,
            rollout_devices::last_sequence,
        ))
        .load(&mut conn)
        .unwrap()
}

fn finish_all(storage: &Storage, device: DeviceId) {
    let mut conn = storage.conn().unwrap();
    diesel::update(commands::table.filter(commands::device_id.eq(device.0)))
        .set((commands::state.eq(queue::state::SUCCEEDED), commands::finished_at.eq(now_ms())))
        .execute(&mut conn)
        .unwrap();
}

fn stage_rows(storage: &Storage) {
    let v1 = storage.import_model(&model("2.0"), &by()).unwrap();
    let names = ["d1", "d2", "d3", "d4"];
    let devices: Vec<_> = names.iter().map(|n| storage.add_device("s", n, "m").unwrap()).collect();
    let cmd = |k: &str| NewCommand { kind: k.into(), payload: "{}".into(), expires_at: None };
    // d1's queue already holds two commands: its plan comes after them.
    storage.enqueue(devices[0].id, Some(v1.model_version_id), &[cmd("a"), cmd("b")]).unwrap();
    let v2 = storage.import_model(&model("2.1"), &by()).unwrap().model_version_id;

    let policy = Policy::for_devices(4, Default::default()).unwrap();
    let members =
        vec![(devices[0].id, None, 0), (devices[1].id, None, 0), (devices[2].id, None, 0), (devices[3].id, None, 1)];
    let new = NewRollout {
        model: devices[0].model,
        target: v2,
        policy,
        created_by: "t".into(),
        start: true,
        devices: members,
    };
    let id = storage.create_rollout(&new).unwrap();
    assert_eq!(storage.rollout(id).unwrap().unwrap().tally.get(DeviceState::Waiting), 4);
    let model = devices[0].model;
    let named = |bases: Vec<outfit_domain::rollout::PlanBase>| bases.into_iter().map(|b| b.name).collect::<Vec<_>>();
    assert_eq!(named(storage.plan_bases(model).unwrap()), names, "every device, read in pages");
    assert_eq!(named(storage.stage_bases(model, id, 0).unwrap()), ["d1", "d2", "d3"]);
    assert_eq!(named(storage.stage_bases(model, id, 1).unwrap()), ["d4"]);

    let plan = |device: DeviceId, commands: Vec<NewCommand>, state, detail: Option<&str>| StagePlan {
        device,
        from: Some(v1.model_version_id),
        commands,
        state,
        detail: detail.map(str::to_owned),
    };
    let plans = [
        plan(devices[0].id, vec![cmd("upgrade"), cmd("configure")], DeviceState::Queued, None),
        plan(devices[1].id, vec![cmd("upgrade"), cmd("configure")], DeviceState::Queued, None),
        plan(devices[2].id, vec![], DeviceState::Applied, Some("nothing to change")),
    ];
    assert!(storage.begin_stage(id, -1, v2, &plans).unwrap());
    assert!(!storage.begin_stage(id, -1, v2, &plans).unwrap(), "a stage starts once");
    let ids: Vec<i64> = devices.iter().map(|d| d.id.0).collect();
    let (queued, applied, waiting) = ("queued".to_owned(), "applied".to_owned(), "waiting".to_owned());
    assert_eq!(
        positions(storage, id),
        [
            (ids[0], queued.clone(), Some(3), Some(4)),
            (ids[1], queued.clone(), Some(1), Some(2)),
            (ids[2], applied.clone(), None, None),
            (ids[3], waiting.clone(), None, None),
        ]
    );
    let kinds: Vec<String> = storage.commands(devices[0].id).unwrap().into_iter().map(|c| c.kind).collect();
    assert_eq!(kinds, ["a", "b", "upgrade", "configure"]);
    let d1 = storage.device("d1").unwrap().unwrap();
    assert_eq!(d1.desired, Some(v2), "a queued device leads to the target");
    let rollout = storage.rollout(id).unwrap().unwrap();
    assert_eq!((rollout.stage, rollout.stages, rollout.open), (0, 2, 3), "stage 1's device is not open yet");

    // Both finish; a round that looks only at d2 moves d2 alone.
    finish_all(storage, devices[0].id);
    finish_all(storage, devices[1].id);
    assert_eq!(storage.refresh_rollout(id, Some(&[devices[1].id])).unwrap(), 1);
    assert_eq!(positions(storage, id)[0].1, queued);
    assert_eq!(positions(storage, id)[1].1, applied);
    assert_eq!(storage.refresh_rollout(id, None).unwrap(), 1);
    assert_eq!(positions(storage, id)[0].1, applied);

    // A device added to the model meanwhile joins a later stage, waiting.
    storage.add_device("s", "d5", "m").unwrap();
    assert_eq!(storage.join_rollout(id, devices[0].model, 1).unwrap(), 1);
    assert_eq!(storage.join_rollout(id, devices[0].model, 1).unwrap(), 0);
    let rollout = storage.rollout(id).unwrap().unwrap();
    assert_eq!((rollout.tally.get(DeviceState::Waiting), rollout.tally.total()), (2, 5));
    assert_eq!(named(storage.stage_bases(model, id, 0).unwrap()), Vec::<String>::new(), "none waits in stage 0");
    assert_eq!(named(storage.stage_bases(model, id, 1).unwrap()), ["d4", "d5"]);
}

#[test]
fn sqlite_rollout_rows() {
    let dir = tempfile::tempdir().unwrap();
    stage_rows(&Storage::open(dir.path().join("db.sqlite").to_str().unwrap()).unwrap());
}

#[test]
fn mariadb_rollout_rows() {
    let db = TestMysql::new("rollout");
    stage_rows(&Storage::open(&db.url()).unwrap());
}
