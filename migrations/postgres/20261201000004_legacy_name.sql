-- Users who came from the old service (imported or lazily migrated): the email of their row
-- there, exactly as it was stored. The old service's tokens are matched to users by this
-- value alone, and only to such users.
ALTER TABLE users ADD COLUMN legacy_name TEXT;
CREATE INDEX users_legacy_name ON users (legacy_name);
