package customer

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

// rate runs op from clients goroutines for d and returns operations per second.
func rate(b *testing.B, clients int, d time.Duration, op func(i int64) error) float64 {
	b.Helper()
	var next, done atomic.Int64
	var failed atomic.Value
	stop := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for time.Now().Before(stop) {
				if err := op(next.Add(1)); err != nil {
					failed.CompareAndSwap(nil, err)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	return float64(done.Load()) / time.Since(start).Seconds()
}

// BenchmarkK1_CreateAndRead compares, on each engine in the same run: creating
// customers through the service from 32 goroutines (validation, a new data key in the
// keystore, about eight sealed fields, the row, its audit entry) against raw durable
// single-row inserts into a scratch table, from one client (the "raw durable commit
// rate" of DESIGN.md) and from 32 (the same group commit the service gets); and reads
// by id with decryption and a committed audit entry, from 32 goroutines.
// Run: go test -run '^$' -bench K1_CreateAndRead -benchtime 1x ./internal/customer/
func BenchmarkK1_CreateAndRead(b *testing.B) {
	engines := []struct {
		name string
		open func(testing.TB) *store.Store
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}}
	const d = 3 * time.Second
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			st := e.open(b)
			h := newHarness(b, st)
			ctx := context.Background()
			if err := st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.ExecContext(ctx, `CREATE TABLE bench_raw (id TEXT PRIMARY KEY, v BIGINT NOT NULL)`)
				return err
			}); err != nil {
				b.Fatal(err)
			}
			raw := func(i int64) error {
				return st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO bench_raw (id, v) VALUES ($1, $2)`, store.NewID(), i)
					return err
				})
			}
			for b.Loop() {
				raw1 := rate(b, 1, d, raw)
				raw32 := rate(b, 32, d, raw)
				var mu sync.Mutex
				var ids []string
				base := int64(1000)
				create := rate(b, 32, d, func(i int64) error {
					r, err := h.svc.Create(h.ctx(), person(int(base+i)))
					if err == nil {
						mu.Lock()
						ids = append(ids, r.ID)
						mu.Unlock()
					}
					return err
				})
				why := Reason{ReasonTicket, "BENCH-1"}
				read := rate(b, 32, d, func(i int64) error {
					_, err := h.svc.Get(h.ctx(), ids[int(i)%len(ids)], why)
					return err
				})
				b.ReportMetric(create, "creates/s")
				b.ReportMetric(raw1, "raw1/s")
				b.ReportMetric(raw32, "raw32/s")
				b.ReportMetric(create/raw1, "create/raw1")
				b.ReportMetric(create/raw32, "create/raw32")
				b.ReportMetric(read, "reads/s")
				b.Logf("%s: service creates (32 goroutines) %.0f/s; raw durable inserts 1 client %.0f/s, 32 clients %.0f/s; "+
					"ratio create/raw1 %.2f, create/raw32 %.2f; reads by id with decryption and audit (32 goroutines) %.0f/s",
					e.name, create, raw1, raw32, create/raw1, create/raw32, read)
			}
		})
	}
}
