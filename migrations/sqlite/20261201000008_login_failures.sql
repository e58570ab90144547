-- Failed sign-ins per login name, shared by every replica: the account lockout's counter.
-- name_key is the SHA-256 (hex) of the normalised login name, so the table holds no email
-- addresses and no attacker-chosen text of unbounded length. `failures` counts every attempt
-- of the current window that has not succeeded, those still being verified included, so
-- concurrent attempts cannot run more verifications than the limit.
CREATE TABLE login_failures (
    name_key TEXT NOT NULL PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_started_at INTEGER NOT NULL,
    locked_until INTEGER NOT NULL DEFAULT 0,
    lockouts INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
CREATE INDEX login_failures_updated_at ON login_failures (updated_at);
