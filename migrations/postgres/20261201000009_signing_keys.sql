-- The keys tokens are signed with, and their lifecycle (see src/auth/keys/). `seq` orders the
-- keys: the current one is the highest-numbered key whose `activates_at` has passed, so every
-- replica computes the same states from the same rows. It is unique, so two replicas adding a
-- key at once (the first start, a rotation) cannot both succeed: the loser reads the winner's.
-- `public_jwk` is the public key as a JWK (empty for HS256, whose secret is never stored).
-- `private_key` is the private key, sealed with KEY_ENCRYPTION_KEY (`aes256gcm:`) or not
-- (`plain:`); NULL for HS256 and for a key held in JWT_PRIVATE_KEY_FILE.
CREATE TABLE signing_keys (
    kid          VARCHAR(64) NOT NULL PRIMARY KEY,
    seq          BIGINT      NOT NULL UNIQUE,
    algorithm    VARCHAR(16) NOT NULL,
    public_jwk   TEXT        NOT NULL,
    private_key  TEXT,
    created_at   BIGINT      NOT NULL,
    activates_at BIGINT      NOT NULL,
    retired_at   BIGINT
);
