package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

func noop(context.Context, Job) error { return nil }

// A job exists only if the write that enqueued it committed (DESIGN: jobs go through
// the database, so a crash loses nothing acknowledged and a rollback leaves no job).
func TestEnqueueCommitsWithTheCallersWrite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clk := newClock()
		q := testQueue(st, clk, Options{})
		boom := errors.New("boom")
		var lost string
		err := st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			id, err := q.Enqueue(ctx, tx, "remind", map[string]string{"customer": "c1"}, EnqueueOptions{})
			if err != nil {
				return err
			}
			lost = id
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Write returned %v, want boom", err)
		}
		if _, err := q.Get(ctx, lost); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("job of a rolled-back write: got %v, want ErrNotFound", err)
		}

		id := enqueue(t, st, q, "remind", map[string]string{"customer": "c1"}, EnqueueOptions{})
		j := mustGet(t, q, id)
		if j.State != StateAvailable || j.Attempt != 0 || j.MaxAttempts != DefaultMaxAttempts ||
			!j.RunAt.Equal(t0) || !j.CreatedAt.Equal(t0) || j.FinishedAt != nil || j.Kind != "remind" {
			t.Fatalf("enqueued job = %+v", j)
		}
		if string(j.Args) != `{"customer":"c1"}` {
			t.Fatalf("args = %s", j.Args)
		}
	})
}

// A unique key admits one job; enqueueing it again returns the existing job's id.
func TestUniqueKeyKeepsOneJob(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		q := testQueue(st, newClock(), Options{})
		first := enqueue(t, st, q, "invoice", nil, EnqueueOptions{UniqueKey: "invoice:42"})
		again := enqueue(t, st, q, "invoice", nil, EnqueueOptions{UniqueKey: "invoice:42"})
		other := enqueue(t, st, q, "invoice", nil, EnqueueOptions{UniqueKey: "invoice:43"})
		if again != first {
			t.Fatalf("second enqueue with the same key returned %s, want %s", again, first)
		}
		if other == first {
			t.Fatal("a different key returned the same job")
		}
		list, _, err := q.List(context.Background(), Filter{Kind: "invoice"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 {
			t.Fatalf("got %d jobs, want 2", len(list))
		}
	})
}

// Enqueue wakes this process's workers: with a poll of an hour the job still runs, and
// a successful handler completes it.
func TestEnqueueWakesWorkersWithoutWaitingForPoll(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		q := testQueue(st, newClock(), Options{Poll: time.Hour, Workers: 2})
		ran := make(chan string, 1)
		q.Register("remind", func(ctx context.Context, j Job) error { ran <- j.ID; return nil })
		start(t, q)
		eventually(t, "both workers sleep for the hour", func() bool { return q.idle.Load() == 2 })
		id := enqueue(t, st, q, "remind", nil, EnqueueOptions{})
		select {
		case got := <-ran:
			if got != id {
				t.Fatalf("ran %s, want %s", got, id)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the job did not run: Enqueue did not wake the workers")
		}
		eventually(t, "the job is completed", stateIs(t, q, id, StateCompleted))
		j := mustGet(t, q, id)
		if j.Attempt != 1 || j.FinishedAt == nil || !j.FinishedAt.Equal(t0) || j.LastError != "" {
			t.Fatalf("completed job = %+v", j)
		}
	})
}

// A failing job is retried after 2^attempt seconds plus jitter, and fails for good
// after max_attempts, keeping the handler's error text.
func TestFailureRetriesWithExponentialBackoffThenFails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		clk := newClock()
		q := testQueue(st, clk, Options{})
		var calls atomic.Int32
		q.Register("deliver", func(ctx context.Context, j Job) error {
			calls.Add(1)
			return fmt.Errorf("relay refused job %s", j.ID)
		})
		start(t, q)
		id := enqueue(t, st, q, "deliver", nil, EnqueueOptions{MaxAttempts: 3})
		for attempt := 1; attempt < 3; attempt++ {
			eventually(t, fmt.Sprintf("attempt %d failed", attempt), func() bool {
				j := mustGet(t, q, id)
				return j.State == StateAvailable && j.Attempt == attempt
			})
			j := mustGet(t, q, id)
			wait := j.RunAt.Sub(clk.Now())
			base := time.Duration(1<<attempt) * time.Second
			if wait < base || wait > base+base/4 {
				t.Fatalf("after attempt %d the retry waits %v, want %v plus at most a quarter", attempt, wait, base)
			}
			if j.LastError != "relay refused job "+id || j.FinishedAt != nil {
				t.Fatalf("after attempt %d: %+v", attempt, j)
			}
			clk.Set(j.RunAt)
		}
		eventually(t, "the job failed for good", stateIs(t, q, id, StateFailed))
		j := mustGet(t, q, id)
		if j.Attempt != 3 || j.FinishedAt == nil || j.LastError != "relay refused job "+id {
			t.Fatalf("failed job = %+v", j)
		}
		if n := calls.Load(); n != 3 {
			t.Fatalf("handler ran %d times, want 3", n)
		}
	})
}

