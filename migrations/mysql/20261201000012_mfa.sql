-- The second factor (TOTP, RFC 6238) and what signing in with it needs (MySQL / MariaDB). Timestamps are Unix
-- seconds. Nothing here lets a database thief produce a code or sign in:
-- - secret_sealed: the TOTP secret under AES-256-GCM (key: KEY_ENCRYPTION_KEY, or one derived
--   from the JWT secret, which is never in the database), the user id as associated data;
-- - recovery codes: only their HMAC-SHA256 (hex) under a key derived the same way;
-- - mfa_challenges: the mfa_token of a half-done login, as SHA-256 (hex) only.
-- last_used_step is the time step of the last code accepted: a code is accepted only if its step
-- is later (a compare-and-set), so no code works twice, on any replica.
-- Hashes and tokens are ASCII and compare case-sensitively (see the first migration).
CREATE TABLE mfa_totp (
    user_id        BIGINT NOT NULL PRIMARY KEY,
    secret_sealed  TEXT   NOT NULL,
    confirmed_at   BIGINT,          -- NULL while pending (enrolled, not confirmed yet)
    last_used_step BIGINT,
    created_at     BIGINT NOT NULL,
    CONSTRAINT mfa_totp_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

CREATE TABLE mfa_recovery_codes (
    user_id    BIGINT   NOT NULL,
    code_hash  CHAR(64) CHARACTER SET latin1 COLLATE latin1_general_cs NOT NULL,
    used_at    BIGINT,
    created_at BIGINT   NOT NULL,
    PRIMARY KEY (user_id, code_hash),
    CONSTRAINT mfa_recovery_codes_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- A login whose password was right, waiting for its second factor (5 minutes, single-use).
-- login_name: the name as typed, which the lockout counts wrong codes under; contract: which
-- login contract's answer completes it.
CREATE TABLE mfa_challenges (
    token_hash CHAR(64)     CHARACTER SET latin1 COLLATE latin1_general_cs NOT NULL PRIMARY KEY,
    user_id    BIGINT       NOT NULL,
    login_name TEXT         NOT NULL,
    contract   VARCHAR(16)  CHARACTER SET latin1 COLLATE latin1_general_cs NOT NULL,
    expires_at BIGINT       NOT NULL,
    used_at    BIGINT,
    INDEX mfa_challenges_expires_at (expires_at),
    CONSTRAINT mfa_challenges_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
