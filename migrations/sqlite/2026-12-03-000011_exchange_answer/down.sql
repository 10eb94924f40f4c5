-- The MySQL migration of the same name widens exchanges.answer; SQLite's TEXT
-- has no length, so there is nothing to change here.
SELECT 1;
