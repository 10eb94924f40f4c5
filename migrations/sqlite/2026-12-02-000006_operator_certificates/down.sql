DROP TABLE operator_certificates;
