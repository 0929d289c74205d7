-- The keystore's own schema, in its own file keystore.db beside the data, so that a
-- backup of the data leaves the keys out. Created idempotently when the keystore opens.
--
-- data_keys: one row per customer. wrapped is the customer's tink AEAD keyset,
-- encrypted by a key derived from the master key whose fingerprint is master_fp.
-- During a master key rotation old_wrapped/old_fp keep the same keyset under the
-- previous master, so a process that still holds only the old master keeps reading;
-- they are cleared when the rotation finishes. A shredded customer keeps a tombstone
-- row (wrapped NULL, shredded_at set), so no new key can ever be confused with the old.
CREATE TABLE IF NOT EXISTS data_keys (
    customer_id TEXT PRIMARY KEY,
    wrapped     BLOB,
    master_fp   TEXT,
    old_wrapped BLOB,
    old_fp      TEXT,
    created_at  BIGINT NOT NULL,
    rotated_at  BIGINT,
    shredded_at BIGINT,
    CHECK ((wrapped IS NULL) = (shredded_at IS NOT NULL)),
    CHECK ((wrapped IS NULL) = (master_fp IS NULL))
);
CREATE INDEX IF NOT EXISTS data_keys_master ON data_keys (master_fp);
-- root_keys: secrets that are not per customer but must survive a master key
-- rotation, such as the blind index key (a rotation must not change every index).
CREATE TABLE IF NOT EXISTS root_keys (
    name        TEXT PRIMARY KEY,
    wrapped     BLOB NOT NULL,
    master_fp   TEXT NOT NULL,
    old_wrapped BLOB,
    old_fp      TEXT,
    created_at  BIGINT NOT NULL,
    rotated_at  BIGINT
);
