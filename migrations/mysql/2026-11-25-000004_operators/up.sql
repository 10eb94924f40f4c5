-- Personnel in the trust hierarchy: operators, their rights, and the audit log.

-- An operator signs SOAP requests with a WS-Security UsernameToken; only an
-- argon2 hash (PHC string) of the password is stored.
CREATE TABLE operators (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE KEY operators_name (name)
) ENGINE=InnoDB;

-- One right: an action (read, change, deploy) on one site (NULL: every site)
-- and one role category (NULL: every category). Nothing is allowed without one.
CREATE TABLE operator_rights (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    operator_id BIGINT NOT NULL,
    site_id BIGINT NULL,
    category_id BIGINT NULL,
    action VARCHAR(16) NOT NULL,
    CONSTRAINT operator_rights_operator FOREIGN KEY (operator_id) REFERENCES operators (id),
    CONSTRAINT operator_rights_site FOREIGN KEY (site_id) REFERENCES sites (id),
    CONSTRAINT operator_rights_category FOREIGN KEY (category_id) REFERENCES role_categories (id)
) ENGINE=InnoDB;

-- Who did (or was refused) what, when and from where. Append-only.
CREATE TABLE audit_log (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    principal VARCHAR(255) NOT NULL,
    action VARCHAR(64) NOT NULL,
    site VARCHAR(255) NULL,
    object VARCHAR(512) NOT NULL,
    peer VARCHAR(255) NOT NULL,
    outcome VARCHAR(16) NOT NULL,
    detail TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    KEY audit_log_created (created_at)
) ENGINE=InnoDB;
