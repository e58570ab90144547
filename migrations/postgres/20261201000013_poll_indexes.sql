-- Every revocation poll (each replica, every REVOCATION_SYNC_INTERVAL_MS) reads the disabled
-- users and the users whose old-service tokens were revoked. Without an index each read
-- scanned the whole users table: on PostgreSQL with 1,000,000 users, 41-59 ms of parallel
-- sequential scan per query; with these partial indexes, 0.3 ms. They hold only those few
-- rows.
CREATE INDEX users_disabled ON users (id) WHERE disabled;
CREATE INDEX users_legacy_tokens_revoked ON users (id, legacy_tokens_revoked_at)
    WHERE legacy_tokens_revoked_at IS NOT NULL;
