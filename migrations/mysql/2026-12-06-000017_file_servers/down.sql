DROP TABLE file_server_sites;
DROP TABLE file_servers;
