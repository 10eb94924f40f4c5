DROP INDEX federation_log_hlc ON federation_log;
