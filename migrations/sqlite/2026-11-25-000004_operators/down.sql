DROP TABLE audit_log;
DROP TABLE operator_rights;
DROP TABLE group_members;
DROP TABLE operator_groups;
DROP TABLE operators;
