-- File servers (see the MySQL variant for the reasoning).
CREATE TABLE file_servers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    certificate_sha256 TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE file_server_sites (
    file_server_id BIGINT NOT NULL REFERENCES file_servers (id),
    site_id BIGINT NOT NULL REFERENCES sites (id),
    PRIMARY KEY (file_server_id, site_id)
);
