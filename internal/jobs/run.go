package jobs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"tillit/internal/store"
)

var (
	errCancelled = errors.New("jobs: job cancelled")
	errLeaseLost = errors.New("jobs: lease lost to another process")
)

// maxErrorBytes bounds last_error: enough to diagnose, too little to hold a dump.
const maxErrorBytes = 1000

// After a wake on PostgreSQL the enqueueing transaction may not have committed yet, so a
// worker that finds nothing looks again a few times, 5ms, 10ms, ... 640ms later. (On
// SQLite the claim queues behind that very commit in the writer and needs no second
// look.)
const (
	recheckFirst = 5 * time.Millisecond
	recheckMax   = 8
)

// Run starts the workers, the periodic scheduler and the lease reaper, and blocks until
// ctx is cancelled. It then claims nothing more, gives in-flight handlers Grace to
// finish, cancels their contexts, waits up to Grace again for them to return, and
// returns nil. A handler still running after that keeps its job in state running until
// the lease expires, when another process takes it. Run fails at once if called twice
// or if a periodic job has no handler.
func (q *Queue) Run(ctx context.Context) error {
	if err := q.prepare(); err != nil {
		return err
	}
	q.log.Info("jobs: started", "process", q.opt.ProcessID, "workers", q.opt.Workers)

	// Handlers outlive ctx by the grace period; hard is their parent.
	hard, stopHard := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHard()
	var wg sync.WaitGroup
	for range q.opt.Workers {
		wg.Go(func() { q.work(ctx, hard) })
	}
	wg.Go(func() { q.maintain(ctx) })

	<-ctx.Done()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	grace := time.NewTimer(q.opt.Grace)
	defer grace.Stop()
	select {
	case <-done:
		q.log.Info("jobs: stopped", "process", q.opt.ProcessID)
		return nil
	case <-grace.C:
	}
	stopHard()
	grace.Reset(q.opt.Grace)
	select {
	case <-done:
		q.log.Info("jobs: stopped after cancelling in-flight handlers", "process", q.opt.ProcessID)
	case <-grace.C:
		q.log.Warn("jobs: stopped with handlers still running; their leases will expire",
			"process", q.opt.ProcessID)
	}
	return nil
}

// prepare freezes the registrations and builds the claim for the registered kinds, so
// this process never takes a job it has no handler for (a newer binary's kind during a
// rolling upgrade stays in the queue for a process that knows it).
func (q *Queue) prepare() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started {
		return errors.New("jobs: Run called twice")
	}
	for _, p := range q.periodic {
		if p.err != nil {
			return fmt.Errorf("jobs: periodic %s: %w", p.kind, p.err)
		}
		if q.handlers[p.kind] == nil {
			return fmt.Errorf("jobs: periodic %s has no handler", p.kind)
		}
	}
	if len(q.handlers) == 0 {
		return errors.New("jobs: no handlers registered")
	}
	q.started = true
	kinds := make([]string, 0, len(q.handlers))
	for k := range q.handlers {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	q.claimSQL = claimSQL(q.st.Dialect(), len(kinds))
	q.claimArgs = make([]any, 0, 3+len(kinds))
	q.claimArgs = append(q.claimArgs, q.opt.ProcessID, nil, nil)
	for _, k := range kinds {
		q.claimArgs = append(q.claimArgs, k)
	}
	return nil
}

// work is one worker: claim, run, repeat; sleep for Poll or until woken when idle.
func (q *Queue) work(ctx, hard context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	rechecks := -1 // >= 0 while looking again after a wake
	for ctx.Err() == nil {
		job, err := q.claim(ctx)
		if err != nil && ctx.Err() == nil {
			q.log.Error("jobs: claim failed", "process", q.opt.ProcessID, "err", err)
		}
		if job != nil {
			if q.idle.Load() > 0 {
				q.Wake() // there may be more: let an idle worker look too
			}
			q.execute(hard, *job)
			rechecks = -1
			continue
		}
		wait := q.opt.Poll
		if err == nil && rechecks >= 0 && rechecks < recheckMax {
			wait = min(wait, recheckFirst<<rechecks)
			rechecks++
		} else {
			rechecks = -1
		}
		timer.Reset(wait)
		idle := rechecks < 0
		if idle {
			q.idle.Add(1)
		}
		select {
		case <-ctx.Done():
		case <-q.wake:
			if q.st.Dialect() == store.Postgres {
				rechecks = 0
			}
		case <-timer.C:
		}
		if idle {
			q.idle.Add(-1)
		}
	}
}

