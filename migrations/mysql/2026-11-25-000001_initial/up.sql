-- The Outfit model and queue schema (MySQL / MariaDB). Times are Unix milliseconds.
CREATE TABLE sites (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(128) NOT NULL,
    UNIQUE KEY sites_name (name)
) ENGINE=InnoDB;

-- OS, APP, CONTENT by default, ordered by how often their software changes.
CREATE TABLE role_categories (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(64) NOT NULL,
    ordinal INT NOT NULL,
    UNIQUE KEY role_categories_name (name)
) ENGINE=InnoDB;
INSERT INTO role_categories (name, ordinal) VALUES ('OS', 1), ('APP', 2), ('CONTENT', 3);

-- One software item: a package in the repository plus its configuration template.
-- Rows are never updated: a new package or template is a new row.
CREATE TABLE components (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    site_id BIGINT NOT NULL,
    name VARCHAR(128) NOT NULL,
    package_name VARCHAR(255) NOT NULL,
    package_version VARCHAR(128) NOT NULL,
    package_format VARCHAR(32) NOT NULL,
    sha256 CHAR(64) NOT NULL,
    size BIGINT NOT NULL,
    storage_key VARCHAR(255) NOT NULL,
    config_path VARCHAR(1024) NULL,
    config_template TEXT NULL,
    created_at BIGINT NOT NULL,
    KEY components_site_name (site_id, name),
    CONSTRAINT components_site FOREIGN KEY (site_id) REFERENCES sites (id)
) ENGINE=InnoDB;

CREATE TABLE roles (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    site_id BIGINT NOT NULL,
    category_id BIGINT NOT NULL,
    name VARCHAR(128) NOT NULL,
    UNIQUE KEY roles_site_name (site_id, name),
    CONSTRAINT roles_site FOREIGN KEY (site_id) REFERENCES sites (id),
    CONSTRAINT roles_category FOREIGN KEY (category_id) REFERENCES role_categories (id)
) ENGINE=InnoDB;

-- Immutable: a change to a role is a new version.
CREATE TABLE role_versions (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    role_id BIGINT NOT NULL,
    version INT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE KEY role_versions_role_version (role_id, version),
    CONSTRAINT role_versions_role FOREIGN KEY (role_id) REFERENCES roles (id)
) ENGINE=InnoDB;

CREATE TABLE role_version_components (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    role_version_id BIGINT NOT NULL,
    component_id BIGINT NOT NULL,
    position INT NOT NULL,
    UNIQUE KEY rvc_position (role_version_id, position),
    CONSTRAINT rvc_role_version FOREIGN KEY (role_version_id) REFERENCES role_versions (id),
    CONSTRAINT rvc_component FOREIGN KEY (component_id) REFERENCES components (id)
) ENGINE=InnoDB;

CREATE TABLE role_version_parameters (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    role_version_id BIGINT NOT NULL,
    component_id BIGINT NOT NULL,
    name VARCHAR(128) NOT NULL,
    value TEXT NOT NULL,
    UNIQUE KEY rvp_name (role_version_id, component_id, name),
    CONSTRAINT rvp_role_version FOREIGN KEY (role_version_id) REFERENCES role_versions (id),
    CONSTRAINT rvp_component FOREIGN KEY (component_id) REFERENCES components (id)
) ENGINE=InnoDB;

-- A device type. `current_version_id` is what new provisioning uses; rollback
-- makes an older version current again.
CREATE TABLE models (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    site_id BIGINT NOT NULL,
    name VARCHAR(128) NOT NULL,
    current_version_id BIGINT NULL,
    UNIQUE KEY models_site_name (site_id, name),
    CONSTRAINT models_site FOREIGN KEY (site_id) REFERENCES sites (id)
) ENGINE=InnoDB;

-- Immutable: one role version per category.
CREATE TABLE model_versions (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    model_id BIGINT NOT NULL,
    version INT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE KEY model_versions_model_version (model_id, version),
    CONSTRAINT model_versions_model FOREIGN KEY (model_id) REFERENCES models (id)
) ENGINE=InnoDB;

CREATE TABLE model_version_roles (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    model_version_id BIGINT NOT NULL,
    category_id BIGINT NOT NULL,
    role_version_id BIGINT NOT NULL,
    UNIQUE KEY mvr_model_category (model_version_id, category_id),
    CONSTRAINT mvr_model_version FOREIGN KEY (model_version_id) REFERENCES model_versions (id),
    CONSTRAINT mvr_category FOREIGN KEY (category_id) REFERENCES role_categories (id),
    CONSTRAINT mvr_role_version FOREIGN KEY (role_version_id) REFERENCES role_versions (id)
) ENGINE=InnoDB;

CREATE TABLE devices (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    site_id BIGINT NOT NULL,
    name VARCHAR(128) NOT NULL,
    model_id BIGINT NOT NULL,
    desired_model_version_id BIGINT NULL,
    applied_model_version_id BIGINT NULL,
    poke_url VARCHAR(512) NULL,
    boot_id VARCHAR(64) NULL,
    agent_version VARCHAR(64) NULL,
    last_seen_at BIGINT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE KEY devices_name (name),
    CONSTRAINT devices_site FOREIGN KEY (site_id) REFERENCES sites (id),
    CONSTRAINT devices_model FOREIGN KEY (model_id) REFERENCES models (id),
    CONSTRAINT devices_desired FOREIGN KEY (desired_model_version_id) REFERENCES model_versions (id),
    CONSTRAINT devices_applied FOREIGN KEY (applied_model_version_id) REFERENCES model_versions (id)
) ENGINE=InnoDB;

-- The per-device persistent queue. state: pending -> sent -> succeeded | failed.
CREATE TABLE commands (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    device_id BIGINT NOT NULL,
    sequence BIGINT NOT NULL,
    kind VARCHAR(32) NOT NULL,
    payload TEXT NOT NULL,
    state VARCHAR(16) NOT NULL,
    attempts INT NOT NULL DEFAULT 0,
    -- Starts at 1; only an operator's retry raises it. The agent runs each
    -- (id, run) at most once.
    run INT NOT NULL DEFAULT 1,
    result TEXT NULL,
    model_version_id BIGINT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT NULL,
    finished_at BIGINT NULL,
    UNIQUE KEY commands_device_sequence (device_id, sequence),
    KEY commands_device_state (device_id, state),
    CONSTRAINT commands_device FOREIGN KEY (device_id) REFERENCES devices (id)
) ENGINE=InnoDB;

-- One row per SOAP exchange with an agent, with the TLS connection it came on.
CREATE TABLE exchanges (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    device_id BIGINT NULL,
    operation VARCHAR(32) NOT NULL,
    connection_serial BIGINT NOT NULL,
    gateway_instance VARCHAR(64) NOT NULL,
    peer VARCHAR(64) NOT NULL,
    answer VARCHAR(32) NOT NULL,
    created_at BIGINT NOT NULL,
    KEY exchanges_device (device_id, id)
) ENGINE=InnoDB;
