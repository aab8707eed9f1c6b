-- Tenant secrets, encrypted with AES-256-GCM under the node's secrets key (never stored here). Each value has its
-- own random 96-bit nonce; tenant and name are the cipher's associated data, so a ciphertext copied to another
-- row does not decrypt. key_id names the key that sealed the row (a hash prefix, not the key), so a node started
-- with another key says so instead of failing on the first task. Binary columns are base64 TEXT: one portable schema.
CREATE TABLE secrets (
    tenant     TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    key_id     TEXT   NOT NULL,
    nonce      TEXT   NOT NULL,
    ciphertext TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, name)
);
