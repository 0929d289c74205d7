// Package jobs is Tillit's durable job queue: background work (deadline reminders,
// retention runs, dunning) kept as rows of the jobs table in Tillit's own database, on
// SQLite and PostgreSQL alike, so that a crash loses nothing acknowledged.
//
// A room enqueues a job inside the same store.Write as the change that causes it, so the
// job exists if and only if the change committed. Every process that calls Run claims
// due jobs one at a time under a lease, runs the registered Handler, and records the
// outcome; a process that dies mid-job (kill -9, power loss) stops renewing its lease
// and another process takes the job again once the lease has expired. Delivery is
// therefore at least once: handlers must be idempotent. Enqueue wakes the workers of
// its own process at once; other processes find the job within Options.Poll.
//
// Periodic jobs need no leader: every process inserts the job for the current time slot
// under a unique key, and the database keeps exactly one.
//
// Personal data never enters this table in plaintext. Job args carry ids only (a
// customer id, never a name or an e-mail address); the handler loads what it needs.
// last_error keeps a handler's error text, truncated to a kilobyte, so handlers must
// return errors that name ids, not people. Args are never logged.
package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tillit/internal/store"
)

// Job states. A job moves available -> running -> completed, back to available for a
// retry after a failure, to failed once its attempts are spent (Retry revives it), or to
// cancelled.
const (
	StateAvailable = "available"
	StateRunning   = "running"
	StateCompleted = "completed"
	StateFailed    = "failed"
	StateCancelled = "cancelled"
)

// Defaults for Options and EnqueueOptions.
const (
	DefaultMaxAttempts = 10
	DefaultWorkers     = 4
	DefaultPoll        = time.Second
	DefaultLease       = time.Minute
	DefaultGrace       = 10 * time.Second
	DefaultRetention   = 7 * 24 * time.Hour
)

// CleanupKind is the built-in periodic job that deletes finished jobs older than
// Options.Retention.
const CleanupKind = "jobs.cleanup"

// ErrWrongState means the job exists but its state does not allow the operation, such
// as retrying a job that has not failed.
var ErrWrongState = errors.New("jobs: job is in the wrong state")

// Job is one row of the queue.
type Job struct {
	ID          string
	Kind        string
	Args        json.RawMessage // ids only, never personal data
	State       string
	Attempt     int // claims so far; 1 during the first run
	MaxAttempts int
	RunAt       time.Time
	CreatedAt   time.Time
	FinishedAt  *time.Time
	LastError   string
}

// Handler does the work of one kind of job. Its ctx is cancelled when the job is
// cancelled or this process has lost the job's lease (what the handler returns is then
// discarded), and a grace period after shutdown begins (an error returned then puts
// the job back in the queue without using up an attempt). Return Permanent(err) for a
// failure no retry can mend.
type Handler func(ctx context.Context, job Job) error

// Options tune a Queue. The zero value is sensible.
type Options struct {
	// Workers is how many jobs this process runs at once; default 4.
	Workers int
	// Poll is how often idle workers look for due jobs; default 1s. Enqueue in this
	// process wakes them at once.
	Poll time.Duration
	// Lease is how long a claimed job stays with this process without a heartbeat;
	// heartbeats renew it every Lease/3 of wall time, expiry is judged on Now.
	// Default 1m: a crashed process's jobs run again about a minute later.
	Lease time.Duration
	// Grace is how long in-flight handlers keep their context after Run's context is
	// cancelled; default 10s.
	Grace time.Duration
	// Retention is how long completed and cancelled jobs are kept; default 7 days.
	// Negative disables the built-in cleanup.
	Retention time.Duration
	// Now is the clock; default time.Now. Tests inject one to step through time.
	Now func() time.Time
	// Logger receives one line per notable event; default discards.
	Logger *slog.Logger
	// ProcessID names this process in locked_by; default host:pid:random.
	ProcessID string
}

// EnqueueOptions tune one job.
type EnqueueOptions struct {
	// RunAt is when the job becomes due; zero means now.
	RunAt time.Time
	// MaxAttempts caps runs before the job fails; default 10.
	MaxAttempts int
	// UniqueKey, if set, makes Enqueue do nothing (and return the existing job's id)
	// while a job with the same key exists, whatever its state: until the cleanup
	// deletes it, Retention after it completed or was cancelled.
	UniqueKey string
}

// Filter selects jobs for List.
type Filter struct {
	State string // one of the State constants, or "" for all
	Kind  string // "" for all
	After string // cursor: the next cursor from a previous List
	Limit int    // default 50, at most 500
}