// claim takes one due job, or returns nil. Once the claim's write has started it is
// let finish even if ctx ends, so a claimed job is never left unrun by this process.
func (q *Queue) claim(ctx context.Context) (*Job, error) {
	if ctx.Err() != nil {
		return nil, nil
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), queryTimeout)
	defer cancel()
	now := q.now()
	args := slices.Clone(q.claimArgs)
	args[1] = store.Micros(now.Add(q.opt.Lease))
	args[2] = store.Micros(now)
	var job *Job
	err := q.st.Write(wctx, func(ctx context.Context, tx store.Tx) error {
		job = nil
		j, err := scanJob(tx.QueryRowContext(ctx, q.claimSQL, args...))
		if err != nil {
			return err
		}
		job = &j
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: claim: %w", err)
	}
	return job, nil
}

// execute runs one claimed job and records its outcome.
func (q *Queue) execute(hard context.Context, job Job) {
	jctx, stop := context.WithCancelCause(hard)
	defer stop(nil)
	q.mu.Lock()
	q.inflight[job.ID] = stop
	q.mu.Unlock()
	defer func() {
		q.mu.Lock()
		delete(q.inflight, job.ID)
		q.mu.Unlock()
	}()

	beat := make(chan struct{})
	var beating sync.WaitGroup
	beating.Go(func() { q.heartbeat(jctx, stop, job, beat) })

	err := q.call(jctx, job)
	close(beat)
	beating.Wait()

	interrupted := err != nil && hard.Err() != nil && context.Cause(jctx) == context.Canceled
	if _, ferr := q.finish(hard, job, err, interrupted); ferr != nil {
		// The job stays running until its lease expires; then it runs again.
		q.log.Error("jobs: recording outcome failed", "id", job.ID, "kind", job.Kind, "err", ferr)
	}
}

// call runs the handler, turning a panic into an error.
func (q *Queue) call(ctx context.Context, job Job) (err error) {
	q.mu.Lock()
	h := q.handlers[job.Kind]
	q.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
			q.log.Error("jobs: handler panicked", "id", job.ID, "kind", job.Kind,
				"attempt", job.Attempt, "stack", string(debug.Stack()))
		}
	}()
	return h(ctx, job)
}

// heartbeat renews the lease every Lease/3 until beat closes. If the row is no longer
// this worker's (cancelled, or taken after an expired lease) it cancels the handler.
func (q *Queue) heartbeat(ctx context.Context, stop context.CancelCauseFunc, job Job, beat <-chan struct{}) {
	t := time.NewTicker(max(q.opt.Lease/3, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-beat:
			return
		case <-t.C:
		}
		until := store.Micros(q.now().Add(q.opt.Lease))
		ok, err := q.fenced(ctx, sqlHeartbeat, job, until)
		switch {
		case err != nil && ctx.Err() == nil:
			q.log.Warn("jobs: heartbeat failed", "id", job.ID, "kind", job.Kind, "err", err)
		case err == nil && !ok:
			q.log.Warn("jobs: job no longer ours; cancelling its handler", "id", job.ID, "kind", job.Kind)
			stop(errLeaseLost)
			return
		}
	}
}

// finish records a handler's outcome. applied is false when the job was no longer this
// worker's to finish: cancelled meanwhile, or reclaimed after the lease expired.
func (q *Queue) finish(ctx context.Context, job Job, herr error, interrupted bool) (applied bool, err error) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), queryTimeout)
	defer cancel()
	now := q.now()
	var perm *permanentError
	switch {
	case herr == nil:
		applied, err = q.fenced(wctx, sqlComplete, job, store.Micros(now))
		if applied {
			q.log.Debug("jobs: completed", "id", job.ID, "kind", job.Kind, "attempt", job.Attempt)
		}
	case interrupted:
		applied, err = q.fenced(wctx, sqlRequeue, job, store.Micros(now))
		if applied {
			q.log.Info("jobs: interrupted by shutdown; back in the queue", "id", job.ID, "kind", job.Kind)
		}
	case job.Attempt >= job.MaxAttempts || errors.As(herr, &perm):
		msg := errorText(herr)
		applied, err = q.fenced(wctx, sqlFail, job, store.Micros(now), msg)
		if applied {
			q.log.Error("jobs: failed for good", "id", job.ID, "kind", job.Kind,
				"attempt", job.Attempt, "err", msg)
		}
	default:
		msg := errorText(herr)
		next := now.Add(backoff(job.Attempt))
		applied, err = q.fenced(wctx, sqlRetryLater, job, store.Micros(next), msg)
		if applied {
			q.log.Warn("jobs: failed; will retry", "id", job.ID, "kind", job.Kind,
				"attempt", job.Attempt, "retry_at", next, "err", msg)
		}
	}
	if err == nil && !applied {
		q.log.Info("jobs: outcome discarded; job was cancelled or taken by another process",
			"id", job.ID, "kind", job.Kind)
	}
	return applied, err
}

