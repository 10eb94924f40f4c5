-- Console sign-ins with a password: the browser holds the token in a cookie,
-- the gateway only its sha256, so a copy of the database signs nobody in.
-- A session ends when it expires, when its operator signs out, or when the
-- operator's password is changed.
CREATE TABLE console_sessions (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    -- sha256 of the cookie's token, hex.
    token_sha256 CHAR(64) NOT NULL,
    operator_id BIGINT NOT NULL,
    -- The token every form of this session carries (CSRF).
    csrf CHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT NULL,
    UNIQUE KEY console_sessions_token (token_sha256),
    CONSTRAINT console_sessions_operator FOREIGN KEY (operator_id) REFERENCES operators (id)
) ENGINE=InnoDB;
