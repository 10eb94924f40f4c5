-- Queue control: command expiry, the indexes the gateway's sweep reads
-- through, and predefined scripts. (See the MySQL migration for the why.)
ALTER TABLE commands ADD COLUMN expires_at BIGINT NULL;
ALTER TABLE devices ADD COLUMN provisioned_from BIGINT NULL;
CREATE INDEX commands_state_expires ON commands (state, expires_at);
CREATE INDEX commands_state_sent ON commands (state, sent_at);

CREATE TABLE scripts (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (site_id, name)
);

CREATE TABLE script_steps (
    script_id BIGINT NOT NULL REFERENCES scripts (id),
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (script_id, position)
);
