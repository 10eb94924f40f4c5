ALTER TABLE components DROP COLUMN plugin;
