-- Users who came from the old service (imported or lazily migrated): the email of their row
-- there, exactly as it was stored. The old service's tokens are matched to users by this
-- value alone, and only to such users. Byte-exact, like email (read as CAST(... AS CHAR)).
ALTER TABLE users ADD COLUMN legacy_name VARCHAR(320) COLLATE utf8mb4_bin NULL;
CREATE INDEX users_legacy_name ON users (legacy_name);
