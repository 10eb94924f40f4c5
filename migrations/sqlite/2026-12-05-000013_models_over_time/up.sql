-- Models over time: who made each version and why, rollbacks, custom role
-- categories, and rollouts (the staged application of a version to every
-- device of a model).

-- Every version says who made it and why. A rollback is a new version that
-- restores the content of an older one (`restores` is that one's number).
ALTER TABLE model_versions ADD COLUMN author VARCHAR(255) NULL;
ALTER TABLE model_versions ADD COLUMN reason TEXT NULL;
ALTER TABLE model_versions ADD COLUMN restores INT NULL;
ALTER TABLE role_versions ADD COLUMN author VARCHAR(255) NULL;
ALTER TABLE role_versions ADD COLUMN reason TEXT NULL;
-- Categories are ranked by `ordinal` (install order); the description says
-- how often their software changes.
ALTER TABLE role_categories ADD COLUMN description TEXT NULL;

-- state: prepared | running | paused | halted | completed | aborted | superseded.
-- `active` is 1 until the rollout ends and NULL after, so the unique key
-- allows at most one unfinished rollout per model.
CREATE TABLE rollouts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    model_id BIGINT NOT NULL,
    target_version_id BIGINT NOT NULL,
    state VARCHAR(16) NOT NULL,
    active INT NULL,
    canary INT NOT NULL,
    batch_size INT NOT NULL,
    max_failures INT NOT NULL,
    max_failure_percent INT NULL,
    -- Offline devices: their commands wait (NULL) or expire this long after
    -- their stage starts.
    expire_after_ms BIGINT NULL,
    -- The stage under way: 0 the canary, 1.. the batches; -1 before the start.
    stage INT NOT NULL,
    halt_reason TEXT NULL,
    created_by VARCHAR(255) NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finished_at BIGINT NULL,
    FOREIGN KEY (model_id) REFERENCES models (id),
    FOREIGN KEY (target_version_id) REFERENCES model_versions (id)
);

-- One device of a rollout. state: waiting | queued | applied | converged |
-- failed | expired | aborted. `from_version_id` is the version its plan starts
-- from (NULL: a bare device); the plan itself is a pure function of it and the
-- target. The queued plan is the device's commands first..last.
CREATE TABLE rollout_devices (
    rollout_id BIGINT NOT NULL,
    device_id BIGINT NOT NULL,
    stage INT NOT NULL,
    state VARCHAR(16) NOT NULL,
    from_version_id BIGINT NULL,
    commands INT NOT NULL,
    first_sequence BIGINT NULL,
    last_sequence BIGINT NULL,
    detail TEXT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (rollout_id, device_id),
    FOREIGN KEY (rollout_id) REFERENCES rollouts (id),
    FOREIGN KEY (device_id) REFERENCES devices (id)
);
CREATE UNIQUE INDEX rollouts_one_active ON rollouts (model_id, active);
CREATE INDEX rollouts_active ON rollouts (active);
CREATE INDEX rollout_devices_stage ON rollout_devices (rollout_id, stage, state);
