DROP TABLE audit_log;
DROP TABLE operator_rights;
DROP TABLE operators;
