-- Client certificates of operators (see the MySQL variant for the reasoning).
CREATE TABLE operator_certificates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_id BIGINT NOT NULL REFERENCES operators (id),
    sha256 TEXT NOT NULL UNIQUE,
    not_after BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    revoked_at BIGINT NULL
);
