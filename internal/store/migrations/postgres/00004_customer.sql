-- +goose Up
-- The customer register (internal/customer; REQUIREMENTS K1, K2, K5, K6, S2).
-- Personal data is never stored in plaintext: every personal value is a row of
-- customer_fields, sealed with the customer's own data key (the keystore binds each
-- ciphertext to the customer id and field name). customers holds only what must be
-- queried in the clear: ids, the customer number, kind, status, language, country, and
-- blind indexes (keyed hashes) of the e-mail, phone and identity or org number for exact
-- lookups. A duplicate identity number or primary e-mail is refused by UNIQUE.
CREATE TABLE customers (
    id            TEXT PRIMARY KEY,
    number        BIGINT NOT NULL UNIQUE,
    kind          TEXT NOT NULL CHECK (kind IN ('person', 'company')),
    status        TEXT NOT NULL CHECK (status IN ('prospect', 'active', 'ended')),
    ended_at      BIGINT,
    language      TEXT NOT NULL CHECK (language IN ('sv', 'da', 'nb', 'en')),
    country       TEXT NOT NULL CHECK (country IN ('SE', 'DK', 'NO')),
    identity_bidx TEXT UNIQUE,
    email_bidx    TEXT UNIQUE,
    phone_bidx    TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX customers_phone ON customers (phone_bidx);

-- Customer numbers: human-readable, unique, from 10001. A sequence (not MAX+1) so that
-- the parallel writers never wait on each other; a rolled-back create leaves a gap,
-- which customer numbers may have (invoice numbers may not).
CREATE SEQUENCE customer_number_seq START 10001;

-- The current value of each field with its source (K5): who set it (actor) and
-- through which channel (source), and when.
CREATE TABLE customer_fields (
    customer_id TEXT NOT NULL REFERENCES customers (id),
    field       TEXT NOT NULL,
    value       BYTEA NOT NULL,
    source      TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    set_at      BIGINT NOT NULL,
    PRIMARY KEY (customer_id, field)
);

-- Every replaced or removed value, still sealed with the same customer key, with its
-- original source and when it was replaced.
CREATE TABLE customer_field_history (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    field       TEXT NOT NULL,
    value       BYTEA NOT NULL,
    source      TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    set_at      BIGINT NOT NULL,
    replaced_at BIGINT NOT NULL
);
CREATE INDEX customer_field_history_field ON customer_field_history (customer_id, field, replaced_at);

-- Notes from mail, phone calls and meetings (K6), sealed; created_at drives their own
-- retention.
CREATE TABLE customer_notes (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    channel     TEXT NOT NULL CHECK (channel IN ('email', 'phone', 'meeting')),
    body        BYTEA NOT NULL,
    source      TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX customer_notes_customer ON customer_notes (customer_id, created_at);
CREATE INDEX customer_notes_created ON customer_notes (created_at);

-- +goose Down
DROP TABLE customer_notes;
DROP TABLE customer_field_history;
DROP TABLE customer_fields;
DROP TABLE customers;
DROP SEQUENCE customer_number_seq;
