-- The second factor (TOTP, RFC 6238) and what signing in with it needs. Timestamps are Unix
-- seconds. Nothing here lets a database thief produce a code or sign in:
-- - secret_sealed: the TOTP secret under AES-256-GCM (key: KEY_ENCRYPTION_KEY, or one derived
--   from the JWT secret, which is never in the database), the user id as associated data;
-- - recovery codes: only their HMAC-SHA256 (hex) under a key derived the same way;
-- - mfa_challenges: the mfa_token of a half-done login, as SHA-256 (hex) only.
-- last_used_step is the time step of the last code accepted: a code is accepted only if its step
-- is later (a compare-and-set), so no code works twice, on any replica.
CREATE TABLE mfa_totp (
    user_id        BIGINT  NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed  TEXT    NOT NULL,
    confirmed_at   INTEGER,          -- NULL while pending (enrolled, not confirmed yet)
    last_used_step INTEGER,
    created_at     INTEGER NOT NULL
);

CREATE TABLE mfa_recovery_codes (
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT    NOT NULL,
    used_at    INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, code_hash)
);

-- A login whose password was right, waiting for its second factor (5 minutes, single-use).
-- login_name: the name as typed, which the lockout counts wrong codes under; contract: which
-- login contract's answer completes it.
CREATE TABLE mfa_challenges (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    login_name TEXT    NOT NULL,
    contract   TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX mfa_challenges_expires_at ON mfa_challenges (expires_at);
