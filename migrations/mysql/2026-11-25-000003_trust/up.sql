-- Trust: one-time enrolment tokens and the certificates issued to devices.

-- A token lets one agent enrol once, before it expires, as one device of one
-- site. Only its sha256 is stored: the database never holds a usable token.
CREATE TABLE enrolment_tokens (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    device_id BIGINT NOT NULL,
    token_sha256 CHAR(64) NOT NULL,
    -- The address the device's certificate names (its poke listener).
    address VARCHAR(255) NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE KEY enrolment_tokens_sha256 (token_sha256),
    CONSTRAINT enrolment_tokens_device FOREIGN KEY (device_id) REFERENCES devices (id)
) ENGINE=InnoDB;

-- Every certificate issued to a device, by fingerprint (sha256 of its DER):
-- a request is the device's only if its client certificate is listed here,
-- unexpired and not revoked, so a revocation takes effect on the next request.
CREATE TABLE device_certificates (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    device_id BIGINT NOT NULL,
    sha256 CHAR(64) NOT NULL,
    not_after BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    revoked_at BIGINT NULL,
    UNIQUE KEY device_certificates_sha256 (sha256),
    CONSTRAINT device_certificates_device FOREIGN KEY (device_id) REFERENCES devices (id)
) ENGINE=InnoDB;
