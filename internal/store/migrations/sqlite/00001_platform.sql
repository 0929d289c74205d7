-- +goose Up
-- Times are BIGINT microseconds since the Unix epoch (UTC) in both dialects, so
-- comparisons and ordering behave the same on SQLite and PostgreSQL.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE idempotency_keys (
    token_id     TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    body         BLOB NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (token_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- The job queue (internal/jobs). attempt counts claims; a claim is fenced by
-- (locked_by, attempt) so a worker whose lease expired cannot overwrite the outcome.
-- unique_key is held for as long as the row exists (periodic slots, idempotent enqueue).
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    args         TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('available', 'running', 'completed', 'failed', 'cancelled')),
    attempt      INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    run_at       BIGINT NOT NULL,
    locked_by    TEXT,
    locked_until BIGINT,
    last_error   TEXT,
    unique_key   TEXT UNIQUE,
    created_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
-- Claiming reads only due rows; finished rows, the bulk of the table, stay out of it.
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state = 'available';
-- Listing by state in id order, the lease reaper (running) and cleanup (finished).
CREATE INDEX jobs_state ON jobs (state, id);

-- The mail outbox (internal/mail). A row is written in the same transaction as the
-- change that causes the mail. It holds ids and ciphertext only: recipient and data
-- are sealed with the mail-outbox key (bound to the row id) and emptied once the SMTP
-- server has accepted the message; the body is rendered at send time and never stored.
-- last_error holds SMTP codes and classes, never an address or a body. While a sender
-- holds a row (state 'sending'), next_attempt_at is its lease expiry, so the row of a
-- sender that died becomes due again through the same index.
CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY,
    template        TEXT NOT NULL,
    locale          TEXT NOT NULL,
    recipient       BLOB NOT NULL,
    data            BLOB NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until    BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    failed_at       BIGINT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id) WHERE state IN ('pending', 'sending');
CREATE INDEX mail_outbox_state ON mail_outbox (state, id);

-- +goose Down
DROP TABLE mail_outbox;
DROP TABLE jobs;
DROP TABLE idempotency_keys;
DROP TABLE api_tokens;
DROP TABLE meta;
