-- What a component's configuration file must have besides its contents, as
-- JSON {"mode": "640", "owner": "web", "group": "adm"} (each optional);
-- NULL: keep what the file has. Read by the files plug-in (WIT 1.1).
ALTER TABLE components ADD COLUMN config_attributes TEXT NULL;
