-- OAuth clients: the services that may introspect and revoke tokens (`gatehouse client add`).
-- The secret is 256 random bits, kept only as its SHA-256 (hex): nothing here lets anyone
-- authenticate as a client, and a secret that random cannot be guessed back from its digest.
CREATE TABLE oauth_clients (
    id          VARCHAR(64)  NOT NULL PRIMARY KEY,
    name        VARCHAR(200) NOT NULL,
    secret_hash CHAR(64)     NOT NULL,
    created_at  BIGINT       NOT NULL
);