// fenced runs one of the fenced statements: $1 first, then id, process, attempt, rest.
func (q *Queue) fenced(ctx context.Context, query string, job Job, first any, rest ...any) (bool, error) {
	args := append([]any{first, job.ID, q.opt.ProcessID, job.Attempt}, rest...)
	var n int64
	err := q.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("jobs: update %s: %w", job.ID, err)
	}
	return n == 1, nil
}

// backoff is the wait before the retry that follows failed attempt n: 2^n seconds,
// at most an hour, plus up to a quarter more of jitter so that jobs that failed together
// do not retry together.
func backoff(attempt int) time.Duration {
	d := time.Hour
	if attempt < 12 {
		d = min(time.Duration(1<<max(attempt, 0))*time.Second, time.Hour)
	}
	return d + rand.N(d/4+1)
}

// errorText is what last_error keeps: valid UTF-8 without NULs (PostgreSQL refuses
// both), cut to maxErrorBytes.
func errorText(err error) string {
	s := strings.ToValidUTF8(err.Error(), "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) <= maxErrorBytes {
		return s
	}
	cut := maxErrorBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// maintain enqueues periodic jobs and reaps expired leases, every Poll.
func (q *Queue) maintain(ctx context.Context) {
	t := time.NewTicker(q.opt.Poll)
	defer t.Stop()
	var lastReap time.Time
	for {
		now := q.now()
		q.schedule(ctx, now)
		if lastReap.IsZero() || !now.Before(lastReap.Add(q.opt.Lease/4)) {
			if err := q.reap(ctx, now); err != nil && ctx.Err() == nil {
				q.log.Error("jobs: reaping expired leases failed", "err", err)
			} else {
				lastReap = now
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// schedule inserts each periodic job for the current slot unless this process already
// has; the unique key keeps one per slot whichever processes race to insert it.
func (q *Queue) schedule(ctx context.Context, now time.Time) {
	type due struct {
		p    *periodic
		slot time.Time
	}
	var pending []due
	q.mu.Lock()
	for _, p := range q.periodic {
		if slot := now.Truncate(p.every); !slot.Equal(p.last) {
			pending = append(pending, due{p, slot})
		}
	}
	q.mu.Unlock()
	if len(pending) == 0 {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	err := q.st.Write(wctx, func(ctx context.Context, tx store.Tx) error {
		for _, d := range pending {
			key := d.p.kind + "@" + d.slot.Format(time.RFC3339)
			if _, err := q.insert(ctx, tx, d.p.kind, d.p.args, EnqueueOptions{RunAt: d.slot, UniqueKey: key}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if ctx.Err() == nil {
			q.log.Error("jobs: scheduling periodic jobs failed", "err", err)
		}
		return
	}
	q.mu.Lock()
	for _, d := range pending {
		d.p.last = d.slot
	}
	q.mu.Unlock()
	q.Wake()
}

// reap returns jobs whose lease expired to the queue.
func (q *Queue) reap(ctx context.Context, now time.Time) error {
	wctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var n int64
	err := q.st.Write(wctx, func(ctx context.Context, tx store.Tx) error {
		res, err := tx.ExecContext(ctx, sqlReap, store.Micros(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return err
	}
	if n > 0 {
		q.log.Warn("jobs: took back jobs whose lease expired", "count", n)
		q.Wake()
	}
	return nil
}

// cleanup is the handler of CleanupKind.
func (q *Queue) cleanup(ctx context.Context, _ Job) error {
	const batch = 1000
	cutoff := store.Micros(q.now().Add(-q.opt.Retention))
	for {
		var n int64
		err := q.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			res, err := tx.ExecContext(ctx, sqlCleanup, cutoff, batch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return fmt.Errorf("delete finished jobs: %w", err)
		}
		if n < batch {
			return nil
		}
	}
}
