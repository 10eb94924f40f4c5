DROP INDEX commands_queue_head;
ALTER TABLE commands DROP COLUMN in_queue;