// Failed jobs are listed by state, and Retry brings one back with its attempts reset.
func TestFailedJobsAreListedAndRetryBringsThemBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		q := testQueue(st, newClock(), Options{})
		var broken atomic.Bool
		broken.Store(true)
		q.Register("export", func(ctx context.Context, j Job) error {
			if broken.Load() {
				return errors.New("bank file rejected")
			}
			return nil
		})
		start(t, q)
		ok := enqueue(t, st, q, "export", nil, EnqueueOptions{MaxAttempts: 1, RunAt: t0.Add(time.Hour)})
		id := enqueue(t, st, q, "export", nil, EnqueueOptions{MaxAttempts: 1})
		eventually(t, "the job failed", stateIs(t, q, id, StateFailed))

		failed, next, err := q.List(ctx, Filter{State: StateFailed})
		if err != nil {
			t.Fatal(err)
		}
		if len(failed) != 1 || failed[0].ID != id || next != "" {
			t.Fatalf("List(failed) = %+v, next %q; want just %s", failed, next, id)
		}
		if other, _, _ := q.List(ctx, Filter{State: StateFailed, Kind: "other"}); len(other) != 0 {
			t.Fatalf("kind filter ignored: %+v", other)
		}

		broken.Store(false)
		if err := q.Retry(ctx, id); err != nil {
			t.Fatalf("Retry: %v", err)
		}
		eventually(t, "the retried job completed", stateIs(t, q, id, StateCompleted))
		if j := mustGet(t, q, id); j.Attempt != 1 {
			t.Fatalf("retried job ran as attempt %d, want 1 (attempts reset)", j.Attempt)
		}

		if err := q.Retry(ctx, id); !errors.Is(err, ErrWrongState) {
			t.Fatalf("Retry of a completed job: %v, want ErrWrongState", err)
		}
		if err := q.Retry(ctx, ok); !errors.Is(err, ErrWrongState) {
			t.Fatalf("Retry of an available job: %v, want ErrWrongState", err)
		}
		if err := q.Retry(ctx, store.NewID()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Retry of an unknown id: %v, want ErrNotFound", err)
		}
	})
}

// A panicking handler is a failed attempt with the panic text in last_error, and the
// worker goes on with the next job.
func TestHandlerPanicCountsAsFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		q := testQueue(st, newClock(), Options{Workers: 1})
		q.Register("explode", func(context.Context, Job) error { panic("index out of range in job 7") })
		q.Register("calm", noop)
		start(t, q)
		bad := enqueue(t, st, q, "explode", nil, EnqueueOptions{MaxAttempts: 1})
		good := enqueue(t, st, q, "calm", nil, EnqueueOptions{})
		eventually(t, "the panicking job failed", stateIs(t, q, bad, StateFailed))
		if j := mustGet(t, q, bad); j.LastError != "panic: index out of range in job 7" {
			t.Fatalf("last_error = %q", j.LastError)
		}
		eventually(t, "the next job completed on the same worker", stateIs(t, q, good, StateCompleted))
	})
}

// Permanent errors fail the job at once, whatever attempts remain.
func TestPermanentErrorFailsWithoutRetry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		q := testQueue(st, newClock(), Options{})
		q.Register("remind", func(context.Context, Job) error {
			return Permanent(errors.New("customer c9 was erased"))
		})
		start(t, q)
		id := enqueue(t, st, q, "remind", nil, EnqueueOptions{MaxAttempts: 5})
		eventually(t, "the job failed", stateIs(t, q, id, StateFailed))
		if j := mustGet(t, q, id); j.Attempt != 1 || j.LastError != "customer c9 was erased" {
			t.Fatalf("job = %+v", j)
		}
	})
}

