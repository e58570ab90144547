-- Every revocation poll (each replica, every REVOCATION_SYNC_INTERVAL_MS) reads the disabled
-- users and the users whose old-service tokens were revoked. Without an index each read
-- scanned the whole users table. MySQL and MariaDB have no partial indexes; these plain ones
-- are used for both reads (a range over the few true / non-NULL entries; checked with EXPLAIN
-- on MariaDB 10.11).
CREATE INDEX users_disabled ON users (disabled);
CREATE INDEX users_legacy_tokens_revoked ON users (legacy_tokens_revoked_at);
