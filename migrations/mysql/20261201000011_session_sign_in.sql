-- How the session's user signed in, so that every access token of the session, refreshed or
-- not, says it (`auth_time`, `amr`): when the user last proved who they are (the login, or a
-- re-authentication since) and with which methods, space-separated (`pwd`, `pwd otp`,
-- `pwd rc`). NULL for sessions from before: read as a password sign-in when they started.
ALTER TABLE sessions ADD COLUMN auth_time BIGINT NULL;
ALTER TABLE sessions ADD COLUMN amr VARCHAR(32) NULL;
