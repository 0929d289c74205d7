package security

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

var benchEngines = []struct {
	name string
	open func(testing.TB) *store.Store
}{
	{"sqlite", storetest.SQLite},
	{"postgres", storetest.Postgres},
}

// BenchmarkAuditAppend compares a minimal durable write (one row into meta) with the
// same write plus an audit Append, alternating in chunks in the same run, with 1 and
// 16 concurrent clients. ratio is audit time over baseline time (target: at most 1.5).
// The sequencer's cost is measured apart, after the run, and folded into
// ratio-with-chain: on SQLite it shares the one writer with requests.
func BenchmarkAuditAppend(b *testing.B) {
	for _, eng := range benchEngines {
		for _, clients := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/clients=%d", eng.name, clients), func(b *testing.B) {
				st := eng.open(b)
				a := NewAudit(st, nil, AuditOptions{})
				ctx := context.Background()
				var seq atomic.Int64
				write := func(audit bool) error {
					return st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
						k := strconv.FormatInt(seq.Add(1), 10)
						if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ($1, 'v')`, k); err != nil {
							return err
						}
						if !audit {
							return nil
						}
						return a.Append(ctx, tx, AuditEntry{ActorKind: ActorToken, ActorID: "tok-1",
							Action: "meta.write", SubjectKind: "meta", SubjectID: k, IP: "192.0.2.1", RequestID: k})
					})
				}
				run := func(ops int, audit bool) time.Duration {
					var wg sync.WaitGroup
					start := time.Now()
					for c := range clients {
						share := ops / clients
						if c < ops%clients {
							share++
						}
						wg.Go(func() {
							for range share {
								if err := write(audit); err != nil {
									b.Error(err)
									return
								}
							}
						})
					}
					wg.Wait()
					return time.Since(start)
				}
				var base, audited time.Duration
				b.ResetTimer()
				for done := 0; done < b.N; {
					chunk := min(b.N-done, 256)
					base += run(chunk, false)
					audited += run(chunk, true)
					done += chunk
				}
				b.StopTimer()
				start := time.Now()
				chained, err := a.Chain(ctx)
				if err != nil || chained != b.N {
					b.Fatalf("chained %d of %d: %v", chained, b.N, err)
				}
				chain := time.Since(start)
				b.ReportMetric(float64(b.N)/base.Seconds(), "base-writes/s")
				b.ReportMetric(float64(b.N)/audited.Seconds(), "audit-writes/s")
				b.ReportMetric(audited.Seconds()/base.Seconds(), "ratio")
				b.ReportMetric(float64(chain.Microseconds())/float64(b.N), "chain-µs/entry")
				b.ReportMetric((audited+chain).Seconds()/base.Seconds(), "ratio-with-chain")
			})
		}
	}
}

// BenchmarkAuditVerify verifies a chain of N entries (TILLIT_BENCH_AUDIT_N, default
// 20000) and reports entries/s and the projected seconds for 1,000,000 (target: under
// 10). The entries are prepared with batched appends and one Chain, outside the timer.
func BenchmarkAuditVerify(b *testing.B) {
	n := 20000
	if s := os.Getenv("TILLIT_BENCH_AUDIT_N"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("TILLIT_BENCH_AUDIT_N=%q", s)
		}
		n = v
	}
	for _, eng := range benchEngines {
		b.Run(eng.name, func(b *testing.B) {
			st := eng.open(b)
			a := NewAudit(st, testSigner(b), AuditOptions{})
			ctx := context.Background()
			start := time.Now()
			for done := 0; done < n; {
				batch := min(n-done, 1000)
				appendN(b, st, a, batch)
				done += batch
			}
			appended := time.Since(start)
			if _, err := a.Checkpoint(ctx); err != nil {
				b.Fatal(err)
			}
			b.Logf("prepared %d entries: append %v, chain and checkpoint %v", n, appended, time.Since(start)-appended)
			for b.Loop() {
				rep, err := a.Verify(ctx, nil)
				if err != nil || !rep.OK || rep.Count != int64(n) {
					b.Fatalf("verify: %s %v", rep, err)
				}
			}
			perOp := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(n)/perOp, "entries/s")
			b.ReportMetric(perOp*1e6/float64(n), "s/1M-projected")
		})
	}
}
