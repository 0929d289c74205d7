-- Queries of the mail outbox, shared by SQLite and PostgreSQL. Each starts with a
-- "-- name:" line; NewOutbox fails if one it needs is missing. Times are microseconds.

-- name: insert
INSERT INTO mail_outbox (id, template, locale, recipient, data, state, attempts, next_attempt_at, created_at)
VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6);

-- name: next
-- The oldest row that is due at $1: pending, or held by a sender whose lease ran out.
SELECT id, attempts FROM mail_outbox
WHERE state IN ('pending', 'sending') AND next_attempt_at <= $1
ORDER BY next_attempt_at, id
LIMIT 1;

-- name: claim
-- Takes the row for one attempt; the WHERE repeats "due" so that of two senders racing
-- for a row exactly one gets it. While held, next_attempt_at is the lease expiry.
UPDATE mail_outbox
SET state = 'sending', attempts = attempts + 1, locked_until = $2, next_attempt_at = $2
WHERE id = $1 AND state IN ('pending', 'sending') AND next_attempt_at <= $3
RETURNING template, locale, recipient, data, attempts;

-- name: give_up
-- A due row that has used all its attempts (its last sender stopped without a verdict).
UPDATE mail_outbox
SET state = 'failed', failed_at = $2, locked_until = NULL, last_error = $4
WHERE id = $1 AND state IN ('pending', 'sending') AND next_attempt_at <= $3;

-- name: mark_sent
-- The server accepted the message: whoever holds the row now, it is sent. The
-- ciphertexts go, so the delivered body cannot be rebuilt.
UPDATE mail_outbox
SET state = 'sent', sent_at = $2, recipient = $3, data = $3, locked_until = NULL, last_error = NULL
WHERE id = $1 AND state <> 'sent';

-- name: retry
-- Fenced by the attempt number: a sender whose lease ran out and whose row was taken by
-- another sender leaves the row alone.
UPDATE mail_outbox
SET state = 'pending', next_attempt_at = $3, locked_until = NULL, last_error = $4
WHERE id = $1 AND state = 'sending' AND attempts = $2;

-- name: mark_failed
UPDATE mail_outbox
SET state = 'failed', failed_at = $3, locked_until = NULL, last_error = $4
WHERE id = $1 AND state = 'sending' AND attempts = $2;

-- name: list
SELECT id, template, locale, state, attempts, created_at, next_attempt_at, locked_until,
       sent_at, failed_at, last_error
FROM mail_outbox
ORDER BY id DESC
LIMIT $1;

-- name: list_state
SELECT id, template, locale, state, attempts, created_at, next_attempt_at, locked_until,
       sent_at, failed_at, last_error
FROM mail_outbox
WHERE state = $1
ORDER BY id DESC
LIMIT $2;
