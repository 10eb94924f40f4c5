-- Inventory and drift. An agent reports what its device holds; the gateway
-- keeps the latest reports of each device (a bounded history) and compares
-- each with the model version the device is supposed to hold.
CREATE TABLE inventories (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    device_id BIGINT NOT NULL,
    taken_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    -- start, periodic, demand or drained.
    occasion VARCHAR(16) NOT NULL,
    -- The version it was compared with, and how many differences it showed.
    model_version_id BIGINT NULL,
    drift INT NOT NULL,
    -- The report as JSON (outfit_domain::inventory::Inventory).
    body TEXT NOT NULL,
    FOREIGN KEY (device_id) REFERENCES devices (id)
);

-- One difference between a device and its model, from the inventory that
-- first showed it until one no longer does (`resolved_at`). The same
-- difference seen again is the same row (device, kind, subject).
CREATE TABLE drifts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    device_id BIGINT NOT NULL,
    -- missing, extra, version or file.
    kind VARCHAR(16) NOT NULL,
    -- The package name or the file's path.
    subject VARCHAR(1024) NOT NULL,
    category VARCHAR(64) NULL,
    component VARCHAR(128) NULL,
    expected TEXT NULL,
    actual TEXT NULL,
    diff TEXT NULL,
    -- The operator who changed it through the agent's access endpoint, if one did.
    changed_by VARCHAR(255) NULL,
    model_version_id BIGINT NULL,
    first_seen_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    resolved_at BIGINT NULL,
    -- How it ended: gone (an inventory no longer shows it), remediated, promoted.
    resolution VARCHAR(255) NULL,
    FOREIGN KEY (device_id) REFERENCES devices (id)
);
CREATE INDEX inventories_device ON inventories (device_id, id);
CREATE INDEX drifts_device ON drifts (device_id, resolved_at);
