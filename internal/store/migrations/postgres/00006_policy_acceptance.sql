-- +goose Up
-- Acceptances of policy versions (P4): that a customer accepted the terms or the
-- privacy policy of a published version, when, and how (a click in the portal, a
-- signed contract, staff on the phone, e-mail, the API), with a reference to the
-- evidence (a contract id, a ticket) and who recorded it. Only the customer's id is
-- kept, no personal data. Times are microseconds since the Unix epoch, UTC.
CREATE TABLE policy_acceptances (
    id            TEXT PRIMARY KEY,
    customer_id   TEXT NOT NULL,
    version       INTEGER NOT NULL REFERENCES policy_versions (n),
    doc           TEXT NOT NULL CHECK (doc IN ('terms', 'privacy')),
    accepted_at   BIGINT NOT NULL,
    method        TEXT NOT NULL CHECK (method IN ('portal_click', 'signed_contract', 'staff_phone', 'email', 'api')),
    evidence_ref  TEXT NOT NULL DEFAULT '',
    recorded_kind TEXT NOT NULL,
    recorded_by   TEXT NOT NULL,
    recorded_at   BIGINT NOT NULL
);
CREATE INDEX policy_acceptances_customer ON policy_acceptances (customer_id, doc, accepted_at);

-- +goose Down
DROP TABLE policy_acceptances;
