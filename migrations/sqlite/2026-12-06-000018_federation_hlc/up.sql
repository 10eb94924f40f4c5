-- Every local edit stamps its entry past the newest clock held (MAX(hlc)):
-- read from this index, not by scanning the whole log.
CREATE INDEX federation_log_hlc ON federation_log (hlc);
