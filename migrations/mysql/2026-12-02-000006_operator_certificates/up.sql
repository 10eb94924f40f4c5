-- Client certificates of operators (role outfit-operator in the subject):
-- they authenticate on the operator listener without a password, and reach
-- an agent's access endpoint, which asks the gateway about each request.
CREATE TABLE operator_certificates (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    operator_id BIGINT NOT NULL,
    -- sha256 of the certificate's DER, hex.
    sha256 CHAR(64) NOT NULL,
    not_after BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    revoked_at BIGINT NULL,
    UNIQUE KEY operator_certificates_sha256 (sha256),
    CONSTRAINT operator_certificates_operator FOREIGN KEY (operator_id) REFERENCES operators (id)
) ENGINE=InnoDB;
