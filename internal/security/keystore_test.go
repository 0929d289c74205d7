package security

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

func ksTestMaster(t testing.TB) *MasterKey {
	t.Helper()
	m := &MasterKey{}
	if _, err := rand.Read(m.key[:]); err != nil {
		t.Fatal(err)
	}
	return m
}

// ksDataDir is where the keystore file goes on SQLite; "" on PostgreSQL.
func ksDataDir(st *store.Store) string {
	if st.Dialect() == store.SQLite {
		return filepath.Dir(st.Path())
	}
	return ""
}

func openKS(t testing.TB, st *store.Store, opt KeystoreOptions) *Keystore {
	t.Helper()
	ks, err := OpenKeystoreWith(context.Background(), st, ksDataDir(st), opt)
	if err != nil {
		t.Fatalf("open keystore: %v", err)
	}
	t.Cleanup(func() { ks.Close() })
	return ks
}

func wantFieldErr(t *testing.T, err error, sentinel error, customer, field string) {
	t.Helper()
	var fe *FieldError
	if !errors.Is(err, sentinel) || !errors.As(err, &fe) || fe.CustomerID != customer || fe.Field != field {
		t.Fatalf("want %v naming customer %s field %s, got %v", sentinel, customer, field, err)
	}
	if !strings.Contains(err.Error(), customer) || !strings.Contains(err.Error(), field) {
		t.Fatalf("error %q does not name customer and field", err)
	}
}

