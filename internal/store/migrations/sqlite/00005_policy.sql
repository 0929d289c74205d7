-- +goose Up
-- Published policy versions (P3, P4): immutable, numbered from 1. The source is the
-- policy file as published; rendered pages are derived from it.
CREATE TABLE policy_versions (
    n            INTEGER PRIMARY KEY,
    sha256       TEXT NOT NULL,
    source       BLOB NOT NULL,
    filename     TEXT NOT NULL,
    effective_at BIGINT NOT NULL,
    published_at BIGINT NOT NULL
);
CREATE INDEX policy_versions_effective ON policy_versions (effective_at);

-- +goose StatementBegin
CREATE TRIGGER policy_versions_immutable BEFORE UPDATE ON policy_versions
BEGIN
    SELECT RAISE(ABORT, 'published policy versions cannot be changed');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER policy_versions_kept BEFORE DELETE ON policy_versions
BEGIN
    SELECT RAISE(ABORT, 'published policy versions cannot be deleted');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE policy_versions;
