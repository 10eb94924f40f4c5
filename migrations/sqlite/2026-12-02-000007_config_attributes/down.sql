ALTER TABLE components DROP COLUMN config_attributes;