// Fields round-trip, and a ciphertext is bound to its customer and field: another
// customer's key, another field name, or any flipped byte gives ErrDecrypt naming the
// record, never garbage and never a panic.
func TestS2_FieldRoundTripAndBinding(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ks := openKS(t, st, KeystoreOptions{Master: ksTestMaster(t)})
		a, err := ks.ForCustomer(ctx, "cust-a")
		if err != nil {
			t.Fatal(err)
		}
		b, err := ks.ForCustomer(ctx, "cust-b")
		if err != nil {
			t.Fatal(err)
		}
		ct, err := a.Encrypt("email", []byte("anna@example.se"))
		if err != nil {
			t.Fatal(err)
		}
		if pt, err := a.Decrypt("email", ct); err != nil || string(pt) != "anna@example.se" {
			t.Fatalf("round trip: %q %v", pt, err)
		}
		// Empty values round-trip too.
		ce, _ := a.Encrypt("note", nil)
		if pt, err := a.Decrypt("note", ce); err != nil || len(pt) != 0 {
			t.Fatalf("empty: %q %v", pt, err)
		}
		// The same key comes back, from the cache and after a reopen.
		again, _ := ks.ForCustomer(ctx, "cust-a")
		if pt, err := again.Decrypt("email", ct); err != nil || string(pt) != "anna@example.se" {
			t.Fatalf("second ForCustomer: %q %v", pt, err)
		}
		ks2 := openKS(t, st, KeystoreOptions{Master: ks.opt.Master})
		if pt, err := ks2.Decrypt(ctx, "cust-a", "email", ct); err != nil || string(pt) != "anna@example.se" {
			t.Fatalf("reopened: %q %v", pt, err)
		}

		pt, err := b.Decrypt("email", ct)
		wantFieldErr(t, err, ErrDecrypt, "cust-b", "email")
		if pt != nil {
			t.Fatal("plaintext returned with an error")
		}
		_, err = a.Decrypt("phone", ct)
		wantFieldErr(t, err, ErrDecrypt, "cust-a", "phone")
		for i := range ct {
			bad := bytes.Clone(ct)
			bad[i] ^= 0x01
			pt, err := a.Decrypt("email", bad)
			wantFieldErr(t, err, ErrDecrypt, "cust-a", "email")
			if pt != nil {
				t.Fatal("plaintext returned with an error")
			}
		}
		for _, bad := range [][]byte{nil, {}, ct[:4], ct[:len(ct)-1]} {
			_, err := a.Decrypt("email", bad)
			wantFieldErr(t, err, ErrDecrypt, "cust-a", "email")
		}
		// Decrypt never creates a key.
		_, err = ks.Decrypt(ctx, "cust-never", "email", ct)
		wantFieldErr(t, err, ErrNoDataKey, "cust-never", "email")
		var n int
		st2 := ks.st
		if err := st2.DB().QueryRow(`SELECT COUNT(*) FROM ` + ks.dataT + ` WHERE customer_id = 'cust-never'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("Decrypt created a key: %d %v", n, err)
		}
	})
}

// Crypto-shredding is provable: a data backup taken before the erasure, restored
// beside the current keystore, no longer decrypts the erased customer, while the
// others are intact. The keys are not in the data backup at all.
func TestS2_CryptoShreddingMakesBackupsUnreadable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ks := openKS(t, st, KeystoreOptions{Master: ksTestMaster(t)})
		custA, custB := store.NewID(), store.NewID()
		fields := map[string]string{"name": "Anna Andersson", "email": "anna@example.se", "phone": "+46701234567"}
		err := st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			for _, c := range []string{custA, custB} {
				for f, v := range fields {
					ct, err := ks.Encrypt(ctx, c, f, []byte(v+"/"+c))
					if err != nil {
						return err
					}
					if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)`,
						"pd/"+c+"/"+f, base64.StdEncoding.EncodeToString(ct)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		// The copy of the data taken before the shred: a real backup on SQLite, the
		// rows themselves on PostgreSQL (pg_dump is the operators' tool there).
		var backupRows func(t *testing.T) map[string]string
		if st.Dialect() == store.SQLite {
			backup := filepath.Join(t.TempDir(), "data-backup.db")
			if err := st.Backup(ctx, backup); err != nil {
				t.Fatal(err)
			}
			backupRows = func(t *testing.T) map[string]string {
				restored := filepath.Join(t.TempDir(), "restored.db")
				if err := store.Restore(ctx, backup, restored); err != nil {
					t.Fatal(err)
				}
				rs, err := store.Open(ctx, restored, store.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer rs.Close()
				var n int
				if err := rs.DB().QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name IN ('data_keys', 'root_keys')`).Scan(&n); err != nil || n != 0 {
					t.Fatalf("data backup holds keystore tables: %d %v", n, err)
				}
				return metaRows(t, rs.DB())
			}
		} else {
			before := metaRows(t, st.DB())
			backupRows = func(*testing.T) map[string]string { return before }
			var schema string
			if err := st.DB().QueryRow(`SELECT table_schema FROM information_schema.tables WHERE table_name = 'data_keys'`).Scan(&schema); err != nil || schema != "tillit_keys" {
				t.Fatalf("keystore table in schema %q (%v), want tillit_keys", schema, err)
			}
		}

		if err := ks.Shred(ctx, custA); err != nil {
			t.Fatal(err)
		}
		if err := ks.Shred(ctx, custA); err != nil {
			t.Fatalf("second shred: %v", err)
		}
		// No new key is ever made for a shredded customer, in this process or another.
		if _, err := ks.ForCustomer(ctx, custA); !errors.Is(err, ErrShredded) {
			t.Fatalf("ForCustomer after shred: %v", err)
		}
		ks2 := openKS(t, st, KeystoreOptions{Master: ks.opt.Master})
		if _, err := ks2.ForCustomer(ctx, custA); !errors.Is(err, ErrShredded) {
			t.Fatalf("ForCustomer after shred, fresh keystore: %v", err)
		}

		rows := backupRows(t)
		if len(rows) != 2*len(fields) {
			t.Fatalf("backup has %d personal rows, want %d", len(rows), 2*len(fields))
		}
		for _, cur := range []*Keystore{ks, ks2} {
			for f, v := range fields {
				ctA, _ := base64.StdEncoding.DecodeString(rows["pd/"+custA+"/"+f])
				pt, err := cur.Decrypt(ctx, custA, f, ctA)
				wantFieldErr(t, err, ErrShredded, custA, f)
				if pt != nil {
					t.Fatal("plaintext returned for a shredded customer")
				}
				ctB, _ := base64.StdEncoding.DecodeString(rows["pd/"+custB+"/"+f])
				pt, err = cur.Decrypt(ctx, custB, f, ctB)
				if err != nil || string(pt) != v+"/"+custB {
					t.Fatalf("customer B field %s after A's shred: %q %v", f, pt, err)
				}
			}
		}
	})
}

func metaRows(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT key, value FROM meta WHERE key LIKE 'pd/%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		m[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// keystoreFiles reads keystore.db and its -wal and -shm as they are on disk.
func keystoreFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, suf := range []string{"", "-wal", "-shm"} {
		p := filepath.Join(dir, KeystoreFile+suf)
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		out[KeystoreFile+suf] = b
	}
	return out
}

// A shredded key's bytes leave the keystore file and its WAL (SQLite: secure_delete
// and a truncating checkpoint), while other keys stay readable.
func TestS2_ShreddedKeyBytesLeaveKeystoreFiles(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	dir := ksDataDir(st)
	ks := openKS(t, st, KeystoreOptions{Master: ksTestMaster(t)})
	for i := range 20 {
		if _, err := ks.ForCustomer(ctx, fmt.Sprintf("other-%02d", i)); err != nil {
			t.Fatal(err)
		}
	}
	victim := "victim"
	if _, err := ks.ForCustomer(ctx, victim); err != nil {
		t.Fatal(err)
	}
	keep, _ := ks.Encrypt(ctx, "other-07", "name", []byte("kept"))
	var wrapped []byte
	if err := ks.st.DB().QueryRow(`SELECT wrapped FROM data_keys WHERE customer_id = $1`, victim).Scan(&wrapped); err != nil {
		t.Fatal(err)
	}
	// Any 24-byte run of the wrapped key would be a leak; the whole must be there now.
	probe := wrapped[len(wrapped)-24:]
	found := false
	for _, b := range keystoreFiles(t, dir) {
		found = found || bytes.Contains(b, probe)
	}
	if !found {
		t.Fatal("wrapped key not found in the keystore files before the shred: the scan proves nothing")
	}
	if err := ks.Shred(ctx, victim); err != nil {
		t.Fatal(err)
	}
	for name, b := range keystoreFiles(t, dir) {
		for _, p := range [][]byte{probe, wrapped[:24], wrapped[len(wrapped)/2 : len(wrapped)/2+24]} {
			if bytes.Contains(b, p) {
				t.Fatalf("%s still holds bytes of the shredded key", name)
			}
		}
	}
	if pt, err := ks.Decrypt(ctx, "other-07", "name", keep); err != nil || string(pt) != "kept" {
		t.Fatalf("other customer after shred: %q %v", pt, err)
	}
	// The keystore is its own file; the data file holds no key table.
	var n int
	if err := st.DB().QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'data_keys'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("data database holds data_keys: %d %v", n, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, KeystoreFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keystore file mode: %v %v", fi.Mode(), err)
	}
}

// A CustomerKey fetched before a shred refuses to work after it.
func TestS2_ShredKillsHeldKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ks := openKS(t, st, KeystoreOptions{Master: ksTestMaster(t)})
		ck, err := ks.ForCustomer(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		ct, _ := ck.Encrypt("name", []byte("x"))
		if err := ks.Shred(ctx, "c1"); err != nil {
			t.Fatal(err)
		}
		_, err = ck.Decrypt("name", ct)
		wantFieldErr(t, err, ErrShredded, "c1", "name")
		_, err = ck.Encrypt("name", []byte("y"))
		wantFieldErr(t, err, ErrShredded, "c1", "name")
		// Shredding someone who never had a key still blocks a key for them later.
		if err := ks.Shred(ctx, "c2"); err != nil {
			t.Fatal(err)
		}
		if _, err := ks.ForCustomer(ctx, "c2"); !errors.Is(err, ErrShredded) {
			t.Fatalf("ForCustomer after shred of unknown customer: %v", err)
		}
	})
}

// Rotation re-wraps every key under the new master while readers keep decrypting;
// afterwards only the new master opens the keystore, and the old one fails clearly.
func TestS2_RotateMasterKeyWhileReading(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		m1, m2 := ksTestMaster(t), ksTestMaster(t)
		// A tiny cache makes the readers unwrap from the database during the rotation.
		ks := openKS(t, st, KeystoreOptions{Master: m1, CacheSize: 2, RotateBatch: 4})
		cts := encryptMany(t, ks, 30)
		idx := ks.BlindIndex(BlindEmail, "anna@example.se")

		stop := make(chan struct{})
		var wg sync.WaitGroup
		var reads atomic.Int64
		var readErr atomic.Value
		for g := range 3 {
			wg.Go(func() {
				for i := g; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					id := fmt.Sprintf("cust-%03d", i%len(cts))
					pt, err := ks.Decrypt(ctx, id, "name", cts[id])
					if err != nil || string(pt) != "name of "+id {
						readErr.Store(fmt.Errorf("%s: %q %v", id, pt, err))
						return
					}
					reads.Add(1)
				}
			})
		}
		var calls int
		var last [2]int
		err := ks.Rotate(ctx, m2, func(done, total int) { calls++; last = [2]int{done, total} })
		// Keys made after the rotation are under the new master.
		late, lerr := ks.Encrypt(ctx, "late", "name", []byte("late"))
		close(stop)
		wg.Wait()
		if err != nil || lerr != nil {
			t.Fatalf("rotate: %v; encrypt after: %v", err, lerr)
		}
		if e := readErr.Load(); e != nil {
			t.Fatalf("reader failed during rotation: %v", e)
		}
		if calls < 2 || last != [2]int{30, 30} {
			t.Fatalf("progress: %d calls, last %v", calls, last)
		}
		t.Logf("%d reads during rotation", reads.Load())
		ks.Close()

		only2 := openKS(t, st, KeystoreOptions{Master: m2})
		for id, ct := range cts {
			if pt, err := only2.Decrypt(ctx, id, "name", ct); err != nil || string(pt) != "name of "+id {
				t.Fatalf("after rotation with master 2: %s %q %v", id, pt, err)
			}
		}
		if pt, err := only2.Decrypt(ctx, "late", "name", late); err != nil || string(pt) != "late" {
			t.Fatalf("key made after rotation: %q %v", pt, err)
		}
		if got := only2.BlindIndex(BlindEmail, "anna@example.se"); got != idx {
			t.Fatal("blind index changed with the master key rotation")
		}
		var old int
		if err := only2.st.DB().QueryRow(`SELECT COUNT(*) FROM ` + only2.dataT + ` WHERE old_wrapped IS NOT NULL OR master_fp <> '` + m2.Fingerprint() + `'`).Scan(&old); err != nil || old != 0 {
			t.Fatalf("%d keys still wrapped under the old master (%v)", old, err)
		}
		_, err = OpenKeystore(ctx, st, ksDataDir(st), m1)
		if !errors.Is(err, ErrWrongMasterKey) || !strings.Contains(err.Error(), m2.Fingerprint()) || !strings.Contains(err.Error(), m1.Fingerprint()) {
			t.Fatalf("open with only master 1: want ErrWrongMasterKey naming both fingerprints, got %v", err)
		}
		// Rotating again to the same master is a no-op.
		if err := only2.Rotate(ctx, m2, nil); err != nil {
			t.Fatal(err)
		}
	})
}

func encryptMany(t *testing.T, ks *Keystore, n int) map[string][]byte {
	t.Helper()
	cts := map[string][]byte{}
	for i := range n {
		id := fmt.Sprintf("cust-%03d", i)
		ct, err := ks.Encrypt(context.Background(), id, "name", []byte("name of "+id))
		if err != nil {
			t.Fatal(err)
		}
		cts[id] = ct
	}
	return cts
}

// A rotation cut off midway leaves every key readable under either master, and run
// again (here by a new process that has only the old master file and the new one)
// it completes.
func TestS2_RotateResumesAfterInterrupt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		m1, m2 := ksTestMaster(t), ksTestMaster(t)
		ks := openKS(t, st, KeystoreOptions{Master: m1, RotateBatch: 5})
		cts := encryptMany(t, ks, 23)
		cctx, cancel := context.WithCancel(ctx)
		err := ks.Rotate(cctx, m2, func(done, total int) {
			if done >= 10 {
				cancel()
			}
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted rotation: %v", err)
		}
		var moved int
		ks.st.DB().QueryRow(`SELECT COUNT(*) FROM `+ks.dataT+` WHERE master_fp = $1`, m2.Fingerprint()).Scan(&moved)
		if moved == 0 || moved == len(cts) {
			t.Fatalf("%d of %d keys moved: not an interruption midway", moved, len(cts))
		}
		ks.Close()
		// Midway, a process that still has only the old master (a server not yet
		// restarted) reads everything, the moved keys through their kept old wrapping;
		// so does one with the new master and the old as Previous. The new master alone
		// cannot open keys not yet moved, and says so when opening.
		for _, opt := range []KeystoreOptions{{Master: m1}, {Master: m2, Previous: []*MasterKey{m1}}} {
			one := openKS(t, st, opt)
			for id, ct := range cts {
				if _, err := one.Decrypt(ctx, id, "name", ct); err != nil {
					t.Fatalf("midway, master %s: %v", opt.Master.Fingerprint(), err)
				}
			}
			one.Close()
		}
		if _, err := OpenKeystore(ctx, st, ksDataDir(st), m2); !errors.Is(err, ErrWrongMasterKey) {
			t.Fatalf("midway, new master alone: %v", err)
		}
		again := openKS(t, st, KeystoreOptions{Master: m1, RotateBatch: 5})
		var last int
		if err := again.Rotate(ctx, m2, func(done, total int) { last = total }); err != nil {
			t.Fatalf("re-run: %v", err)
		}
		if last != len(cts)-moved {
			t.Fatalf("re-run did %d keys, want the %d left", last, len(cts)-moved)
		}
		again.Close()
		only2 := openKS(t, st, KeystoreOptions{Master: m2})
		for id, ct := range cts {
			if pt, err := only2.Decrypt(ctx, id, "name", ct); err != nil || string(pt) != "name of "+id {
				t.Fatalf("after resumed rotation: %s %q %v", id, pt, err)
			}
		}
		if _, err := OpenKeystore(ctx, st, ksDataDir(st), m1); !errors.Is(err, ErrWrongMasterKey) {
			t.Fatalf("open with only master 1 after rotation: %v", err)
		}
	})
}

// Blind indexes: deterministic, separated by kind, and different under another
// keystore (another master key).
func TestS2_BlindIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ks := openKS(t, st, KeystoreOptions{Master: ksTestMaster(t)})
		a := ks.BlindIndex(BlindEmail, "anna@example.se")
		if a != ks.BlindIndex(BlindEmail, "anna@example.se") {
			t.Fatal("same input, different index")
		}
		if a == ks.BlindIndex(BlindPhone, "anna@example.se") || ks.BlindIndex(BlindPhone, "x") == ks.BlindIndex(BlindIdentityNumber, "x") {
			t.Fatal("kinds share an index")
		}
		if a == ks.BlindIndex(BlindEmail, "anna@example.com") {
			t.Fatal("different values, same index")
		}
		if strings.Contains(a, "anna") || len(a) != 43 {
			t.Fatalf("index %q", a)
		}
		// Same keystore reopened: same index.
		ks.Close()
		re := openKS(t, st, KeystoreOptions{Master: ks.opt.Master})
		if re.BlindIndex(BlindEmail, "anna@example.se") != a {
			t.Fatal("index changed on reopen")
		}
		var other *store.Store
		if st.Dialect() == store.SQLite {
			other = storetest.SQLite(t)
		} else {
			other = storetest.Postgres(t)
		}
		ks2 := openKS(t, other, KeystoreOptions{Master: ksTestMaster(t)})
		if ks2.BlindIndex(BlindEmail, "anna@example.se") == a {
			t.Fatal("different master keys, same index")
		}
		// Normalised first, differently written values meet.
		e1, _ := NormalizeEmail(" Anna@Example.SE ")
		e2, _ := NormalizeEmail("anna@example.se")
		if re.BlindIndex(BlindEmail, e1) != re.BlindIndex(BlindEmail, e2) {
			t.Fatal("normalised e-mails differ")
		}
	})
}

// Plaintext personal data is never in the keystore or the data files.
func TestS2_NoPlaintextInFiles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ks := openKS(t, st, KeystoreOptions{Master: ksTestMaster(t)})
		secret := "Zyxqvörn-Distinctive-7731"
		for i := range 5 {
			id := fmt.Sprintf("c%d", i)
			ct, err := ks.Encrypt(ctx, id, "name", []byte(secret))
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)`, "pd/"+id+"/name", base64.StdEncoding.EncodeToString(ct))
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		if st.Dialect() == store.SQLite {
			entries, err := os.ReadDir(ksDataDir(st))
			if err != nil {
				t.Fatal(err)
			}
			scanned := 0
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join(ksDataDir(st), e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				scanned++
				if bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte("Distinctive-7731")) {
					t.Fatalf("plaintext found in %s", e.Name())
				}
			}
			if scanned < 3 {
				t.Fatalf("scanned only %d files", scanned)
			}
			return
		}
		// PostgreSQL: its files are the server's; search every row of both schemas.
		var n int
		err := st.DB().QueryRow(`SELECT
			(SELECT COUNT(*) FROM meta WHERE position($1 in value) > 0 OR position($1 in key) > 0) +
			(SELECT COUNT(*) FROM tillit_keys.data_keys WHERE position(convert_to($1, 'UTF8') in COALESCE(wrapped, ''::bytea)) > 0) +
			(SELECT COUNT(*) FROM tillit_keys.root_keys WHERE position(convert_to($1, 'UTF8') in wrapped) > 0)`, secret).Scan(&n)
		if err != nil || n != 0 {
			t.Fatalf("plaintext found in %d rows (%v)", n, err)
		}
	})
}

