DROP INDEX commands_state_deadlines;
CREATE INDEX commands_state_expires ON commands (state, expires_at);
CREATE INDEX commands_state_sent ON commands (state, sent_at);
CREATE INDEX commands_device_state ON commands (device_id, state);
