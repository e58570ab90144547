-- Refresh tokens are now HMACs of (session, generation), checked with the server's key: the
-- session keeps only its current generation and when it was reached. A token of an older
-- generation is recognised as reuse (theft) without a row per token, so refreshing in a loop
-- no longer grows a table. refresh_tokens keeps the tokens issued before, until their
-- sessions are purged; no row is added to it any more.
ALTER TABLE sessions ADD COLUMN refresh_generation BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN refresh_rotated_at BIGINT;
