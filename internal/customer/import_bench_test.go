package customer

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

// BenchmarkImport100k imports a CSV of valid Swedish persons (and every tenth a company)
// into an empty register on each engine and reports the time projected to 100,000
// rows and the peak heap during the import. Targets (issue 7 item 9): under 15 s per
// 100,000 on SQLite, under 300 MB.
//
// The full run uses TILLIT_BENCH_IMPORT_N rows (default 100000):
//
//	go test -run '^$' -bench Import100k -benchtime 3x ./internal/customer/
//
// With -benchtime=1x (the CI smoke run) it imports 2000 rows unless the variable is set.
func BenchmarkImport100k(b *testing.B) {
	engines := []struct {
		name string
		open func(testing.TB) *store.Store
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}}
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			n := 100000
			if b.N == 1 {
				n = 2000
			}
			if s := os.Getenv("TILLIT_BENCH_IMPORT_N"); s != "" {
				v, err := strconv.Atoi(s)
				if err != nil || v <= 0 {
					b.Fatalf("TILLIT_BENCH_IMPORT_N=%q", s)
				}
				n = v
			}
			data := importCSV(n, ',', stdHeader, stdRow)
			var secs, peakMB float64
			var stageTimes map[string]time.Duration
			for b.Loop() {
				b.StopTimer()
				st := e.open(b)
				h := newHarness(b, st)
				runtime.GC()
				var base runtime.MemStats
				runtime.ReadMemStats(&base)
				var peak atomic.Uint64
				stop := make(chan struct{})
				sampled := make(chan struct{})
				go func() {
					defer close(sampled)
					var ms runtime.MemStats
					t := time.NewTicker(20 * time.Millisecond)
					defer t.Stop()
					for {
						runtime.ReadMemStats(&ms)
						if ms.HeapAlloc > peak.Load() {
							peak.Store(ms.HeapAlloc)
						}
						select {
						case <-stop:
							return
						case <-t.C:
						}
					}
				}()
				stageTimes = map[string]time.Duration{}
				var stage string
				var stageAt time.Time
				b.StartTimer()
				start := time.Now()
				stageAt = start
				rep, err := h.svc.Import(h.ctx(), bytes.NewReader(data), ImportOptions{Progress: func(s string, done, total int) {
					if s != stage {
						now := time.Now()
						if stage != "" {
							stageTimes[stage] += now.Sub(stageAt)
						}
						stage, stageAt = s, now
					}
				}})
				el := time.Since(start)
				stageTimes[stage] += time.Since(stageAt)
				b.StopTimer()
				close(stop)
				<-sampled
				if err != nil || rep.Imported != n {
					b.Fatalf("import: %v %+v", err, rep.Errors)
				}
				if c := h.count(`SELECT COUNT(*) FROM customers`); c != n {
					b.Fatalf("%d customers, want %d", c, n)
				}
				secs = el.Seconds() * 100000 / float64(n)
				peakMB = float64(peak.Load()) / (1 << 20)
				b.Logf("%s: %d rows in %.2fs (%.0f rows/s; %.1f s per 100k projected); peak heap %.0f MB (%.0f MB before); stages %v",
					e.name, n, el.Seconds(), float64(n)/el.Seconds(), secs, peakMB, float64(base.HeapAlloc)/(1<<20), stageTimes)
				b.StartTimer()
			}
			b.ReportMetric(secs, "s/100k")
			b.ReportMetric(peakMB, "peak-heap-MB")
		})
	}
}
