-- +goose Up
-- Cookie-consent receipts (C1, C2): what an anonymous website visitor chose in the
-- cookie banner, under which published policy version, whether the browser sent
-- Global Privacy Control, in which language the banner was shown, and when.
-- visitor_id is a random id the banner keeps in the visitor's localStorage; it is
-- not tied to a customer or a person (C4). user_agent_hash is SHA-256 of the
-- User-Agent header, kept as evidence of "how", never the header itself. Receipts
-- are immutable: a trigger refuses UPDATE, DELETE and TRUNCATE. Times are
-- microseconds since the Unix epoch, UTC.
CREATE TABLE consent_receipts (
    id              TEXT PRIMARY KEY,
    visitor_id      TEXT NOT NULL,
    policy_version  INTEGER NOT NULL REFERENCES policy_versions (n),
    choices         TEXT NOT NULL,
    gpc             BOOLEAN NOT NULL,
    lang            TEXT NOT NULL CHECK (lang IN ('sv', 'da', 'nb', 'en')),
    created_at      BIGINT NOT NULL,
    user_agent_hash BYTEA NOT NULL
);
CREATE INDEX consent_receipts_visitor ON consent_receipts (visitor_id, id);

-- +goose StatementBegin
CREATE FUNCTION consent_receipts_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER consent_receipts_append_only BEFORE UPDATE OR DELETE ON consent_receipts
    FOR EACH ROW EXECUTE FUNCTION consent_receipts_append_only();
CREATE TRIGGER consent_receipts_no_truncate BEFORE TRUNCATE ON consent_receipts
    FOR EACH STATEMENT EXECUTE FUNCTION consent_receipts_append_only();

-- +goose Down
DROP TABLE consent_receipts;
DROP FUNCTION consent_receipts_append_only();
