-- +goose Up
-- Published policy versions (P3, P4): immutable, numbered from 1. The source is the
-- policy file as published; rendered pages are derived from it.
CREATE TABLE policy_versions (
    n            INTEGER PRIMARY KEY,
    sha256       TEXT NOT NULL,
    source       BYTEA NOT NULL,
    filename     TEXT NOT NULL,
    effective_at BIGINT NOT NULL,
    published_at BIGINT NOT NULL
);
CREATE INDEX policy_versions_effective ON policy_versions (effective_at);

-- +goose StatementBegin
CREATE FUNCTION policy_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'published policy versions cannot be changed or deleted';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER policy_versions_immutable BEFORE UPDATE OR DELETE ON policy_versions
    FOR EACH ROW EXECUTE FUNCTION policy_versions_immutable();

-- +goose Down
DROP TABLE policy_versions;
DROP FUNCTION policy_versions_immutable();
