-- +goose Up
-- The tamper-evident audit log (REQUIREMENTS S4; internal/security/audit.go).
-- Rows are appended unchained (seq and hash NULL) in the transaction of the work they
-- record; one sequencer later gives each a seq and hash = SHA-256(previous hash ||
-- canonical row). Ordinary statements can only do that one update: a trigger refuses
-- every other UPDATE, every DELETE and TRUNCATE. Detail holds small JSON with ids,
-- never personal data.
CREATE TABLE audit_log (
    id           TEXT PRIMARY KEY,
    seq          BIGINT,
    hash         BYTEA,
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
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The sequencer's update: give an unchained row its seq and hash, nothing else.
    IF TG_OP = 'UPDATE' THEN
        IF OLD.seq IS NULL AND OLD.hash IS NULL AND NEW.seq IS NOT NULL AND NEW.hash IS NOT NULL
           AND (to_jsonb(NEW) - 'seq' - 'hash') = (to_jsonb(OLD) - 'seq' - 'hash') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Signed checkpoints: an Ed25519 signature (key derived from the master key) over
-- "tillit-audit-checkpoint v1\nseq=N\nhash=HEX\n". count is the number of chained
-- entries the checkpoint covers (equal to seq, as seq starts at 1).
CREATE TABLE audit_checkpoints (
    seq        BIGINT PRIMARY KEY,
    head_hash  BYTEA NOT NULL,
    count      BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    signature  BYTEA NOT NULL,
    public_key BYTEA NOT NULL
);

-- +goose StatementBegin
CREATE FUNCTION audit_checkpoints_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_checkpoints_append_only();

-- +goose Down
DROP TABLE audit_checkpoints;
DROP TABLE audit_log;
DROP FUNCTION audit_checkpoints_append_only();
DROP FUNCTION audit_log_append_only();
