-- Sessions (one per login) and their refresh tokens. Timestamps are Unix seconds.
CREATE TABLE sessions (
    id                  TEXT   PRIMARY KEY,
    user_id             BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at          BIGINT NOT NULL,
    last_used_at        BIGINT NOT NULL,
    expires_at          BIGINT NOT NULL, -- slides forward on each refresh, up to absolute_expires_at
    absolute_expires_at BIGINT NOT NULL,
    user_agent          TEXT   NOT NULL DEFAULT '',
    client_ip           TEXT   NOT NULL DEFAULT '',
    revoked_at          BIGINT           -- NULL while the session is active
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_revoked_at ON sessions (revoked_at);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Every refresh token a session was given, stored as SHA-256 only. The current one has
-- rotated_at NULL; older ones stay so that presenting one again is recognised as theft.
CREATE TABLE refresh_tokens (
    token_hash TEXT   PRIMARY KEY,
    session_id TEXT   NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at  BIGINT NOT NULL,
    rotated_at BIGINT
);
CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);
