-- File servers: package repositories run apart from the gateway, near the
-- devices. Each holds a certificate this gateway's CA issued (fingerprint:
-- sha256 of the DER), serves the devices of its sites, asks a gateway per
-- download whether the device is entitled, and keeps the bytes in a store of
-- its own (see docs/file-servers.md).
CREATE TABLE file_servers (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(64) NOT NULL,
    url VARCHAR(512) NOT NULL,
    certificate_sha256 CHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE KEY file_servers_name (name),
    UNIQUE KEY file_servers_certificate (certificate_sha256)
) ENGINE=InnoDB;

-- Which sites' devices each file server serves.
CREATE TABLE file_server_sites (
    file_server_id BIGINT NOT NULL,
    site_id BIGINT NOT NULL,
    PRIMARY KEY (file_server_id, site_id),
    CONSTRAINT file_server_sites_server FOREIGN KEY (file_server_id) REFERENCES file_servers (id),
    CONSTRAINT file_server_sites_site FOREIGN KEY (site_id) REFERENCES sites (id)
) ENGINE=InnoDB;
