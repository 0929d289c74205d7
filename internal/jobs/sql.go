package jobs

import (
	"fmt"
	"strings"
	"time"

	"tillit/internal/store"
)

// The queue's SQL. Everything is shared by both dialects except the claim, which on
// PostgreSQL skips rows other processes hold (on SQLite the single writer already
// serializes claims) and on SQLite names its index. State names are literals so the partial index jobs_due applies.

const queryTimeout = 10 * time.Second

const jobColumns = `id, kind, args, state, attempt, max_attempts, run_at, created_at, finished_at, last_error`

const sqlInsert = `INSERT INTO jobs (id, kind, args, state, attempt, max_attempts, run_at, unique_key, created_at)
VALUES ($1, $2, $3, 'available', 0, $4, $5, $6, $7)
ON CONFLICT (unique_key) DO NOTHING`

// claimSQL takes the oldest due job of the given kinds: $1 process id, $2 lease end,
// $3 now, $4... kinds.
func claimSQL(d store.Dialect, kinds int) string {
	in := make([]string, kinds)
	for i := range in {
		in[i] = fmt.Sprintf("$%d", i+4)
	}
	from, lock := "jobs", ""
	switch d {
	case store.Postgres:
		lock = ` FOR UPDATE SKIP LOCKED`
	case store.SQLite:
		// Without statistics SQLite prefers jobs_state and sorts every available row;
		// jobs_due yields the oldest due job directly, however long the backlog.
		from = "jobs INDEXED BY jobs_due"
	}
	return `UPDATE jobs SET state = 'running', attempt = attempt + 1, locked_by = $1, locked_until = $2
WHERE id = (SELECT id FROM ` + from + `
            WHERE state = 'available' AND run_at <= $3 AND kind IN (` + strings.Join(in, ", ") + `)
            ORDER BY run_at, id LIMIT 1` + lock + `)
  AND state = 'available'
RETURNING ` + jobColumns
}

// The statements below apply only while the row is still this worker's claim: running,
// locked by this process, at this attempt. A worker whose lease expired (and whose job
// another process has since taken) changes nothing.
const fence = ` WHERE id = $2 AND state = 'running' AND locked_by = $3 AND attempt = $4`

// $1 new lease end.
const sqlHeartbeat = `UPDATE jobs SET locked_until = $1` + fence

// $1 now.
const sqlComplete = `UPDATE jobs SET state = 'completed', finished_at = $1, locked_by = NULL, locked_until = NULL` + fence

// $1 next run, $5 error text.
const sqlRetryLater = `UPDATE jobs SET state = 'available', run_at = $1, last_error = $5, locked_by = NULL, locked_until = NULL` + fence

// $1 now, $5 error text.
const sqlFail = `UPDATE jobs SET state = 'failed', finished_at = $1, last_error = $5, locked_by = NULL, locked_until = NULL` + fence

// Shutdown interrupted the handler: the job goes back without using up the attempt.
// $1 now.
const sqlRequeue = `UPDATE jobs SET state = 'available', run_at = $1, attempt = attempt - 1, locked_by = NULL, locked_until = NULL` + fence

// The reaper: $1 now. A job whose lease ran out while its worker was gone returns to
// the queue, or fails if that was its last attempt (a job that kills its process every
// time must not loop for ever).
const sqlReap = `UPDATE jobs SET
    state = CASE WHEN attempt >= max_attempts THEN 'failed' ELSE 'available' END,
    finished_at = CASE WHEN attempt >= max_attempts THEN CAST($1 AS BIGINT) ELSE NULL END,
    run_at = $1,
    last_error = 'lease expired: the worker stopped without reporting',
    locked_by = NULL, locked_until = NULL
WHERE state = 'running' AND locked_until < $1`

// $1 now, $2 id.
const sqlRetry = `UPDATE jobs SET state = 'available', attempt = 0, run_at = $1, finished_at = NULL, locked_by = NULL, locked_until = NULL
WHERE id = $2 AND state = 'failed'`

// $1 now, $2 id.
const sqlCancel = `UPDATE jobs SET state = 'cancelled', finished_at = $1, locked_by = NULL, locked_until = NULL
WHERE id = $2 AND state IN ('available', 'running', 'failed')`

// $1 cutoff, $2 batch size. Batched so that no one write holds the SQLite writer long.
const sqlCleanup = `DELETE FROM jobs WHERE id IN (
    SELECT id FROM jobs WHERE state IN ('completed', 'cancelled') AND finished_at < $1 LIMIT $2)`