// Queue enqueues, runs and administers jobs on one Store.
type Queue struct {
	st   *store.Store
	opt  Options
	now  func() time.Time
	log  *slog.Logger
	wake chan struct{}
	idle atomic.Int32 // workers asleep for a whole Poll; tests wait on it

	mu       sync.Mutex
	handlers map[string]Handler
	periodic []*periodic
	started  bool
	inflight map[string]context.CancelCauseFunc // jobs this process is running, by id

	// Set by prepare, read-only afterwards.
	claimSQL  string
	claimArgs []any
}

type periodic struct {
	kind  string
	every time.Duration
	args  string
	err   error
	last  time.Time // the newest slot this process has enqueued; guarded by Queue.mu
}

// New returns a queue on st. Register handlers, then call Run.
func New(st *store.Store, opt Options) *Queue {
	if opt.Workers <= 0 {
		opt.Workers = DefaultWorkers
	}
	if opt.Poll <= 0 {
		opt.Poll = DefaultPoll
	}
	if opt.Lease <= 0 {
		opt.Lease = DefaultLease
	}
	if opt.Grace <= 0 {
		opt.Grace = DefaultGrace
	}
	if opt.Retention == 0 {
		opt.Retention = DefaultRetention
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.ProcessID == "" {
		host, _ := os.Hostname()
		id := store.NewID()
		opt.ProcessID = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), id[len(id)-12:])
	}
	q := &Queue{
		st:       st,
		opt:      opt,
		now:      func() time.Time { return opt.Now().UTC() },
		log:      opt.Logger,
		wake:     make(chan struct{}, 1),
		handlers: map[string]Handler{},
		inflight: map[string]context.CancelCauseFunc{},
	}
	if opt.Retention > 0 {
		q.Register(CleanupKind, q.cleanup)
		q.Periodic(CleanupKind, time.Hour, nil)
	}
	return q
}

// ProcessID is the name this queue writes into locked_by.
func (q *Queue) ProcessID() string { return q.opt.ProcessID }

// Register sets the handler for kind. It panics if called after Run or twice for one
// kind: both are programming errors.
func (q *Queue) Register(kind string, h Handler) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.started:
		panic("jobs: Register after Run")
	case kind == "" || h == nil:
		panic("jobs: Register needs a kind and a handler")
	case q.handlers[kind] != nil:
		panic("jobs: kind registered twice: " + kind)
	}
	q.handlers[kind] = h
}

// Periodic runs kind once in every slot of length every (at least a second), across all
// processes sharing the database. Slots are aligned to multiples of every since the
// zero time in UTC, so 24h runs at 00:00 UTC. A slot in which no process is running is
// skipped, not caught up. args is marshalled to JSON; a failure is reported by Run.
// Periodic panics if called after Run.
func (q *Queue) Periodic(kind string, every time.Duration, args any) {
	if every < time.Second {
		panic("jobs: Periodic interval below a second")
	}
	raw, err := marshalArgs(args)
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started {
		panic("jobs: Periodic after Run")
	}
	q.periodic = append(q.periodic, &periodic{kind: kind, every: every, args: raw, err: err})
}

// Wake nudges one idle worker of this process to look for due jobs now.
func (q *Queue) Wake() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Enqueue adds a job inside the caller's write, so that it commits or rolls back with
// the change that causes it, and wakes this process's workers. args must marshal to
// JSON and hold ids only. It returns the job's id, or the existing job's id when
// opt.UniqueKey is already taken.
func (q *Queue) Enqueue(ctx context.Context, tx store.Tx, kind string, args any, opt EnqueueOptions) (string, error) {
	if kind == "" {
		return "", errors.New("jobs: enqueue: empty kind")
	}
	raw, err := marshalArgs(args)
	if err != nil {
		return "", fmt.Errorf("jobs: enqueue %s: %w", kind, err)
	}
	id, err := q.insert(ctx, tx, kind, raw, opt)
	if err != nil {
		return "", err
	}
	q.Wake()
	return id, nil
}

func (q *Queue) insert(ctx context.Context, tx store.Tx, kind, args string, opt EnqueueOptions) (string, error) {
	now := q.now()
	runAt := opt.RunAt
	if runAt.IsZero() {
		runAt = now
	}
	maxAttempts := opt.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	var key any
	if opt.UniqueKey != "" {
		key = opt.UniqueKey
	}
	id := store.NewID()
	res, err := tx.ExecContext(ctx, sqlInsert, id, kind, args, maxAttempts,
		store.Micros(runAt), key, store.Micros(now))
	if err != nil {
		return "", fmt.Errorf("jobs: enqueue %s: %w", kind, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return "", fmt.Errorf("jobs: enqueue %s: %w", kind, err)
	}
	if n == 0 {
		if err := tx.QueryRowContext(ctx, `SELECT id FROM jobs WHERE unique_key = $1`, opt.UniqueKey).Scan(&id); err != nil {
			return "", fmt.Errorf("jobs: enqueue %s: existing unique job: %w", kind, store.Classify(err))
		}
	}
	return id, nil
}

// Get returns one job, or an error wrapping store.ErrNotFound.
func (q *Queue) Get(ctx context.Context, id string) (Job, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	j, err := scanJob(q.st.DB().QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, id))
	if err != nil {
		return Job{}, fmt.Errorf("jobs: get %s: %w", id, store.Classify(err))
	}
	return j, nil
}

