package security

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

func testSigner(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testEntry(i int) AuditEntry {
	return AuditEntry{ActorKind: ActorStaff, ActorID: "staff-1", Action: "customer.read",
		SubjectKind: "customer", SubjectID: fmt.Sprintf("cust-%d", i), Reason: "support ticket",
		IP: "192.0.2.7", RequestID: fmt.Sprintf("req-%d", i), Detail: `{"ticket":"t-1"}`}
}

// appendN appends n entries in one Write.
func appendN(t testing.TB, st *store.Store, a *Audit, n int) {
	t.Helper()
	err := st.Write(context.Background(), func(ctx context.Context, tx store.Tx) error {
		for i := range n {
			if err := a.Append(ctx, tx, testEntry(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mustChain(t testing.TB, a *Audit) int {
	t.Helper()
	n, err := a.Chain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustVerify(t testing.TB, a *Audit) AuditReport {
	t.Helper()
	rep, err := a.Verify(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func countRows(t testing.TB, st *store.Store, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := st.DB().QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// bypass returns a connection on which the append-only triggers no longer fire, as an
// attacker with the database file or the table owner's password would have: on SQLite
// a separate connection to the file that drops them, on PostgreSQL the table owner
// disabling them.
func bypass(t *testing.T, st *store.Store) *sql.DB {
	t.Helper()
	if st.Dialect() == store.Postgres {
		db := st.DB()
		for _, q := range []string{`ALTER TABLE audit_log DISABLE TRIGGER USER`, `ALTER TABLE audit_checkpoints DISABLE TRIGGER USER`} {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		return db
	}
	db, err := sql.Open("sqlite", "file:"+st.Path()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	for _, tr := range []string{"audit_log_no_update", "audit_log_no_delete", "audit_checkpoints_no_update", "audit_checkpoints_no_delete"} {
		if _, err := db.Exec(`DROP TRIGGER ` + tr); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func exec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func readRow(t *testing.T, db *sql.DB, seq int64) auditRow {
	t.Helper()
	rows, err := db.Query(`SELECT `+auditCols+` FROM audit_log WHERE seq = $1`, seq)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("no row at seq %d", seq)
	}
	r, err := scanAuditRow(rows)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// setContent overwrites the row at seq with x's id, time and fields, keeping seq and hash.
func setContent(t *testing.T, db *sql.DB, seq int64, x auditRow) {
	t.Helper()
	exec(t, db, `UPDATE audit_log SET id = $1, at = $2, actor_kind = $3, actor_id = $4, action = $5,
		subject_kind = $6, subject_id = $7, reason = $8, ip = $9, request_id = $10, detail = $11 WHERE seq = $12`,
		x.id, x.at, x.f[0], x.f[1], x.f[2], x.f[3], x.f[4], x.f[5], x.f[6], x.f[7], x.f[8], seq)
}

func insertRow(t *testing.T, db *sql.DB, x auditRow) {
	t.Helper()
	exec(t, db, `INSERT INTO audit_log (`+auditCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		x.id, x.seq, x.hash, x.at, x.f[0], x.f[1], x.f[2], x.f[3], x.f[4], x.f[5], x.f[6], x.f[7], x.f[8])
}

func randomHash() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

// S4: an audit row commits with the work it records or not at all.
func TestS4_AuditAppendInFailedWriteLeavesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := NewAudit(st, testSigner(t), AuditOptions{})
		boom := errors.New("boom")
		err := st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('k', 'v')`); err != nil {
				return err
			}
			if err := a.Append(ctx, tx, testEntry(1)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("write: %v", err)
		}
		// The same inside a group commit: the failing piece rolls back alone.
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
					if err := a.Append(ctx, tx, testEntry(i)); err != nil {
						return err
					}
					if i%2 == 1 {
						return boom
					}
					return nil
				})
			})
		}
		wg.Wait()
		if n := countRows(t, st, `SELECT COUNT(*) FROM audit_log`); n != 4 {
			t.Fatalf("%d audit rows, want the 4 of the writes that succeeded", n)
		}
		if n := countRows(t, st, `SELECT COUNT(*) FROM meta WHERE key = 'k'`); n != 0 {
			t.Fatal("the failed work was kept")
		}
		if err := a.Append(ctx, nil, AuditEntry{ActorKind: "robot", Action: "x"}); !errors.Is(err, ErrAuditInput) {
			t.Fatalf("unknown actor kind: %v", err)
		}
		bad := testEntry(1)
		bad.Detail = `["not an object"]`
		if err := a.Append(ctx, nil, bad); !errors.Is(err, ErrAuditInput) {
			t.Fatalf("detail not an object: %v", err)
		}
	})
}

// S4: writers never wait for the chain, and the sequencer chains every row exactly
// once with consecutive seq, while appends keep arriving.
func TestS4_AuditConcurrentAppendsChainedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := NewAudit(st, testSigner(t), AuditOptions{})
		const writers, each = 16, 25
		var wg sync.WaitGroup
		done := make(chan struct{})
		chained := 0
		var chainErr error
		chainer := make(chan struct{})
		go func() {
			defer close(chainer)
			for {
				n, err := a.Chain(ctx)
				chained += n
				if err != nil {
					chainErr = err
					return
				}
				select {
				case <-done:
					return
				default:
				}
			}
		}()
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					err := st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
						return a.Append(ctx, tx, testEntry(w*each+i))
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		close(done)
		<-chainer
		if chainErr != nil {
			t.Fatal(chainErr)
		}
		chained += mustChain(t, a)
		const total = writers * each
		if chained != total {
			t.Fatalf("Chain reported %d rows chained, want %d", chained, total)
		}
		var n, distinct, lo, hi int64
		err := st.DB().QueryRow(`SELECT COUNT(*), COUNT(DISTINCT seq), MIN(seq), MAX(seq) FROM audit_log`).Scan(&n, &distinct, &lo, &hi)
		if err != nil {
			t.Fatal(err)
		}
		if n != total || distinct != total || lo != 1 || hi != total {
			t.Fatalf("rows %d, distinct seq %d, seq %d..%d; want %d rows with seq 1..%d", n, distinct, lo, hi, total, total)
		}
		rep := mustVerify(t, a)
		if !rep.OK || rep.Count != total || rep.Unchained != 0 {
			t.Fatalf("verify: %s", rep)
		}
	})
}

// S4: several tillit processes on one PostgreSQL database may run the sequencer at
// once; the advisory lock keeps the chain single.
func TestS4_AuditTwoSequencersOnPostgresNeverFork(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	key := testSigner(t)
	var sts [2]*store.Store
	var as [2]*Audit
	for i := range sts {
		st, err := store.Open(ctx, url, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		sts[i], as[i] = st, NewAudit(st, key, AuditOptions{})
	}
	const writers, each = 8, 40
	var appenders, chainers sync.WaitGroup
	done := make(chan struct{})
	var mu sync.Mutex
	chained := 0
	for i := range 2 {
		for range 2 { // two concurrent sequencers per process, too
			chainers.Go(func() {
				for {
					n, err := as[i].Chain(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					chained += n
					mu.Unlock()
					select {
					case <-done:
						return
					default:
					}
				}
			})
		}
	}
	for w := range writers {
		appenders.Go(func() {
			st, a := sts[w%2], as[w%2]
			for i := range each {
				err := st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
					return a.Append(ctx, tx, testEntry(i))
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	appenders.Wait()
	close(done)
	chainers.Wait()
	chained += mustChain(t, as[1])
	const total = writers * each
	if chained != total {
		t.Fatalf("the sequencers chained %d rows in all, want %d", chained, total)
	}
	for _, a := range as {
		rep := mustVerify(t, a)
		if !rep.OK || rep.Count != total || rep.Unchained != 0 {
			t.Fatalf("verify: %s", rep)
		}
	}
}

// S4: ordinary statements cannot rewrite or remove audit rows or checkpoints; only
// the sequencer's update (seq and hash of an unchained row) passes the triggers.
func TestS4_AuditLogIsAppendOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := NewAudit(st, testSigner(t), AuditOptions{})
		appendN(t, st, a, 3)
		if _, err := a.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		appendN(t, st, a, 1) // one unchained row
		var unchained string
		st.DB().QueryRow(`SELECT id FROM audit_log WHERE seq IS NULL`).Scan(&unchained)
		refused := []string{
			`UPDATE audit_log SET reason = 'forged' WHERE seq = 2`,
			`UPDATE audit_log SET seq = 99 WHERE seq = 2`,
			`UPDATE audit_log SET hash = NULL, seq = NULL WHERE seq = 3`,
			`DELETE FROM audit_log WHERE seq = 3`,
			`DELETE FROM audit_log`,
			`UPDATE audit_log SET reason = 'forged' WHERE id = '` + unchained + `'`,
			`UPDATE audit_log SET seq = 4, hash = x'00', reason = 'forged' WHERE id = '` + unchained + `'`,
			`UPDATE audit_checkpoints SET seq = 1`,
			`DELETE FROM audit_checkpoints`,
		}
		if st.Dialect() == store.Postgres {
			refused = append(refused, `TRUNCATE audit_log`, `TRUNCATE audit_checkpoints`)
			for i, q := range refused {
				refused[i] = strings.ReplaceAll(q, "x'00'", `'\x00'::bytea`)
			}
		}
		for _, q := range refused {
			err := st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.ExecContext(ctx, q)
				return err
			})
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: want refused as append-only, got %v", q, err)
			}
		}
		if n := mustChain(t, a); n != 1 {
			t.Fatalf("the sequencer's own update chained %d rows, want 1", n)
		}
		if rep := mustVerify(t, a); !rep.OK || rep.Count != 4 || rep.Checkpoints != 1 {
			t.Fatalf("verify: %s", rep)
		}
	})
}

// S4: Verify names the first tampered entry, and the kind of tampering, for each way
// of rewriting history with the triggers out of the way. The log has 12 entries and a
// signed checkpoint at seq 10.
func TestS4_AuditVerifyFindsTampering(t *testing.T) {
	type want struct {
		kind string
		seq  int64
		id   func(before map[int64]string, db *sql.DB) string // the id Verify must name
	}
	idAt := func(seq int64) func(map[int64]string, *sql.DB) string {
		return func(before map[int64]string, _ *sql.DB) string { return before[seq] }
	}
	none := func(map[int64]string, *sql.DB) string { return "" }
	const lowID = "00000000-0000-7000-8000-000000000000"
	const highID = "ffffffff-ffff-7fff-bfff-ffffffffffff"
	cases := []struct {
		name   string
		tamper func(t *testing.T, db *sql.DB)
		want   want
	}{
		{"changed field", func(t *testing.T, db *sql.DB) {
			exec(t, db, `UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 5`)
		}, want{TamperChanged, 5, idAt(5)}},
		{"changed time", func(t *testing.T, db *sql.DB) {
			exec(t, db, `UPDATE audit_log SET at = at + 1 WHERE seq = 1`)
		}, want{TamperChanged, 1, idAt(1)}},
		{"deleted row", func(t *testing.T, db *sql.DB) {
			exec(t, db, `DELETE FROM audit_log WHERE seq = 5`)
		}, want{TamperDeleted, 5, none}},
		{"inserted row with a duplicate seq, sorting after", func(t *testing.T, db *sql.DB) {
			exec(t, db, `DROP INDEX audit_log_seq`)
			x := readRow(t, db, 5)
			x.id, x.hash, x.f[2] = highID, randomHash(), "customer.delete"
			insertRow(t, db, x)
		}, want{TamperInserted, 5, func(map[int64]string, *sql.DB) string { return highID }}},
		{"inserted row with a duplicate seq, sorting before", func(t *testing.T, db *sql.DB) {
			exec(t, db, `DROP INDEX audit_log_seq`)
			x := readRow(t, db, 5)
			x.id, x.hash, x.f[2] = lowID, randomHash(), "customer.delete"
			insertRow(t, db, x)
		}, want{TamperInserted, 5, func(map[int64]string, *sql.DB) string { return lowID }}},
		{"inserted row with the rest renumbered", func(t *testing.T, db *sql.DB) {
			exec(t, db, `UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 5`)
			exec(t, db, `UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000`)
			x := readRow(t, db, 4)
			x.id, x.seq, x.hash = highID, 5, randomHash()
			insertRow(t, db, x)
		}, want{TamperInserted, 5, func(map[int64]string, *sql.DB) string { return highID }}},
		{"inserted row with seq but no hash", func(t *testing.T, db *sql.DB) {
			exec(t, db, `DROP INDEX audit_log_seq`)
			x := readRow(t, db, 12)
			x.id, x.seq, x.hash = highID, 13, nil
			insertRow(t, db, x)
		}, want{TamperInserted, 13, func(map[int64]string, *sql.DB) string { return highID }}},
		{"two rows swapped", func(t *testing.T, db *sql.DB) {
			exec(t, db, `UPDATE audit_log SET seq = -3 WHERE seq = 3`)
			exec(t, db, `UPDATE audit_log SET seq = 3 WHERE seq = 7`)
			exec(t, db, `UPDATE audit_log SET seq = 7 WHERE seq = -3`)
		}, want{TamperReordered, 3, idAt(7)}},
		{"two adjacent rows swapped", func(t *testing.T, db *sql.DB) {
			exec(t, db, `UPDATE audit_log SET seq = -4 WHERE seq = 4`)
			exec(t, db, `UPDATE audit_log SET seq = 4 WHERE seq = 5`)
			exec(t, db, `UPDATE audit_log SET seq = 5 WHERE seq = -4`)
		}, want{TamperReordered, 4, idAt(5)}},
		{"two rows' contents swapped, hashes left in place", func(t *testing.T, db *sql.DB) {
			r3, r7 := readRow(t, db, 3), readRow(t, db, 7)
			tmp := r3
			tmp.id = "tmp"
			setContent(t, db, 3, tmp)
			setContent(t, db, 7, r3)
			setContent(t, db, 3, r7)
		}, want{TamperReordered, 3, idAt(7)}},
		{"whole chain recomputed after a change", func(t *testing.T, db *sql.DB) {
			prev := auditGenesis
			for seq := int64(1); seq <= 12; seq++ {
				r := readRow(t, db, seq)
				if seq == 2 {
					r.f[5] = "forged reason"
				}
				h, _ := auditHash(nil, prev, seq, &r)
				exec(t, db, `UPDATE audit_log SET reason = $1, hash = $2 WHERE seq = $3`, r.f[5], h[:], seq)
				prev = h[:]
			}
		}, want{TamperCheckpoint, 10, idAt(10)}},
		{"checkpoint re-signed with another key", func(t *testing.T, db *sql.DB) {
			pub, priv, _ := ed25519.GenerateKey(rand.Reader)
			var c AuditCheckpoint
			db.QueryRow(`SELECT seq, head_hash FROM audit_checkpoints`).Scan(&c.Seq, &c.Hash)
			exec(t, db, `UPDATE audit_checkpoints SET signature = $1, public_key = $2`, ed25519.Sign(priv, c.signedText()), []byte(pub))
		}, want{TamperCheckpoint, 10, idAt(10)}},
		{"checkpoint hash altered", func(t *testing.T, db *sql.DB) {
			exec(t, db, `UPDATE audit_checkpoints SET head_hash = $1`, randomHash())
		}, want{TamperCheckpoint, 10, idAt(10)}},
		{"tail truncated under the last checkpoint", func(t *testing.T, db *sql.DB) {
			exec(t, db, `DELETE FROM audit_log WHERE seq >= 9`)
		}, want{TamperTruncated, 9, none}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				ctx := context.Background()
				a := NewAudit(st, testSigner(t), AuditOptions{})
				for range 2 {
					appendN(t, st, a, 5)
				}
				if c, err := a.Checkpoint(ctx); err != nil || c.Seq != 10 {
					t.Fatalf("checkpoint: %+v %v", c, err)
				}
				appendN(t, st, a, 2)
				mustChain(t, a)
				before := map[int64]string{}
				rows, err := st.DB().Query(`SELECT seq, id FROM audit_log`)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var seq int64
					var id string
					rows.Scan(&seq, &id)
					before[seq] = id
				}
				rows.Close()
				if rep := mustVerify(t, a); !rep.OK || rep.Count != 12 || rep.Checkpoints != 1 {
					t.Fatalf("before tampering: %s", rep)
				}

				db := bypass(t, st)
				tc.tamper(t, db)
				rep := mustVerify(t, a)
				p := rep.Problem
				if rep.OK || p == nil {
					t.Fatalf("tampering not found: %s", rep)
				}
				if p.Kind != tc.want.kind || p.Seq != tc.want.seq || p.ID != tc.want.id(before, db) {
					t.Fatalf("got %s\nwant %s at seq %d (id %q)", rep, tc.want.kind, tc.want.seq, tc.want.id(before, db))
				}
				if s := rep.String(); !strings.Contains(s, p.Kind) || !strings.Contains(s, fmt.Sprintf("seq %d", p.Seq)) {
					t.Fatalf("report text %q does not name the problem", s)
				}
				t.Log(rep)
			})
		})
	}
}

// S4: a checkpoint exported as text verifies with the installation's public key and
// fails if any part of it is altered or another key is trusted.
func TestS4_AuditCheckpointExportVerifies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := NewAudit(st, testSigner(t), AuditOptions{})
		appendN(t, st, a, 7)
		c, err := a.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.Seq != 7 || c.Count != 7 {
			t.Fatalf("checkpoint %+v, want seq 7", c)
		}
		again, err := a.Checkpoint(ctx)
		if err != nil || string(again.Export()) != string(c.Export()) {
			t.Fatalf("a second checkpoint of the same head differs: %v", err)
		}
		exp := c.Export()
		got, err := VerifyCheckpoint(a.PublicKey(), exp)
		if err != nil || got.Seq != 7 || string(got.Hash) != string(c.Hash) {
			t.Fatalf("verify exported: %+v %v", got, err)
		}
		text := string(exp)
		lines := strings.Split(text, "\n")
		flipped := []byte(text)
		flipped[len(lines[0])+len("\nseq=7\nhash=")] ^= 1
		alterations := map[string]string{
			"seq":         strings.Replace(text, "seq=7", "seq=8", 1),
			"seq spelled": strings.Replace(text, "seq=7", "seq=07", 1),
			"hash":        string(flipped),
			"version":     strings.Replace(text, "v1", "v2", 1),
			"extra line":  text + "note=trust me\n",
			"no newline":  strings.TrimSuffix(text, "\n"),
			"signature":   strings.Replace(text, "signature="+lines[4][len("signature="):len("signature=")+4], "signature=AAAA", 1),
			"empty":       "",
		}
		for name, alt := range alterations {
			if alt == text {
				t.Fatalf("%s: alteration changed nothing", name)
			}
			if _, err := VerifyCheckpoint(a.PublicKey(), []byte(alt)); !errors.Is(err, ErrBadCheckpoint) {
				t.Errorf("%s: altered checkpoint accepted: %v", name, err)
			}
		}
		other := NewAudit(st, testSigner(t), AuditOptions{})
		if _, err := VerifyCheckpoint(other.PublicKey(), exp); !errors.Is(err, ErrBadCheckpoint) {
			t.Fatalf("checkpoint verified under another key: %v", err)
		}
		// The stored checkpoint also checks out against this installation's key only.
		if rep := mustVerify(t, a); !rep.OK || rep.Checkpoints != 1 {
			t.Fatalf("verify: %s", rep)
		}
		if rep := mustVerify(t, other); rep.OK || rep.Problem.Kind != TamperCheckpoint {
			t.Fatalf("a checkpoint by another key passed: %s", rep)
		}
	})
}

// S4: Run chains new rows within its interval and signs checkpoints by count; Verify
// reports the tail that is not chained yet without failing.
func TestS4_AuditRunChainsAndCheckpoints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		a := NewAudit(st, testSigner(t), AuditOptions{Interval: 10 * time.Millisecond, CheckpointEntries: 5})
		appendN(t, st, a, 3)
		if rep := mustVerify(t, a); !rep.OK || rep.Count != 0 || rep.Unchained != 3 {
			t.Fatalf("before the sequencer ran: %s", rep)
		}
		stopped := make(chan error)
		go func() { stopped <- a.Run(ctx) }()
		appendN(t, st, a, 9)
		deadline := time.Now().Add(10 * time.Second)
		for countRows(t, st, `SELECT COUNT(*) FROM audit_log WHERE seq IS NULL`) > 0 ||
			countRows(t, st, `SELECT COUNT(*) FROM audit_checkpoints WHERE seq = 12`) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("Run did not chain and checkpoint within 10s")
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
		var calls []int
		rep, err := a.Verify(context.Background(), func(done int) { calls = append(calls, done) })
		if err != nil || !rep.OK || rep.Count != 12 || rep.Checkpoints < 1 || rep.Unchained != 0 {
			t.Fatalf("verify: %s %v", rep, err)
		}
		if len(calls) == 0 || calls[len(calls)-1] != 12 {
			t.Fatalf("progress calls %v", calls)
		}
	})
}

// S4: token and staff changes, logins and failed logins leave audit entries in the
// same transaction, naming the actor from the context and never the password tried.
func TestS4_AccountChangesAndLoginsAreAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := WithActor(context.Background(), Actor{Kind: ActorToken, ID: "tok-1", IP: "192.0.2.9", RequestID: "req-9"})
		a := NewAudit(st, testSigner(t), AuditOptions{})
		tokens := NewTokens(st, nil)
		tokens.Audit = a
		_, tok, err := tokens.Create(ctx, "ci", RoleAuditor, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := tokens.Revoke(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		k, _, _ := LoadOrCreateMasterKey(filepath.Join(t.TempDir(), "k"), true)
		sealer, _ := k.AEAD("staff-totp")
		staff := NewStaff(st, sealer, nil)
		staff.Audit = a
		m, err := staff.Add(ctx, "eva@example.com", "Eva", RoleAuditor, "gurkmajonnäs på fredag")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := staff.Login(ctx, LoginAttempt{Email: "eva@example.com", Password: "wrong password here", IP: "198.51.100.1", DeviceID: "dev-1"}); !errors.Is(err, ErrLoginFailed) {
			t.Fatal(err)
		}
		if _, err := staff.Login(ctx, LoginAttempt{Email: "nobody@example.com", Password: "x", IP: "198.51.100.2", DeviceID: "dev-1"}); !errors.Is(err, ErrLoginFailed) {
			t.Fatal(err)
		}
		if _, err := staff.Login(ctx, LoginAttempt{Email: "eva@example.com", Password: "gurkmajonnäs på fredag", IP: "198.51.100.3", DeviceID: "dev-1", TrustFirstDevice: true}); err != nil {
			t.Fatal(err)
		}
		rows, err := st.DB().Query(`SELECT actor_kind, actor_id, action, subject_id, ip, request_id, detail FROM audit_log ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var kind, actor, action, subject, ip, req, detail string
			rows.Scan(&kind, &actor, &action, &subject, &ip, &req, &detail)
			if strings.Contains(detail, "wrong password") || strings.Contains(detail, "nobody@") || strings.Contains(detail, "gurk") {
				t.Fatalf("audit detail holds what was typed: %s", detail)
			}
			got = append(got, fmt.Sprintf("%s:%s %s %s %s", kind, actor, action, ip, req))
		}
		want := []string{
			"token:tok-1 token.create 192.0.2.9 req-9",
			"token:tok-1 token.revoke 192.0.2.9 req-9",
			"token:tok-1 staff.add 192.0.2.9 req-9",
			"staff:" + m.ID + " staff.login.failed 198.51.100.1 req-9",
			"staff: staff.login.failed 198.51.100.2 req-9",
			"staff:" + m.ID + " staff.login 198.51.100.3 req-9",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("audit entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}
