-- Every secondary index holding `state` is rewritten twice per command on the
-- agents' path (handed out, then finished): with three of them that was most
-- of the cost of the exchange's one UPDATE, and `outfit-gateway bench` ran
-- 20-28 % more commands/s without two. One index is left for the sweep:
-- pending commands by deadline, and sent ones by age (`sent_at` rides along,
-- so only overdue ones cost a row read). A device's own commands are
-- read through (device_id, sequence) and (device_id, in_queue, sequence).
DROP INDEX commands_device_state;
DROP INDEX commands_state_sent;
DROP INDEX commands_state_expires;
CREATE INDEX commands_state_deadlines ON commands (state, expires_at, sent_at);
