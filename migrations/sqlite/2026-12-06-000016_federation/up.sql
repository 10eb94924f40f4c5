-- Federation (see the MySQL variant for the reasoning).
ALTER TABLE sites ADD COLUMN home TEXT NULL;

CREATE TABLE data_centre (
    id INTEGER NOT NULL PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE peers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    certificate_sha256 TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE peer_sites (
    peer_id BIGINT NOT NULL REFERENCES peers (id),
    site_id BIGINT NOT NULL REFERENCES sites (id),
    PRIMARY KEY (peer_id, site_id)
);

CREATE TABLE federation_log (
    origin TEXT NOT NULL,
    seq BIGINT NOT NULL,
    hlc BIGINT NOT NULL,
    site TEXT NOT NULL,
    model TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (origin, seq)
);
CREATE INDEX federation_log_site ON federation_log (site, origin, seq);

CREATE TABLE proposals (
    origin TEXT NOT NULL,
    seq BIGINT NOT NULL,
    site TEXT NOT NULL,
    model TEXT NOT NULL,
    base_version INT NULL,
    author TEXT NOT NULL,
    reason TEXT NULL,
    state TEXT NOT NULL,
    version INT NULL,
    decision TEXT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (origin, seq)
);
CREATE INDEX proposals_model ON proposals (site, model);
