-- When the last access token a session issued expires. An ended session is remembered (and
-- its row kept) until then, whatever ACCESS_TOKEN_TTL is set to later; before this column,
-- lowering the TTL and restarting let logged-out tokens issued under the longer one back in.
-- Existing sessions get their own expiry, which no token of theirs outlives.
ALTER TABLE sessions ADD COLUMN tokens_expire_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET tokens_expire_at = expires_at;
