-- When the last access token a deleted user's sessions issued expires: the tombstone that
-- refuses their tokens is kept at least until then, whatever ACCESS_TOKEN_TTL says later.
-- Tombstones from before keep the old rule (the longer of the TTL and a day).
ALTER TABLE deleted_users ADD COLUMN tokens_expire_at BIGINT NOT NULL DEFAULT 0;
