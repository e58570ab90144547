-- `POST /auth/logout?scope=all` for the old service's tokens: those issued (`iat`) at or before
-- this Unix time are refused. Gatehouse's own tokens end with their sessions instead.
ALTER TABLE users ADD COLUMN legacy_tokens_revoked_at BIGINT;
