-- Sessions (one per login) and their refresh tokens (MySQL / MariaDB). Timestamps are Unix seconds.
-- Ids and hashes are ASCII and compare case-sensitively (see the first migration).
CREATE TABLE sessions (
    id                  VARCHAR(128) CHARACTER SET latin1 COLLATE latin1_general_cs NOT NULL PRIMARY KEY,
    user_id             BIGINT       NOT NULL,
    created_at          BIGINT       NOT NULL,
    last_used_at        BIGINT       NOT NULL,
    expires_at          BIGINT       NOT NULL, -- slides forward on each refresh, up to absolute_expires_at
    absolute_expires_at BIGINT       NOT NULL,
    user_agent          TEXT         NOT NULL,
    client_ip           VARCHAR(64)  NOT NULL,
    revoked_at          BIGINT,                -- NULL while the session is active
    INDEX sessions_user_id (user_id),
    INDEX sessions_revoked_at (revoked_at),
    INDEX sessions_expires_at (expires_at),
    CONSTRAINT sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Every refresh token a session was given, stored as SHA-256 only. The current one has
-- rotated_at NULL; older ones stay so that presenting one again is recognised as theft.
CREATE TABLE refresh_tokens (
    token_hash VARCHAR(128) CHARACTER SET latin1 COLLATE latin1_general_cs NOT NULL PRIMARY KEY,
    session_id VARCHAR(128) CHARACTER SET latin1 COLLATE latin1_general_cs NOT NULL,
    issued_at  BIGINT       NOT NULL,
    rotated_at BIGINT,
    INDEX refresh_tokens_session_id (session_id),
    CONSTRAINT refresh_tokens_session FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
