-- Manual approval of enrolments (see the MySQL variant for the reasoning).
CREATE TABLE enrolment_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id BIGINT NOT NULL REFERENCES devices (id),
    key_sha256 TEXT NOT NULL,
    csr TEXT NOT NULL,
    peer TEXT NOT NULL,
    state TEXT NOT NULL,
    certificate TEXT NULL,
    decided_by TEXT NULL,
    decided_at BIGINT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (device_id, key_sha256)
);
