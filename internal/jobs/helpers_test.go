package jobs

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

// fakeClock is the injectable clock: tests step it; nothing here sleeps on it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

var t0 = time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC)

func newClock() *fakeClock { return &fakeClock{t: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testQueue polls every 10ms on the fake clock, without the built-in cleanup unless
// the test asks for a retention.
func testQueue(st *store.Store, clk *fakeClock, opt Options) *Queue {
	if opt.Poll == 0 {
		opt.Poll = 10 * time.Millisecond
	}
	if opt.Retention == 0 {
		opt.Retention = -1
	}
	opt.Now = clk.Now
	return New(st, opt)
}

// start runs q until stop is called or the test ends, and checks that Run returns nil.
func start(t *testing.T, q *Queue) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- q.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("Run returned %v, want nil", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// eventually waits for cond. The deadline only keeps a broken test from hanging; no
// test asserts how long anything takes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func enqueue(t *testing.T, st *store.Store, q *Queue, kind string, args any, opt EnqueueOptions) string {
	t.Helper()
	var id string
	err := st.Write(context.Background(), func(ctx context.Context, tx store.Tx) error {
		var err error
		id, err = q.Enqueue(ctx, tx, kind, args, opt)
		return err
	})
	if err != nil {
		t.Fatalf("enqueue %s: %v", kind, err)
	}
	return id
}

func mustGet(t *testing.T, q *Queue, id string) Job {
	t.Helper()
	j, err := q.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return j
}

func stateIs(t *testing.T, q *Queue, id, state string) func() bool {
	return func() bool { return mustGet(t, q, id).State == state }
}

func lastSlot(q *Queue, kind string) time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, p := range q.periodic {
		if p.kind == kind {
			return p.last
		}
	}
	return time.Time{}
}

// pair runs fn on both dialects with two Store handles on one database, as two
// `tillit serve` processes would hold.
func pair(t *testing.T, fn func(t *testing.T, a, b *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "tillit.db")
		a := openStore(t, path)
		if err := a.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		fn(t, a, openStore(t, path))
	})
	t.Run("postgres", func(t *testing.T) {
		url := storetest.PostgresURL(t)
		fn(t, openStore(t, url), openStore(t, url))
	})
}

func openStore(t *testing.T, dsn string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
