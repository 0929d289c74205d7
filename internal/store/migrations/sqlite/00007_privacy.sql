-- +goose Up
-- Data-subject requests (internal/privacy; REQUIREMENTS R1, R2, R4-R7). A request
-- holds no personal data in the clear: the customer is an id, the reference points at
-- where the request came in (a ticket, a mail message, a scanned letter), and the
-- identity verification note is sealed with the customer's own data key. Dates are
-- ISO 'YYYY-MM-DD' text (calendar days in the company's zone; they sort as text);
-- instants are BIGINT microseconds since the epoch, UTC.
CREATE TABLE privacy_requests (
    id                    TEXT PRIMARY KEY,
    kind                  TEXT NOT NULL CHECK (kind IN ('access', 'rectification', 'erasure', 'restriction',
                              'portability', 'objection', 'consent_withdrawal')),
    customer_id           TEXT REFERENCES customers (id),
    channel               TEXT NOT NULL CHECK (channel IN ('portal', 'email', 'post', 'api', 'phone')),
    reference             TEXT NOT NULL DEFAULT '',
    received_on           TEXT NOT NULL,
    state                 TEXT NOT NULL CHECK (state IN ('received', 'identity_verified', 'in_progress',
                              'completed', 'refused')),
    deadline              TEXT NOT NULL,
    extended_deadline     TEXT,
    due_on                TEXT NOT NULL, -- extended_deadline if set, else deadline: what overdue compares
    extension_reason      TEXT,
    extended_at           BIGINT,
    extension_notified_at BIGINT,
    verification_method   TEXT CHECK (verification_method IN ('portal_session', 'signed_letter', 'in_person', 'other')),
    verification_note     BLOB,
    verified_by_kind      TEXT,
    verified_by_id        TEXT,
    verified_at           BIGINT,
    refusal_reason        TEXT,
    complaint_authority   TEXT,
    completed_at          BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX privacy_requests_open ON privacy_requests (state, due_on);
CREATE INDEX privacy_requests_customer ON privacy_requests (customer_id);

-- What happened to a request, in order: its history for staff and for the answer.
CREATE TABLE privacy_request_events (
    id         TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES privacy_requests (id),
    at         BIGINT NOT NULL,
    action     TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id   TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX privacy_request_events_request ON privacy_request_events (request_id, at);

-- One deadline reminder per request and day, so a reminder run repeated the same day
-- (a retried job, two processes) reminds once.
CREATE TABLE privacy_reminders (
    request_id TEXT NOT NULL REFERENCES privacy_requests (id),
    on_day     TEXT NOT NULL,
    due_on     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (request_id, on_day)
);

-- +goose Down
DROP TABLE privacy_reminders;
DROP TABLE privacy_request_events;
DROP TABLE privacy_requests;
