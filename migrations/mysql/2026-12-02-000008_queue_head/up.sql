-- The head of a device's queue is its open command with the lowest sequence.
-- Read through (device_id, state) that took every open row of the device and
-- a sort: work that grew with the queue, once per command handed out. This
-- flag (1 for an open state, the list in storage::state::OPEN; 0 once closed)
-- and its index make the head one index entry: the first of
-- (device_id, 1, sequence…).
ALTER TABLE commands ADD COLUMN in_queue INT
    GENERATED ALWAYS AS (state IN ('pending', 'sent', 'failed', 'rebooting', 'timedout')) STORED;
CREATE INDEX commands_queue_head ON commands (device_id, in_queue, sequence);
