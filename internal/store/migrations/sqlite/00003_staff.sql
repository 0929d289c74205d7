-- +goose Up
-- Staff accounts, their devices and sessions (internal/security, S3 and S5).
-- email is stored lowercased. password_hash is an argon2id PHC string. totp_secret is
-- sealed with the staff-totp key, bound to the staff id; totp_last_step is the last
-- accepted TOTP time step, so a code cannot be replayed. locked_until is never
-- permanent: it is the end of the current backoff after repeated failures.
CREATE TABLE staff (
    id                  TEXT PRIMARY KEY,
    email               TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    role                TEXT NOT NULL,
    password_hash       TEXT NOT NULL,
    totp_secret         BLOB,
    totp_confirmed_at   BIGINT,
    totp_last_step      BIGINT NOT NULL DEFAULT 0,
    disabled_at         BIGINT,
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    locked_until        BIGINT,
    created_at          BIGINT NOT NULL,
    password_changed_at BIGINT NOT NULL
);

-- Recovery codes are kept as SHA-256 hashes, one row each, so that using one is a
-- single conditional UPDATE (used_at IS NULL) and can never succeed twice.
CREATE TABLE staff_recovery_codes (
    staff_id   TEXT NOT NULL REFERENCES staff (id),
    code_hash  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (staff_id, code_hash)
);

-- A device is the SHA-256 of a random cookie value; approved_by is a staff id or
-- "cli" / "bootstrap", so it carries no foreign key.
CREATE TABLE staff_devices (
    staff_id    TEXT NOT NULL REFERENCES staff (id),
    device_hash TEXT NOT NULL,
    first_seen  BIGINT NOT NULL,
    last_ip     TEXT NOT NULL,
    approved_at BIGINT,
    approved_by TEXT,
    PRIMARY KEY (staff_id, device_hash)
);

-- Server-side sessions: the cookie holds 256 random bits, the table their SHA-256.
-- idle_timeout is in microseconds; expires_at is the absolute end.
CREATE TABLE staff_sessions (
    id_hash         TEXT PRIMARY KEY,
    staff_id        TEXT NOT NULL REFERENCES staff (id),
    device_hash     TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    idle_timeout    BIGINT NOT NULL,
    ip              TEXT NOT NULL,
    user_agent_hash TEXT NOT NULL,
    device_approved BOOLEAN NOT NULL,
    second_factor   TEXT NOT NULL
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id, device_hash);
CREATE INDEX staff_sessions_expires ON staff_sessions (expires_at);

-- +goose Down
DROP TABLE staff_sessions;
DROP TABLE staff_devices;
DROP TABLE staff_recovery_codes;
DROP TABLE staff;
