-- What a device's agent said of itself in its latest Hello, as JSON
-- {"platform": "linux-x86_64", "plugins": [{"name", "version", "world",
-- "formats", "changes"}]}; NULL: never said Hello, or an agent too old to
-- report. The gateway checks commands against it before queueing them
-- (gateway/src/serving.rs).
ALTER TABLE devices ADD COLUMN agent_report TEXT NULL;
