-- Trust: one-time enrolment tokens and the certificates issued to devices
-- (see the MySQL variant for the reasoning).
CREATE TABLE enrolment_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id BIGINT NOT NULL REFERENCES devices (id),
    token_sha256 TEXT NOT NULL UNIQUE,
    address TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE device_certificates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id BIGINT NOT NULL REFERENCES devices (id),
    sha256 TEXT NOT NULL UNIQUE,
    not_after BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    revoked_at BIGINT NULL
);
