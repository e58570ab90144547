-- Failed sign-ins per login name, shared by every replica: the account lockout's counter.
-- name_key is the SHA-256 (hex) of the normalised login name, so the table holds no email
-- addresses and no attacker-chosen text of unbounded length. `failures` counts every attempt
-- of the current window that has not succeeded, those still being verified included, so
-- concurrent attempts cannot run more verifications than the limit.
CREATE TABLE login_failures (
    name_key          CHAR(64) CHARACTER SET latin1 COLLATE latin1_general_cs NOT NULL PRIMARY KEY,
    failures          INTEGER NOT NULL,
    window_started_at BIGINT  NOT NULL,
    locked_until      BIGINT  NOT NULL DEFAULT 0,
    lockouts          INTEGER NOT NULL DEFAULT 0,
    updated_at        BIGINT  NOT NULL,
    INDEX login_failures_updated_at (updated_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
