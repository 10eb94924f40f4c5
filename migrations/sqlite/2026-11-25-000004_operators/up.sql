-- Personnel in the trust hierarchy (see the MySQL variant for the reasoning).
CREATE TABLE operators (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE operator_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE group_members (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id BIGINT NOT NULL REFERENCES operator_groups (id),
    operator_id BIGINT NOT NULL REFERENCES operators (id),
    UNIQUE (group_id, operator_id)
);

CREATE TABLE operator_rights (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_id BIGINT NULL REFERENCES operators (id),
    group_id BIGINT NULL REFERENCES operator_groups (id),
    site_id BIGINT NULL REFERENCES sites (id),
    category_id BIGINT NULL REFERENCES role_categories (id),
    action TEXT NOT NULL,
    CHECK ((operator_id IS NULL) <> (group_id IS NULL))
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    principal TEXT NOT NULL,
    action TEXT NOT NULL,
    site TEXT NULL,
    object TEXT NOT NULL,
    peer TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_log_created ON audit_log (created_at);
