DROP INDEX federation_log_hlc;
