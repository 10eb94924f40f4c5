DROP TABLE proposals;
DROP TABLE federation_log;
DROP TABLE peer_sites;
DROP TABLE peers;
DROP TABLE data_centre;
ALTER TABLE sites DROP COLUMN home;
