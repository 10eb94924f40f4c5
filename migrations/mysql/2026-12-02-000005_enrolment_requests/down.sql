DROP TABLE enrolment_requests;
