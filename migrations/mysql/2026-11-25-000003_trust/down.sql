DROP TABLE device_certificates;
DROP TABLE enrolment_tokens;