func TestS2_Normalize(t *testing.T) {
	emails := []struct{ in, want string }{
		{"Anna@Example.SE", "anna@example.se"},
		{"  bo.ek@firma.dk. ", "bo.ek@firma.dk"},
		{"åsa@exempel.se", "åsa@exempel.se"},
		{"no-at", ""}, {"@x.se", ""}, {"a@", ""}, {"a@@x.se", ""}, {"a b@x.se", ""}, {"a@x..se", ""},
	}
	for _, c := range emails {
		got, err := NormalizeEmail(c.in)
		if got != c.want || (c.want == "") != errors.Is(err, ErrBadEmail) {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	phones := []struct{ in, cc, want string }{
		{"070-123 45 67", "+46", "+46701234567"},
		{"+46 (0)70-123 45 67", "+46", "+46701234567"},
		{"0046 70 123 45 67", "+46", "+46701234567"},
		{"+45 12 34 56 78", "+46", "+4512345678"},
		{"12 34 56 78", "+45", "+4512345678"},
		{"(08) 123 456 78", "46", "+46812345678"},
		{"070-12a", "+46", ""}, {"123", "+46", ""}, {"+0701234567", "+46", ""}, {"", "+46", ""},
	}
	for _, c := range phones {
		got, err := NormalizePhone(c.in, c.cc)
		if got != c.want || (c.want == "") != errors.Is(err, ErrBadPhone) {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q", c.in, c.cc, got, err, c.want)
		}
	}
	if _, err := NormalizePhone("0701234567", "46x"); err == nil {
		t.Error("bad default country code accepted")
	}
}
