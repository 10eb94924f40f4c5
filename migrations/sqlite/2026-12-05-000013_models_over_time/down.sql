DROP TABLE rollout_devices;
DROP TABLE rollouts;
ALTER TABLE role_categories DROP COLUMN description;
ALTER TABLE role_versions DROP COLUMN reason;
ALTER TABLE role_versions DROP COLUMN author;
ALTER TABLE model_versions DROP COLUMN restores;
ALTER TABLE model_versions DROP COLUMN reason;
ALTER TABLE model_versions DROP COLUMN author;
