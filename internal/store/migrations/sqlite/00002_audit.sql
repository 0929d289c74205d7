-- +goose Up
-- The tamper-evident audit log (REQUIREMENTS S4; internal/security/audit.go).
-- Rows are appended unchained (seq and hash NULL) in the transaction of the work they
-- record; one sequencer later gives each a seq and hash = SHA-256(previous hash ||
-- canonical row). Ordinary statements can only do that one update: triggers refuse
-- every other UPDATE and every DELETE. Detail holds small JSON with ids, never
-- personal data.
CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    seq          INTEGER,
    hash         BLOB,
    at           BIGINT NOT NULL,
    actor_kind   TEXT NOT NULL,
    actor_id     TEXT NOT NULL,
    action       TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    reason       TEXT NOT NULL,
    ip           TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    detail       TEXT NOT NULL
);
-- A unique index (not a column constraint) so that the chain can never fork. It also
-- holds the unchained rows (seq NULL), which is how the sequencer finds them: a
-- second index for them would cost every append another index write.
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (OLD.seq IS NULL AND OLD.hash IS NULL AND NEW.seq IS NOT NULL AND NEW.hash IS NOT NULL
    AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.actor_kind IS OLD.actor_kind
    AND NEW.actor_id IS OLD.actor_id AND NEW.action IS OLD.action
    AND NEW.subject_kind IS OLD.subject_kind AND NEW.subject_id IS OLD.subject_id
    AND NEW.reason IS OLD.reason AND NEW.ip IS OLD.ip AND NEW.request_id IS OLD.request_id
    AND NEW.detail IS OLD.detail)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- Signed checkpoints: an Ed25519 signature (key derived from the master key) over
-- "tillit-audit-checkpoint v1\nseq=N\nhash=HEX\n". count is the number of chained
-- entries the checkpoint covers (equal to seq, as seq starts at 1).
CREATE TABLE audit_checkpoints (
    seq        INTEGER PRIMARY KEY,
    head_hash  BLOB NOT NULL,
    count      INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    signature  BLOB NOT NULL,
    public_key BLOB NOT NULL
);

-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_checkpoints;
DROP TABLE audit_log;
