ALTER TABLE devices DROP COLUMN agent_report;
