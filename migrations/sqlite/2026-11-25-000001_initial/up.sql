-- The Outfit model and queue schema (SQLite, the embedded default). Times are Unix milliseconds.
CREATE TABLE sites (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (name)
);

-- OS, APP, CONTENT by default, ordered by how often their software changes.
CREATE TABLE role_categories (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    UNIQUE (name)
);
INSERT INTO role_categories (name, ordinal) VALUES ('OS', 1), ('APP', 2), ('CONTENT', 3);

-- One software item: a package in the repository plus its configuration template.
-- Rows are never updated: a new package or template is a new row.
CREATE TABLE components (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    package_name TEXT NOT NULL,
    package_version TEXT NOT NULL,
    package_format TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    storage_key TEXT NOT NULL,
    config_path TEXT NULL,
    config_template TEXT NULL,
    created_at BIGINT NOT NULL,
    FOREIGN KEY (site_id) REFERENCES sites (id)
);

CREATE TABLE roles (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id BIGINT NOT NULL,
    category_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (site_id, name),
    FOREIGN KEY (site_id) REFERENCES sites (id),
    FOREIGN KEY (category_id) REFERENCES role_categories (id)
);

-- Immutable: a change to a role is a new version.
CREATE TABLE role_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    role_id BIGINT NOT NULL,
    version INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (role_id, version),
    FOREIGN KEY (role_id) REFERENCES roles (id)
);

CREATE TABLE role_version_components (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    role_version_id BIGINT NOT NULL,
    component_id BIGINT NOT NULL,
    position INTEGER NOT NULL,
    UNIQUE (role_version_id, position),
    FOREIGN KEY (role_version_id) REFERENCES role_versions (id),
    FOREIGN KEY (component_id) REFERENCES components (id)
);

CREATE TABLE role_version_parameters (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    role_version_id BIGINT NOT NULL,
    component_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (role_version_id, component_id, name),
    FOREIGN KEY (role_version_id) REFERENCES role_versions (id),
    FOREIGN KEY (component_id) REFERENCES components (id)
);

-- A device type. `current_version_id` is what new provisioning uses; rollback
-- makes an older version current again.
CREATE TABLE models (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    current_version_id BIGINT NULL,
    UNIQUE (site_id, name),
    FOREIGN KEY (site_id) REFERENCES sites (id)
);

-- Immutable: one role version per category.
CREATE TABLE model_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    model_id BIGINT NOT NULL,
    version INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (model_id, version),
    FOREIGN KEY (model_id) REFERENCES models (id)
);

CREATE TABLE model_version_roles (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    model_version_id BIGINT NOT NULL,
    category_id BIGINT NOT NULL,
    role_version_id BIGINT NOT NULL,
    UNIQUE (model_version_id, category_id),
    FOREIGN KEY (model_version_id) REFERENCES model_versions (id),
    FOREIGN KEY (category_id) REFERENCES role_categories (id),
    FOREIGN KEY (role_version_id) REFERENCES role_versions (id)
);

CREATE TABLE devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    site_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    model_id BIGINT NOT NULL,
    desired_model_version_id BIGINT NULL,
    applied_model_version_id BIGINT NULL,
    poke_url TEXT NULL,
    boot_id TEXT NULL,
    agent_version TEXT NULL,
    last_seen_at BIGINT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (name),
    FOREIGN KEY (site_id) REFERENCES sites (id),
    FOREIGN KEY (model_id) REFERENCES models (id),
    FOREIGN KEY (desired_model_version_id) REFERENCES model_versions (id),
    FOREIGN KEY (applied_model_version_id) REFERENCES model_versions (id)
);

-- The per-device persistent queue. state: pending -> sent -> succeeded | failed.
CREATE TABLE commands (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    device_id BIGINT NOT NULL,
    sequence BIGINT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    run INTEGER NOT NULL DEFAULT 1,
    result TEXT NULL,
    model_version_id BIGINT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT NULL,
    finished_at BIGINT NULL,
    UNIQUE (device_id, sequence),
    FOREIGN KEY (device_id) REFERENCES devices (id)
);

-- One row per SOAP exchange with an agent, with the TLS connection it came on.
CREATE TABLE exchanges (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    device_id BIGINT NULL,
    operation TEXT NOT NULL,
    connection_serial BIGINT NOT NULL,
    gateway_instance TEXT NOT NULL,
    peer TEXT NOT NULL,
    answer TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX components_site_name ON components (site_id, name);
CREATE INDEX commands_device_state ON commands (device_id, state);
CREATE INDEX exchanges_device ON exchanges (device_id, id);