// last_error is bounded, valid UTF-8 and free of NULs, whatever a handler returns.
func TestLastErrorIsTruncated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		q := testQueue(st, newClock(), Options{})
		q.Register("dump", func(context.Context, Job) error {
			return errors.New("\x00bad \xff" + strings.Repeat("å", 3000))
		})
		start(t, q)
		id := enqueue(t, st, q, "dump", nil, EnqueueOptions{MaxAttempts: 1})
		eventually(t, "the job failed", stateIs(t, q, id, StateFailed))
		msg := mustGet(t, q, id).LastError
		if len(msg) > maxErrorBytes+len("…") || !strings.HasPrefix(msg, "bad \uFFFDå") ||
			!strings.HasSuffix(msg, "…") || !utf8.ValidString(msg) || strings.Contains(msg, "\x00") {
			t.Fatalf("last_error is %d bytes: %.40q…", len(msg), msg)
		}
	})
}

// A job claimed by a process that then died (no heartbeat, no outcome) returns to the
// queue once its lease expires, and another process runs it: nothing acknowledged is
// lost.
func TestExpiredLeaseReturnsJobToQueue(t *testing.T) {
	pair(t, func(t *testing.T, a, b *store.Store) {
		ctx := context.Background()
		clk := newClock()
		dead := testQueue(a, clk, Options{Lease: time.Minute})
		dead.Register("remind", noop)
		if err := dead.prepare(); err != nil {
			t.Fatal(err)
		}
		id := enqueue(t, a, dead, "remind", nil, EnqueueOptions{})
		job, err := dead.claim(ctx)
		if err != nil || job == nil || job.ID != id || job.Attempt != 1 || job.State != StateRunning {
			t.Fatalf("claim = %+v, %v", job, err)
		}
		// The process is killed here.

		var runs atomic.Int32
		survivor := testQueue(b, clk, Options{Lease: time.Minute})
		survivor.Register("remind", func(context.Context, Job) error { runs.Add(1); return nil })
		if err := survivor.reap(ctx, clk.Now().Add(59*time.Second)); err != nil {
			t.Fatal(err)
		}
		if j := mustGet(t, survivor, id); j.State != StateRunning {
			t.Fatalf("reaped before the lease expired: %+v", j)
		}
		start(t, survivor)
		clk.Add(time.Minute + time.Second)
		eventually(t, "the survivor completed the job", stateIs(t, survivor, id, StateCompleted))
		if j := mustGet(t, survivor, id); j.Attempt != 2 || runs.Load() != 1 {
			t.Fatalf("job = %+v after %d runs; want attempt 2, one run", j, runs.Load())
		}
	})
}

// A job whose last allowed attempt died with its process fails instead of looping.
func TestExpiredLeaseOnLastAttemptFails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clk := newClock()
		q := testQueue(st, clk, Options{Lease: time.Minute})
		q.Register("oom", noop)
		if err := q.prepare(); err != nil {
			t.Fatal(err)
		}
		id := enqueue(t, st, q, "oom", nil, EnqueueOptions{MaxAttempts: 1})
		if job, err := q.claim(ctx); err != nil || job == nil {
			t.Fatalf("claim = %v, %v", job, err)
		}
		if err := q.reap(ctx, clk.Now().Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if j := mustGet(t, q, id); j.State != StateFailed || j.FinishedAt == nil ||
			!strings.Contains(j.LastError, "lease expired") {
			t.Fatalf("job = %+v", j)
		}
	})
}

