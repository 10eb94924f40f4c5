DROP INDEX commands_queue_head ON commands;
ALTER TABLE commands DROP COLUMN in_queue;
