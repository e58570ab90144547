-- Gatehouse schema, version 1 (PostgreSQL). Timestamps are Unix seconds.
CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT      NOT NULL UNIQUE,       -- trimmed and lower-cased by the service
    username      TEXT      UNIQUE,
    name          TEXT      NOT NULL DEFAULT '',
    password_hash TEXT      NOT NULL,
    admin         BOOLEAN   NOT NULL DEFAULT FALSE,
    disabled      BOOLEAN   NOT NULL DEFAULT FALSE,
    created_at    BIGINT    NOT NULL,
    updated_at    BIGINT    NOT NULL
);

-- Logged-out tokens, kept until they expire.
CREATE TABLE revoked_tokens (
    jti        TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_revoked_at ON revoked_tokens (revoked_at);
CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);

-- Deleted users whose tokens may still be unexpired; purged after the longest token lifetime.
CREATE TABLE deleted_users (
    user_id    BIGINT PRIMARY KEY,
    deleted_at BIGINT NOT NULL
);

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
