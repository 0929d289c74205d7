-- +goose Up
-- Incident register (internal/incident; REQUIREMENTS B1, B2): personal data breaches
-- (B1, with the GDPR Art. 33 72-hour clock) and customer-side incidents (B2, outside
-- the breach duty). The text columns are staff-written descriptions and, by
-- instruction, name no person: affected customers are ids in incident_affected.
-- nature and data_categories are comma-separated lists of identifiers. Instants are
-- BIGINT microseconds since the epoch, UTC.
CREATE TABLE incidents (
    id                   TEXT PRIMARY KEY,
    kind                 TEXT NOT NULL CHECK (kind IN ('breach', 'customer_incident')),
    title                TEXT NOT NULL,
    aware_at             BIGINT NOT NULL,
    occurred_at          BIGINT,
    deadline_at          BIGINT, -- breaches only: Art. 33(1), aware_at + 72 h
    nature               TEXT NOT NULL DEFAULT '',
    data_categories      TEXT NOT NULL DEFAULT '',
    approx_people        BIGINT,
    approx_records       BIGINT,
    likely_consequences  TEXT NOT NULL DEFAULT '',
    measures_taken       TEXT NOT NULL DEFAULT '',
    measures_proposed    TEXT NOT NULL DEFAULT '',
    risk                 TEXT CHECK (risk IN ('none', 'low', 'high')), -- NULL: not assessed yet
    reported_at          BIGINT,
    authority            TEXT,
    authority_reference  TEXT,
    no_report_reason     TEXT,
    no_report_at         BIGINT,
    customer_notified_at BIGINT,
    closed_at            BIGINT,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX incidents_open ON incidents (closed_at, kind, deadline_at);

-- The customers whose data the incident involves (Art. 34 notices when the risk is high).
CREATE TABLE incident_affected (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (incident_id, customer_id)
);
CREATE INDEX incident_affected_customer ON incident_affected (customer_id);

-- What happened to an incident, in order: its documentation (Art. 33(5)).
CREATE TABLE incident_events (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    at          BIGINT NOT NULL,
    action      TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, at);

-- +goose Down
DROP TABLE incident_events;
DROP TABLE incident_affected;
DROP TABLE incidents;
