-- Federation: data centres that share sites. Each site has a home data centre
-- (`sites.home`, NULL: this one); only the home makes versions of the site's
-- models, an edit anywhere else is a proposal the home decides. What changes
-- travels in a per-origin ordered log that peers pull (see docs/federation.md).

ALTER TABLE sites ADD COLUMN home VARCHAR(64) NULL;

-- This data centre's name, as its peers know it (one row, id 1).
CREATE TABLE data_centre (
    id INT NOT NULL PRIMARY KEY,
    name VARCHAR(64) NOT NULL
) ENGINE=InnoDB;

-- Peer gateways: another data centre, its operator URL, and the fingerprint
-- (sha256 of the DER) of the client certificate this one issued to it.
CREATE TABLE peers (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(64) NOT NULL,
    url VARCHAR(512) NOT NULL,
    certificate_sha256 CHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE KEY peers_name (name),
    UNIQUE KEY peers_certificate (certificate_sha256)
) ENGINE=InnoDB;

-- Which sites each peer shares: it may pull their log and fetch their packages.
CREATE TABLE peer_sites (
    peer_id BIGINT NOT NULL,
    site_id BIGINT NOT NULL,
    PRIMARY KEY (peer_id, site_id),
    CONSTRAINT peer_sites_peer FOREIGN KEY (peer_id) REFERENCES peers (id),
    CONSTRAINT peer_sites_site FOREIGN KEY (site_id) REFERENCES sites (id)
) ENGINE=InnoDB;

-- The replicated log: every entry made here (origin = this data centre) and
-- every entry pulled from a peer. `seq` counts per origin without gaps at the
-- origin; `hlc` is a hybrid logical clock (milliseconds << 16 | counter).
-- kind: version | proposal | decision; body: the entry as JSON.
CREATE TABLE federation_log (
    origin VARCHAR(64) NOT NULL,
    seq BIGINT NOT NULL,
    hlc BIGINT NOT NULL,
    site VARCHAR(128) NOT NULL,
    model VARCHAR(128) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    body MEDIUMTEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (origin, seq),
    KEY federation_log_site (site, origin, seq)
) ENGINE=InnoDB;

-- Edits made away from a site's home, and the home's decision on each.
-- state: pending | accepted | refused | unchanged.
CREATE TABLE proposals (
    origin VARCHAR(64) NOT NULL,
    seq BIGINT NOT NULL,
    site VARCHAR(128) NOT NULL,
    model VARCHAR(128) NOT NULL,
    base_version INT NULL,
    author VARCHAR(255) NOT NULL,
    reason TEXT NULL,
    state VARCHAR(16) NOT NULL,
    -- accepted: the version the home made of it.
    version INT NULL,
    decision TEXT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (origin, seq),
    KEY proposals_model (site, model)
) ENGINE=InnoDB;
