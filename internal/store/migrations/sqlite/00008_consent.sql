-- +goose Up
-- Cookie-consent receipts (C1, C2): what an anonymous website visitor chose in the
-- cookie banner, under which published policy version, whether the browser sent
-- Global Privacy Control, in which language the banner was shown, and when.
-- visitor_id is a random id the banner keeps in the visitor's localStorage; it is
-- not tied to a customer or a person (C4). user_agent_hash is SHA-256 of the
-- User-Agent header, kept as evidence of "how", never the header itself. Receipts
-- are immutable: triggers refuse UPDATE and DELETE. Times are microseconds since
-- the Unix epoch, UTC.
CREATE TABLE consent_receipts (
    id              TEXT PRIMARY KEY,
    visitor_id      TEXT NOT NULL,
    policy_version  INTEGER NOT NULL REFERENCES policy_versions (n),
    choices         TEXT NOT NULL,
    gpc             INTEGER NOT NULL CHECK (gpc IN (0, 1)),
    lang            TEXT NOT NULL CHECK (lang IN ('sv', 'da', 'nb', 'en')),
    created_at      BIGINT NOT NULL,
    user_agent_hash BLOB NOT NULL
);
CREATE INDEX consent_receipts_visitor ON consent_receipts (visitor_id, id);

-- +goose StatementBegin
CREATE TRIGGER consent_receipts_no_update BEFORE UPDATE ON consent_receipts
BEGIN
    SELECT RAISE(ABORT, 'consent_receipts is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER consent_receipts_no_delete BEFORE DELETE ON consent_receipts
BEGIN
    SELECT RAISE(ABORT, 'consent_receipts is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE consent_receipts;
