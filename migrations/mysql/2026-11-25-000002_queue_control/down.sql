DROP TABLE script_steps;
DROP TABLE scripts;
DROP INDEX commands_state_sent ON commands;
DROP INDEX commands_state_expires ON commands;
ALTER TABLE commands DROP COLUMN expires_at;
ALTER TABLE devices DROP COLUMN provisioned_from;
