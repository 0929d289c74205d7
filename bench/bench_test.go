package bench

import (
	"path/filepath"
	"testing"
	"time"
)

// Work per iteration. Fixed and small, so that -benchtime=1x is a quick smoke test;
// with the default benchtime b.Loop repeats it until about a second of timed work.
const (
	getsPerIter      = 1024 // MiddlewareOverhead, per server
	oneClientPerIter = 100  // DurableWriteOneClient, per side
	groupPerIter     = 512  // GroupCommit32, per server
	rawPerIter       = 100  // GroupCommit32, raw commits
	warmCommits      = 500  // untimed, per write path; see warmWrites
)

// BenchmarkMiddlewareOverhead compares GET /api/v1/system on tillit (request ID, logs,
// metrics, CSRF check, body limit, bearer token, permission, one small read) with a
// bare net/http handler answering the same shape of JSON. Target: ratio >= 0.60.
func BenchmarkMiddlewareOverhead(b *testing.B) {
	srv := startTillit(b, "")
	bare := startBare(b)
	tl, bl := getSystem(srv.URL, srv.token), getSystem(bare.URL, "")
	warm(b, tl, bl)
	var tm, bm meter
	for i := 0; b.Loop(); i++ {
		// Alternate the order so that neither side always runs on a warmer machine.
		for j := range 2 {
			if (i+j)%2 == 0 {
				d, err := tl.drive(getsPerIter, clients)
				tm.add(b, getsPerIter, d, err)
			} else {
				d, err := bl.drive(getsPerIter, clients)
				bm.add(b, getsPerIter, d, err)
			}
		}
	}
	b.ReportMetric(tm.rate(), "tillit-req/s")
	b.ReportMetric(bm.rate(), "bare-req/s")
	b.ReportMetric(tm.rate()/bm.rate(), "ratio")
}

// BenchmarkDurableWriteOneClient compares POST /api/v1/tokens from one client (one
// durable row per request) with the raw durable commit rate of the same engine.
// Target: ratio >= 0.30.
func BenchmarkDurableWriteOneClient(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			raw := d.raw(b)
			srv := startTillit(b, d.dsn(b))
			post := postToken(srv.URL, srv.token)
			warm(b, post)
			warmWrites(b, raw, post)
			var tm, rm meter
			for i := 0; b.Loop(); i++ {
				for j := range 2 {
					if (i+j)%2 == 0 {
						d, err := post.drive(oneClientPerIter, 1)
						tm.add(b, oneClientPerIter, d, err)
					} else {
						d, err := raw.commit(oneClientPerIter)
						rm.add(b, oneClientPerIter, d, err)
					}
				}
			}
			b.ReportMetric(tm.rate(), "tillit-req/s")
			b.ReportMetric(rm.rate(), "raw-commits/s")
			b.ReportMetric(tm.rate()/rm.rate(), "ratio")
		})
	}
}

// BenchmarkGroupCommit32 sends POST /api/v1/tokens from 32 concurrent clients and
// compares the rate with (a) the raw durable commit rate with one client (target
// >= 2x: concurrent writes must share commits) and (b) a bare net/http POST handler
// that decodes the same JSON and answers 201 (target >= 0.25).
func BenchmarkGroupCommit32(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			raw := d.raw(b)
			srv := startTillit(b, d.dsn(b))
			bare := startBare(b)
			tl, bl := postToken(srv.URL, srv.token), postToken(bare.URL, "")
			warm(b, tl, bl)
			warmWrites(b, raw, tl)
			var tm, rm, bm meter
			for i := 0; b.Loop(); i++ {
				for j := range 3 {
					switch (i + j) % 3 {
					case 0:
						d, err := tl.drive(groupPerIter, clients)
						tm.add(b, groupPerIter, d, err)
					case 1:
						d, err := raw.commit(rawPerIter)
						rm.add(b, rawPerIter, d, err)
					case 2:
						d, err := bl.drive(groupPerIter, clients)
						bm.add(b, groupPerIter, d, err)
					}
				}
			}
			b.ReportMetric(tm.rate(), "tillit-req/s")
			b.ReportMetric(rm.rate(), "raw-commits/s")
			b.ReportMetric(bm.rate(), "bare-req/s")
			b.ReportMetric(tm.rate()/rm.rate(), "ratio-raw")
			b.ReportMetric(tm.rate()/bm.rate(), "ratio-bare")
		})
	}
}

// BenchmarkColdStart times exec of `tillit serve` on a fresh SQLite data directory
// until GET /readyz answers 200 (target < 1s). After the first start it also lets the
// server idle for about a second, untimed, and reads its resident set size from
// /proc/PID/status (target < 60 MB). Every iteration is a new process on a new
// directory: master key generation and migrations included.
func BenchmarkColdStart(b *testing.B) {
	bin := tillitBinary(b)
	var ready time.Duration
	var rss int64
	n := 0
	for b.Loop() {
		p := start(b, bin, []string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json",
			"--data", filepath.Join(b.TempDir(), "data")}, nil, findTillitURL)
		ready += p.waitReady(b)
		if n == 0 {
			b.StopTimer()
			time.Sleep(time.Second)
			r, err := vmRSS(p.cmd.Process.Pid)
			if err != nil {
				b.Fatal(err)
			}
			rss = r
			b.StartTimer()
		}
		n++
		p.stop()
	}
	b.ReportMetric(float64(ready)/float64(time.Millisecond)/float64(n), "ms-to-ready")
	b.ReportMetric(float64(rss)/1e6, "MB-idle-rss")
}

// warm opens the keep-alive connections and fills caches (token cache, statement
// caches) before anything is timed.
func warm(b *testing.B, ts ...*target) {
	b.Helper()
	for _, t := range ts {
		if _, err := t.drive(4*clients, clients); err != nil {
			b.Fatalf("warm-up: %v", err)
		}
	}
}

// warmWrites brings both write paths to a steady state before timing: enough
// single-row commits that a fresh SQLite WAL has grown past its 1000-page checkpoint
// and wrapped. Until then each commit also extends the WAL file, and that metadata
// fsync would penalise whichever side started from the emptier file.
func warmWrites(b *testing.B, r *rawDB, t *target) {
	b.Helper()
	if _, err := r.commit(warmCommits); err != nil {
		b.Fatalf("warm-up: %v", err)
	}
	if _, err := t.drive(warmCommits, 1); err != nil {
		b.Fatalf("warm-up: %v", err)
	}
}