// A worker that lost its lease (paused past it, then woke up) cannot overwrite the
// outcome or the lease of the worker that took the job over: updates are fenced by
// process and attempt, whether the new worker is another process or the same one.
func TestStaleWorkerCannotOverwriteTheOutcome(t *testing.T) {
	pair(t, func(t *testing.T, a, b *store.Store) {
		for _, tc := range []struct{ name, staleID, freshID string }{
			{"other process", "p-stale", "p-fresh"},
			{"same process", "p-same", "p-same"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				clk := newClock()
				stale := testQueue(a, clk, Options{Lease: time.Minute, ProcessID: tc.staleID})
				fresh := testQueue(b, clk, Options{Lease: time.Minute, ProcessID: tc.freshID})
				for _, q := range []*Queue{stale, fresh} {
					q.Register("remind", noop)
					if err := q.prepare(); err != nil {
						t.Fatal(err)
					}
				}
				id := enqueue(t, a, stale, "remind", nil, EnqueueOptions{})
				old, err := stale.claim(ctx)
				if err != nil || old == nil || old.ID != id {
					t.Fatalf("claim = %+v, %v", old, err)
				}
				clk.Add(2 * time.Minute)
				if err := fresh.reap(ctx, clk.Now()); err != nil {
					t.Fatal(err)
				}
				cur, err := fresh.claim(ctx)
				if err != nil || cur == nil || cur.ID != id || cur.Attempt != 2 {
					t.Fatalf("reclaim = %+v, %v", cur, err)
				}

				for name, try := range map[string]func() (bool, error){
					"fail":      func() (bool, error) { return stale.finish(ctx, *old, errors.New("late"), false) },
					"permanent": func() (bool, error) { return stale.finish(ctx, *old, Permanent(errors.New("late")), false) },
					"complete":  func() (bool, error) { return stale.finish(ctx, *old, nil, false) },
					"requeue":   func() (bool, error) { return stale.finish(ctx, *old, context.Canceled, true) },
					"heartbeat": func() (bool, error) {
						return stale.fenced(ctx, sqlHeartbeat, *old, store.Micros(clk.Now().Add(time.Hour)))
					},
				} {
					if applied, err := try(); err != nil || applied {
						t.Fatalf("stale %s: applied=%v err=%v, want refused", name, applied, err)
					}
				}
				j := mustGet(t, fresh, id)
				if j.State != StateRunning || j.Attempt != 2 {
					t.Fatalf("after the stale worker reported: %+v", j)
				}
				if applied, err := fresh.finish(ctx, *cur, nil, false); err != nil || !applied {
					t.Fatalf("fresh complete: applied=%v err=%v", applied, err)
				}
				if applied, _ := stale.finish(ctx, *old, errors.New("late"), false); applied {
					t.Fatal("the stale worker overwrote a completed job")
				}
				if j := mustGet(t, fresh, id); j.State != StateCompleted {
					t.Fatalf("job = %+v, want completed", j)
				}
			})
		}
	})
}

