-- Manual approval of enrolments (the default; a token is the fast path). An
-- agent without a token sends its signing request; it waits here until an
-- operator approves (the certificate is kept for the agent's next ask) or
-- rejects it. One row per device and key: asking again with the same key
-- finds the same row.
CREATE TABLE enrolment_requests (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    device_id BIGINT NOT NULL,
    -- sha256 of the requested public key (SubjectPublicKeyInfo DER), hex.
    key_sha256 CHAR(64) NOT NULL,
    csr TEXT NOT NULL,
    peer VARCHAR(255) NOT NULL,
    -- waiting, approved or rejected.
    state VARCHAR(16) NOT NULL,
    certificate TEXT NULL,
    decided_by VARCHAR(255) NULL,
    decided_at BIGINT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE KEY enrolment_requests_key (device_id, key_sha256),
    CONSTRAINT enrolment_requests_device FOREIGN KEY (device_id) REFERENCES devices (id)
) ENGINE=InnoDB;
