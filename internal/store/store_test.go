package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

func putMeta(key, value string) func(context.Context, store.Tx) error {
	return func(ctx context.Context, tx store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)`, key, value)
		return err
	}
}

func countMeta(t *testing.T, st *store.Store, prefix string) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRowContext(context.Background(),
		`SELECT COUNT(*) FROM meta WHERE key LIKE $1`, prefix+"%").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A write that fails half-way leaves nothing behind (Conventions: bad input never
// leaves anything half-written).
func TestWriteAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			if err := putMeta("half:1", "a")(ctx, tx); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Write returned %v, want the work's own error", err)
		}
		if n := countMeta(t, st, "half:"); n != 0 {
			t.Fatalf("%d rows survived a failed write", n)
		}
		// A panic is an error too, and the store keeps working afterwards.
		err = st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			putMeta("half:2", "b")(ctx, tx)
			panic("bad handler")
		})
		if err == nil {
			t.Fatal("a panicking write reported success")
		}
		if err := st.Write(ctx, putMeta("half:3", "c")); err != nil {
			t.Fatalf("store unusable after a panic: %v", err)
		}
		if n := countMeta(t, st, "half:"); n != 1 {
			t.Fatalf("got %d rows, want only the good write", n)
		}
	})
}

// Concurrent writes share commits; one that violates a unique key fails alone with
// ErrConflict while the others commit (DESIGN: Durability, group commit).
func TestGroupCommitFailureIsolated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.Write(ctx, putMeta("g:dup", "first")); err != nil {
			t.Fatal(err)
		}
		const n = 64
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := fmt.Sprintf("g:%d", i)
				if i%16 == 0 {
					key = "g:dup"
				}
				errs[i] = st.Write(ctx, putMeta(key, "v"))
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if i%16 == 0 {
				if !errors.Is(err, store.ErrConflict) {
					t.Errorf("write %d: got %v, want ErrConflict", i, err)
				}
			} else if err != nil {
				t.Errorf("write %d failed: %v", i, err)
			}
		}
		if got, want := countMeta(t, st, "g:"), 1+n-n/16; got != want {
			t.Fatalf("%d rows committed, want %d", got, want)
		}
	})
}

func TestNotFoundIsSentinel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		var v string
		err := st.DB().QueryRowContext(context.Background(), `SELECT value FROM meta WHERE key = $1`, "nope").Scan(&v)
		if !errors.Is(store.Classify(err), store.ErrNotFound) {
			t.Fatalf("got %v, want ErrNotFound", err)
		}
	})
}

// The server refuses a schema newer than itself (issue 3, Storage).
func TestMigrateRefusesNewerSchema(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if ok, err := st.Current(ctx); err != nil || !ok {
			t.Fatalf("fresh database not current: %v %v", ok, err)
		}
		err := st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, TRUE)`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Migrate(ctx); !errors.Is(err, store.ErrSchemaNewer) {
			t.Fatalf("Migrate on a newer schema returned %v, want ErrSchemaNewer", err)
		}
		if ok, _ := st.Current(ctx); ok {
			t.Fatal("Current reported a newer schema as current")
		}
	})
}

func TestMigrationStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ms, err := st.MigrationStatus(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 {
			t.Fatal("no migrations listed")
		}
		for _, m := range ms {
			if !m.Applied {
				t.Errorf("migration %d %s not applied", m.Version, m.Name)
			}
		}
	})
}