// List returns jobs in id (creation) order and the cursor for the next page, "" after
// the last.
func (q *Queue) List(ctx context.Context, f Filter) ([]Job, string, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.State != "" {
		add("state = $%d", f.State)
	}
	if f.Kind != "" {
		add("kind = $%d", f.Kind)
	}
	if f.After != "" {
		add("id > $%d", f.After)
	}
	query := `SELECT ` + jobColumns + ` FROM jobs`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, limit+1)
	query += fmt.Sprintf(` ORDER BY id LIMIT $%d`, len(args))

	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	rows, err := q.st.DB().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("jobs: list: %w", store.Classify(err))
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, "", fmt.Errorf("jobs: list: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("jobs: list: %w", store.Classify(err))
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// Retry makes a failed job available again now, with its attempts reset. It returns an
// error wrapping store.ErrNotFound for an unknown id and ErrWrongState for a job that
// has not failed.
func (q *Queue) Retry(ctx context.Context, id string) error {
	err := q.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		return q.transition(ctx, tx, id, sqlRetry, "retry", store.Micros(q.now()), id)
	})
	if err != nil {
		return err
	}
	q.Wake()
	return nil
}

// Cancel stops a job that is available, running or failed. A running handler sees its
// context cancelled: at once in this process, within Lease/3 in another. Cancelling a
// cancelled job does nothing; a completed job gives ErrWrongState, an unknown id
// store.ErrNotFound.
func (q *Queue) Cancel(ctx context.Context, id string) error {
	err := q.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		err := q.transition(ctx, tx, id, sqlCancel, "cancel", store.Micros(q.now()), id)
		if errors.Is(err, errAlreadyCancelled) {
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	q.mu.Lock()
	stop := q.inflight[id]
	q.mu.Unlock()
	if stop != nil {
		stop(errCancelled)
	}
	return nil
}

var errAlreadyCancelled = errors.New("already cancelled")

// transition runs an UPDATE that applies only in the states it allows and explains a
// refusal.
func (q *Queue) transition(ctx context.Context, tx store.Tx, id, query, verb string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("jobs: %s %s: %w", verb, id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("jobs: %s %s: %w", verb, id, err)
	} else if n == 1 {
		return nil
	}
	var state string
	err = tx.QueryRowContext(ctx, `SELECT state FROM jobs WHERE id = $1`, id).Scan(&state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("jobs: %s %s: %w", verb, id, store.ErrNotFound)
	case err != nil:
		return fmt.Errorf("jobs: %s %s: %w", verb, id, err)
	case state == StateCancelled && verb == "cancel":
		return errAlreadyCancelled
	}
	return fmt.Errorf("jobs: %s %s: %w: it is %s", verb, id, ErrWrongState, state)
}

// Permanent marks a handler's error as one no retry can mend: the job fails at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func marshalArgs(args any) (string, error) {
	switch a := args.(type) {
	case nil:
		return "{}", nil
	case json.RawMessage:
		if !json.Valid(a) {
			return "", errors.New("args are not valid JSON")
		}
		return string(a), nil
	}
	b, err := json.Marshal(args)
	if err != nil {
		return "", fmt.Errorf("marshal args: %w", err)
	}
	return string(b), nil
}

type scanner interface{ Scan(dest ...any) error }

func scanJob(r scanner) (Job, error) {
	var (
		j        Job
		args     string
		runAt    int64
		created  int64
		finished sql.NullInt64
		lastErr  sql.NullString
	)
	if err := r.Scan(&j.ID, &j.Kind, &args, &j.State, &j.Attempt, &j.MaxAttempts,
		&runAt, &created, &finished, &lastErr); err != nil {
		return Job{}, err
	}
	j.Args = json.RawMessage(args)
	j.RunAt = store.Time(runAt)
	j.CreatedAt = store.Time(created)
	if finished.Valid {
		t := store.Time(finished.Int64)
		j.FinishedAt = &t
	}
	j.LastError = lastErr.String
	return j, nil
}
