-- Gatehouse schema, version 1 (MySQL 8 / MariaDB 10.5+). Timestamps are Unix seconds.
-- Every column that is looked up compares exactly, as on PostgreSQL and SQLite: the default
-- collations are case- and accent-insensitive ('josé@x' would find 'jose@x').
--   * email, username: utf8mb4_bin. sqlx reads `_bin` columns as VARBINARY (sqlx#3387), so the
--     store selects them as CAST(... AS CHAR).
--   * ASCII identifiers (jti, session ids, token hashes, setting names): latin1_general_cs,
--     case-sensitive and read as text.
CREATE TABLE users (
    id            BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email         VARCHAR(320) COLLATE utf8mb4_bin NOT NULL UNIQUE, -- trimmed and lower-cased by the service
    username      VARCHAR(320) COLLATE utf8mb4_bin UNIQUE,
    name          TEXT         NOT NULL,
    password_hash TEXT         NOT NULL,
    admin         BOOLEAN      NOT NULL DEFAULT FALSE,
    disabled      BOOLEAN      NOT NULL DEFAULT FALSE,
    created_at    BIGINT       NOT NULL,
    updated_at    BIGINT       NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Logged-out tokens, kept until they expire.
CREATE TABLE revoked_tokens (
    jti        VARCHAR(128) CHARACTER SET latin1 COLLATE latin1_general_cs NOT NULL PRIMARY KEY,
    user_id    BIGINT       NOT NULL,
    expires_at BIGINT       NOT NULL,
    revoked_at BIGINT       NOT NULL,
    INDEX revoked_tokens_revoked_at (revoked_at),
    INDEX revoked_tokens_expires_at (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;

-- Deleted users whose tokens may still be unexpired; purged after the longest token lifetime.
CREATE TABLE deleted_users (
    user_id    BIGINT NOT NULL PRIMARY KEY,
    deleted_at BIGINT NOT NULL
) ENGINE = InnoDB;

CREATE TABLE settings (
    name  VARCHAR(128) CHARACTER SET latin1 COLLATE latin1_general_cs NOT NULL PRIMARY KEY,
    value TEXT         NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
