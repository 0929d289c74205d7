-- +goose Up
-- Recipient register and disclosure log (internal/disclosure; REQUIREMENTS D1, D2).
-- recipients: who customer data may be disclosed to, the fields they may receive
-- (allowed_fields, the allow-list) and the purposes, with the Chapter V transfer
-- basis of a recipient outside the EU/EEA. disclosures: which field NAMES were
-- disclosed to whom, why and when; never the values. Lists are comma-separated
-- identifiers. Instants are BIGINT microseconds since the epoch, UTC.
CREATE TABLE recipients (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('processor', 'recipient', 'authority')),
    country        TEXT NOT NULL,
    transfer_basis TEXT NOT NULL CHECK (transfer_basis IN ('adequacy', 'scc', 'bcr', 'derogation', 'none')),
    agreement_date TEXT NOT NULL DEFAULT '', -- YYYY-MM-DD, '' when none
    allowed_fields TEXT NOT NULL DEFAULT '',
    purposes       TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE disclosures (
    id           TEXT PRIMARY KEY,
    recipient_id TEXT NOT NULL REFERENCES recipients (id),
    customer_id  TEXT NOT NULL REFERENCES customers (id),
    fields       TEXT NOT NULL, -- field names only
    purpose      TEXT NOT NULL,
    basis_kind   TEXT NOT NULL CHECK (basis_kind IN ('order', 'request', 'authority_request')),
    basis_ref    TEXT NOT NULL DEFAULT '',
    actor_kind   TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX disclosures_customer ON disclosures (customer_id, at);
CREATE INDEX disclosures_recipient ON disclosures (recipient_id, at);

-- +goose Down
DROP TABLE disclosures;
DROP TABLE recipients;
