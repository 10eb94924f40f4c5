-- Queue control: command expiry, the indexes the gateway's sweep reads
-- through, and predefined scripts.

-- A command the operator gave a deadline: if it has not been handed out by
-- then (the device was offline), it closes as `expired` instead of running late.
ALTER TABLE commands ADD COLUMN expires_at BIGINT NULL;
-- The sequence of the first command of the device's latest provisioning:
-- the device equals its model once everything from there on succeeded, so
-- commands of an earlier, expired or skipped provisioning no longer count.
ALTER TABLE devices ADD COLUMN provisioned_from BIGINT NULL;
-- The sweep reads pending rows by deadline and sent rows by age; these keep
-- it from scanning every device's history.
CREATE INDEX commands_state_expires ON commands (state, expires_at);
CREATE INDEX commands_state_sent ON commands (state, sent_at);

-- Predefined scripts (seed: "a predefined script that is stored in the
-- database"): a named sequence of commands of one site, enqueued by name for
-- one device or many. Steps hold the same payloads as queue rows.
CREATE TABLE scripts (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    site_id BIGINT NOT NULL,
    name VARCHAR(128) NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE KEY scripts_site_name (site_id, name),
    CONSTRAINT scripts_site FOREIGN KEY (site_id) REFERENCES sites (id)
) ENGINE=InnoDB;

CREATE TABLE script_steps (
    script_id BIGINT NOT NULL,
    position INT NOT NULL,
    kind VARCHAR(32) NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (script_id, position),
    CONSTRAINT script_steps_script FOREIGN KEY (script_id) REFERENCES scripts (id)
) ENGINE=InnoDB;
