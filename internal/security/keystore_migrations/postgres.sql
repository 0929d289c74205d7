-- The keystore's own schema on PostgreSQL: tillit_keys, apart from the data tables, so
-- that operators can dump the data without it (pg_dump --exclude-schema=tillit_keys)
-- and grant it to a role of its own. Created idempotently when the keystore opens.
-- See sqlite.sql for what the columns mean.
CREATE SCHEMA IF NOT EXISTS tillit_keys;
CREATE TABLE IF NOT EXISTS tillit_keys.data_keys (
    customer_id TEXT PRIMARY KEY,
    wrapped     BYTEA,
    master_fp   TEXT,
    old_wrapped BYTEA,
    old_fp      TEXT,
    created_at  BIGINT NOT NULL,
    rotated_at  BIGINT,
    shredded_at BIGINT,
    CHECK ((wrapped IS NULL) = (shredded_at IS NOT NULL)),
    CHECK ((wrapped IS NULL) = (master_fp IS NULL))
);
CREATE INDEX IF NOT EXISTS data_keys_master ON tillit_keys.data_keys (master_fp);
CREATE TABLE IF NOT EXISTS tillit_keys.root_keys (
    name        TEXT PRIMARY KEY,
    wrapped     BYTEA NOT NULL,
    master_fp   TEXT NOT NULL,
    old_wrapped BYTEA,
    old_fp      TEXT,
    created_at  BIGINT NOT NULL,
    rotated_at  BIGINT
);
