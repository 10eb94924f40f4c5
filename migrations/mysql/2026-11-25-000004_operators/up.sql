-- Personnel in the trust hierarchy: operators, groups, their rights, and the audit log.

-- An operator signs SOAP requests with a WS-Security UsernameToken; only an
-- argon2 hash (PHC string) of the password is stored.
CREATE TABLE operators (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE KEY operators_name (name)
) ENGINE=InnoDB;

-- Groups of operators (a site's IT staff, say): a right held by a group holds
-- for each of its members.
CREATE TABLE operator_groups (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE KEY operator_groups_name (name)
) ENGINE=InnoDB;

CREATE TABLE group_members (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    group_id BIGINT NOT NULL,
    operator_id BIGINT NOT NULL,
    UNIQUE KEY group_members_pair (group_id, operator_id),
    CONSTRAINT group_members_group FOREIGN KEY (group_id) REFERENCES operator_groups (id),
    CONSTRAINT group_members_operator FOREIGN KEY (operator_id) REFERENCES operators (id)
) ENGINE=InnoDB;

-- One right, held by an operator or by a group (exactly one of the two): an
-- action (read, change, deploy) on one site (NULL: every site) and one role
-- category (NULL: every category). Nothing is allowed without one.
CREATE TABLE operator_rights (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    operator_id BIGINT NULL,
    group_id BIGINT NULL,
    site_id BIGINT NULL,
    category_id BIGINT NULL,
    action VARCHAR(16) NOT NULL,
    CONSTRAINT operator_rights_holder CHECK ((operator_id IS NULL) <> (group_id IS NULL)),
    CONSTRAINT operator_rights_operator FOREIGN KEY (operator_id) REFERENCES operators (id),
    CONSTRAINT operator_rights_group FOREIGN KEY (group_id) REFERENCES operator_groups (id),
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
