-- OAuth clients: the services that may introspect and revoke tokens (`gatehouse client add`).
-- The secret is 256 random bits, kept only as its SHA-256 (hex): nothing here lets anyone
-- authenticate as a client, and a secret that random cannot be guessed back from its digest.
-- Ids and digests are ASCII and compare case-sensitively (see the first migration).
CREATE TABLE oauth_clients (
    id          VARCHAR(64)  CHARACTER SET latin1 COLLATE latin1_general_cs NOT NULL PRIMARY KEY,
    name        VARCHAR(200) NOT NULL,
    secret_hash CHAR(64)     CHARACTER SET latin1 COLLATE latin1_general_cs NOT NULL,
    created_at  BIGINT       NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
