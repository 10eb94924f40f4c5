-- The plug-in a model names to serve a component (install and configure),
-- e.g. "files"; NULL: the agent picks by package format and kind of change.
-- Checked at queue time against the plug-ins the device reported.
ALTER TABLE components ADD COLUMN plugin TEXT NULL;