// Two processes on one database, each scheduling the same periodic job, run it exactly
// once per slot while the clock steps through several slots.
func TestPeriodicRunsOncePerSlotAcrossProcesses(t *testing.T) {
	pair(t, func(t *testing.T, a, b *store.Store) {
		ctx := context.Background()
		clk := newClock()
		var mu sync.Mutex
		runs := map[time.Time]int{}
		tick := func(ctx context.Context, j Job) error {
			if string(j.Args) != `{"scope":"all"}` {
				return Permanent(fmt.Errorf("args %s", j.Args))
			}
			mu.Lock()
			runs[j.RunAt]++
			mu.Unlock()
			return nil
		}
		// The clock jumps a minute per step; a long lease keeps a completion that is
		// still being written from looking like a crashed worker's job.
		queues := []*Queue{
			testQueue(a, clk, Options{Workers: 3, Lease: 24 * time.Hour}),
			testQueue(b, clk, Options{Workers: 3, Lease: 24 * time.Hour}),
		}
		for _, q := range queues {
			q.Register("tick", tick)
			q.Periodic("tick", time.Minute, map[string]string{"scope": "all"})
			start(t, q)
		}
		const slots = 5
		for i := range slots {
			slot := t0.Add(time.Duration(i) * time.Minute)
			clk.Set(slot.Add(30 * time.Second))
			eventually(t, "both processes scheduled "+slot.Format(time.TimeOnly), func() bool {
				return lastSlot(queues[0], "tick").Equal(slot) && lastSlot(queues[1], "tick").Equal(slot)
			})
			eventually(t, "the job of "+slot.Format(time.TimeOnly)+" completed", func() bool {
				list, _, err := queues[0].List(ctx, Filter{Kind: "tick", State: StateCompleted})
				return err == nil && len(list) >= i+1
			})
		}
		var all []Job
		eventually(t, "every tick job is finished", func() bool {
			var err error
			all, _, err = queues[1].List(ctx, Filter{Kind: "tick"})
			if err != nil {
				return false
			}
			for _, j := range all {
				if j.State != StateCompleted {
					return false
				}
			}
			return true
		})
		if len(all) != slots {
			t.Fatalf("%d tick jobs, want %d", len(all), slots)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(runs) != slots {
			t.Fatalf("ran in %d slots, want %d: %v", len(runs), slots, runs)
		}
		for slot, n := range runs {
			if n != 1 {
				t.Errorf("slot %s ran %d times, want once", slot.Format(time.TimeOnly), n)
			}
		}
	})
}

// Many workers in two processes never run one job twice, while jobs are enqueued
// through both processes concurrently.
func TestConcurrentWorkersNeverRunAJobTwice(t *testing.T) {
	pair(t, func(t *testing.T, a, b *store.Store) {
		ctx := context.Background()
		clk := newClock()
		var mu sync.Mutex
		runs := map[string]int{}
		handler := func(ctx context.Context, j Job) error {
			mu.Lock()
			runs[j.ID]++
			mu.Unlock()
			return nil
		}
		qa := testQueue(a, clk, Options{Workers: 8})
		qb := testQueue(b, clk, Options{Workers: 8})
		for _, q := range []*Queue{qa, qb} {
			q.Register("work", handler)
			start(t, q)
		}
		const n = 300
		var ids sync.Map
		var wg sync.WaitGroup
		for i := range n {
			st, q := a, qa
			if i%2 == 1 {
				st, q = b, qb
			}
			wg.Go(func() { ids.Store(enqueue(t, st, q, "work", map[string]int{"n": i}, EnqueueOptions{}), true) })
		}
		wg.Wait()
		eventually(t, "every job completed", func() bool {
			var done int
			err := a.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE kind = 'work' AND state = 'completed'`).Scan(&done)
			return err == nil && done == n
		})
		mu.Lock()
		defer mu.Unlock()
		if len(runs) != n {
			t.Fatalf("%d distinct jobs ran, want %d", len(runs), n)
		}
		for id, k := range runs {
			if _, ok := ids.Load(id); !ok {
				t.Errorf("ran unknown job %s", id)
			}
			if k != 1 {
				t.Errorf("job %s ran %d times", id, k)
			}
		}
	})
}

// On stop, Run waits for an in-flight handler, whose context stays alive during the
// grace period, records its outcome, then returns nil.
func TestRunWaitsForInFlightJobsOnStop(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		q := testQueue(st, newClock(), Options{Grace: time.Hour})
		started := make(chan struct{})
		release := make(chan struct{})
		var ctxErr error
		q.Register("slow", func(ctx context.Context, j Job) error {
			close(started)
			<-release
			ctxErr = ctx.Err()
			return nil
		})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		errc := make(chan error, 1)
		go func() { errc <- q.Run(ctx) }()
		id := enqueue(t, st, q, "slow", nil, EnqueueOptions{})
		<-started
		cancel()
		select {
		case err := <-errc:
			t.Fatalf("Run returned %v while a handler was running", err)
		default:
		}
		close(release)
		if err := <-errc; err != nil {
			t.Fatalf("Run returned %v, want nil", err)
		}
		if ctxErr != nil {
			t.Fatalf("the handler's context was cancelled within the grace period: %v", ctxErr)
		}
		if j := mustGet(t, q, id); j.State != StateCompleted {
			t.Fatalf("after Run returned the job is %s, want completed", j.State)
		}
	})
}

// A handler still running when the grace period ends has its context cancelled; its
// job goes back to the queue without using up an attempt, and Run returns nil.
func TestRunCancelsHandlersAfterGraceAndRequeuesTheirJobs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		q := testQueue(st, newClock(), Options{Grace: 20 * time.Millisecond})
		started := make(chan struct{})
		q.Register("slow", func(ctx context.Context, j Job) error {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		})
		stop := start(t, q)
		id := enqueue(t, st, q, "slow", nil, EnqueueOptions{})
		<-started
		stop()
		j := mustGet(t, q, id)
		if j.State != StateAvailable || j.Attempt != 0 || j.LastError != "" || j.FinishedAt != nil {
			t.Fatalf("interrupted job = %+v, want available with attempt 0", j)
		}
	})
}

// Cancel keeps an available job from running, and stops a running handler both in
// this process (at once) and in another (through the heartbeat).
func TestCancelStopsAvailableAndRunningJobs(t *testing.T) {
	pair(t, func(t *testing.T, a, b *store.Store) {
		ctx := context.Background()
		clk := newClock()
		worker := testQueue(a, clk, Options{Workers: 3, Lease: 30 * time.Millisecond})
		admin := testQueue(b, clk, Options{})
		var ranCancelled atomic.Bool
		started := make(chan string, 2)
		causes := make(chan error, 2)
		worker.Register("later", func(context.Context, Job) error { ranCancelled.Store(true); return nil })
		worker.Register("marker", noop)
		worker.Register("long", func(ctx context.Context, j Job) error {
			started <- j.ID
			<-ctx.Done()
			causes <- context.Cause(ctx)
			return ctx.Err()
		})
		start(t, worker)

		later := enqueue(t, a, worker, "later", nil, EnqueueOptions{RunAt: t0.Add(time.Hour)})
		if err := admin.Cancel(ctx, later); err != nil {
			t.Fatalf("Cancel: %v", err)
		}
		clk.Add(2 * time.Hour)
		marker := enqueue(t, a, worker, "marker", nil, EnqueueOptions{})
		eventually(t, "a job due after the cancelled one ran", stateIs(t, worker, marker, StateCompleted))
		if ranCancelled.Load() || mustGet(t, worker, later).State != StateCancelled {
			t.Fatal("a cancelled job ran")
		}

		for _, canceller := range []*Queue{admin, worker} {
			id := enqueue(t, a, worker, "long", nil, EnqueueOptions{})
			if got := <-started; got != id {
				t.Fatalf("started %s, want %s", got, id)
			}
			if err := canceller.Cancel(ctx, id); err != nil {
				t.Fatalf("Cancel running: %v", err)
			}
			if cause := <-causes; !errors.Is(cause, errCancelled) && !errors.Is(cause, errLeaseLost) {
				t.Fatalf("handler stopped by %v", cause)
			}
			if j := mustGet(t, worker, id); j.State != StateCancelled || j.FinishedAt == nil {
				t.Fatalf("cancelled running job = %+v", j)
			}
		}

		if err := admin.Cancel(ctx, later); err != nil {
			t.Fatalf("cancelling twice: %v, want nil", err)
		}
		if err := admin.Cancel(ctx, marker); !errors.Is(err, ErrWrongState) {
			t.Fatalf("Cancel of a completed job: %v, want ErrWrongState", err)
		}
		if err := admin.Cancel(ctx, store.NewID()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Cancel of an unknown id: %v, want ErrNotFound", err)
		}
	})
}

// The built-in cleanup deletes completed and cancelled jobs older than the retention
// and keeps failed and pending ones.
func TestCleanupDeletesOldFinishedJobsOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clk := newClock()
		q := testQueue(st, clk, Options{Retention: 7 * 24 * time.Hour})
		q.Register("k", func(ctx context.Context, j Job) error {
			if string(j.Args) == `"fail"` {
				return errors.New("no")
			}
			return nil
		})
		start(t, q)
		done := enqueue(t, st, q, "k", nil, EnqueueOptions{})
		failed := enqueue(t, st, q, "k", "fail", EnqueueOptions{MaxAttempts: 1})
		pending := enqueue(t, st, q, "k", nil, EnqueueOptions{RunAt: t0.Add(30 * 24 * time.Hour)})
		cancelled := enqueue(t, st, q, "k", nil, EnqueueOptions{RunAt: t0.Add(time.Hour)})
		if err := q.Cancel(ctx, cancelled); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the jobs and the first cleanup finished", func() bool {
			list, _, err := q.List(ctx, Filter{Kind: CleanupKind, State: StateCompleted})
			return err == nil && len(list) == 1 &&
				mustGet(t, q, done).State == StateCompleted && mustGet(t, q, failed).State == StateFailed
		})
		clk.Add(6 * 24 * time.Hour)
		eventually(t, "the cleanup of day 6 ran", func() bool {
			list, _, err := q.List(ctx, Filter{Kind: CleanupKind, State: StateCompleted})
			return err == nil && len(list) == 2
		})
		if _, err := q.Get(ctx, done); err != nil {
			t.Fatalf("a job inside the retention was deleted: %v", err)
		}
		clk.Add(2 * 24 * time.Hour)
		eventually(t, "old finished jobs are deleted", func() bool {
			_, e1 := q.Get(ctx, done)
			_, e2 := q.Get(ctx, cancelled)
			return errors.Is(e1, store.ErrNotFound) && errors.Is(e2, store.ErrNotFound)
		})
		for _, id := range []string{failed, pending} {
			if _, err := q.Get(ctx, id); err != nil {
				t.Fatalf("cleanup deleted a failed or pending job: %v", err)
			}
		}
	})
}

// A process claims only kinds it has handlers for; other kinds wait for a process that
// knows them (a rolling upgrade).
func TestUnregisteredKindsStayQueued(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		q := testQueue(st, newClock(), Options{Workers: 1})
		q.Register("known", noop)
		start(t, q)
		unknown := enqueue(t, st, q, "from-the-future", nil, EnqueueOptions{})
		known := enqueue(t, st, q, "known", nil, EnqueueOptions{})
		eventually(t, "the known job completed", stateIs(t, q, known, StateCompleted))
		if j := mustGet(t, q, unknown); j.State != StateAvailable || j.Attempt != 0 {
			t.Fatalf("unknown kind = %+v, want untouched", j)
		}
	})
}

// List pages through jobs in id order with a cursor and filters by kind and state.
func TestListPagesInIDOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		q := testQueue(st, newClock(), Options{})
		var want []string
		for i := range 7 {
			kind := "a"
			if i%3 == 0 {
				kind = "b"
			}
			want = append(want, enqueue(t, st, q, kind, nil, EnqueueOptions{}))
		}
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			list, next, err := q.List(ctx, Filter{After: cursor, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			if pages > 3 || len(list) > 3 {
				t.Fatalf("page %d has %d jobs", pages, len(list))
			}
			for _, j := range list {
				got = append(got, j.ID)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("paged ids\n%v\nwant\n%v", got, want)
		}
		b, _, err := q.List(ctx, Filter{Kind: "b", State: StateAvailable})
		if err != nil || len(b) != 3 {
			t.Fatalf("kind b: %d jobs, %v", len(b), err)
		}
		if none, _, _ := q.List(ctx, Filter{State: StateRunning}); len(none) != 0 {
			t.Fatalf("running: %+v", none)
		}
	})
}

// Logs name jobs by id and kind but never print their args.
func TestLogsNeverContainArgs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
		q := testQueue(st, newClock(), Options{Logger: log})
		q.Register("ok", noop)
		q.Register("bad", func(context.Context, Job) error { return errors.New("refused") })
		q.Register("boom", func(context.Context, Job) error { panic("boom") })
		stop := start(t, q)
		args := map[string]string{"customer": "SECRET-ARG-7"}
		var ids []string
		for _, kind := range []string{"ok", "bad", "boom"} {
			ids = append(ids, enqueue(t, st, q, kind, args, EnqueueOptions{MaxAttempts: 2}))
		}
		eventually(t, "every job ran once", func() bool {
			return mustGet(t, q, ids[0]).State == StateCompleted &&
				mustGet(t, q, ids[1]).Attempt == 1 && mustGet(t, q, ids[1]).State == StateAvailable &&
				mustGet(t, q, ids[2]).Attempt == 1 && mustGet(t, q, ids[2]).State == StateAvailable
		})
		stop()
		out := buf.String()
		if strings.Contains(out, "SECRET-ARG") {
			t.Fatalf("args leaked into the log:\n%s", out)
		}
		for _, id := range ids {
			if !strings.Contains(out, id) {
				t.Fatalf("no log line names job %s:\n%s", id, out)
			}
		}
	})
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Run refuses a periodic job without a handler and a second call.
func TestRunRefusesBadSetup(t *testing.T) {
	st := storetest.SQLite(t)
	q := testQueue(st, newClock(), Options{})
	q.Periodic("orphan", time.Hour, nil)
	if err := q.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "no handler") {
		t.Fatalf("Run with an orphan periodic job: %v", err)
	}
	q = testQueue(st, newClock(), Options{})
	q.Register("k", noop)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.Run(ctx); err != nil {
		t.Fatalf("first Run: %v", err)
	}
	if err := q.Run(ctx); err == nil {
		t.Fatal("second Run succeeded")
	}
}

// Backoff doubles from 2s, caps at an hour, and adds at most a quarter of jitter.
func TestBackoffGrowsAndCaps(t *testing.T) {
	for _, tc := range []struct {
		attempt int
		base    time.Duration
	}{{1, 2 * time.Second}, {2, 4 * time.Second}, {5, 32 * time.Second}, {11, 2048 * time.Second},
		{12, time.Hour}, {100, time.Hour}, {-1, time.Second}} {
		for range 50 {
			if d := backoff(tc.attempt); d < tc.base || d > tc.base+tc.base/4 {
				t.Fatalf("backoff(%d) = %v, want %v plus at most a quarter", tc.attempt, d, tc.base)
			}
		}
	}
}
