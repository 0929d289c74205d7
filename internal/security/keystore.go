package security

// Per-customer data keys (REQUIREMENTS S2): envelope encryption with a keystore kept
// apart from the data.
//
// Every customer has a tink AEAD keyset (AES256-GCM) of their own. It is stored only
// wrapped: encrypted by a key-encryption key derived from the master key, bound to the
// customer id, and tagged with the fingerprint of the master key that wraps it. The
// wrapped keysets live in a keystore apart from the data:
//
//   - SQLite: the file keystore.db in the data directory, opened with store.Open (same
//     durable settings and group writer as the data). `tillit backup` copies tillit.db
//     only, so data backups never hold keys. Keystore backups must be kept no longer than
//     the policy's deletion deadline, or a shredded key comes back with them.
//   - PostgreSQL: the schema tillit_keys in the same database. Operators can dump the
//     data without it (pg_dump --exclude-schema=tillit_keys) and give it to a role of
//     its own: create the schema beforehand as that role, GRANT USAGE ON SCHEMA
//     tillit_keys and SELECT, INSERT, UPDATE ON its tables to the application role.
//     When the schema and tables exist, opening needs no CREATE privilege.
//
// Shred destroys a customer's key and leaves a tombstone, so every copy of that
// customer's ciphertext anywhere (backups included) becomes noise and the customer can
// never silently get a new key. On SQLite the keystore runs with secure_delete and
// truncates its WAL after a shred, so the key bytes leave the files. On PostgreSQL a
// deleted key stays in dead tuples until VACUUM and in WAL archives until they expire;
// operators who keep WAL archives must keep them no longer than the deletion deadline.
//
// With several processes (PostgreSQL), a shred in one process leaves the unwrapped key
// in the other processes' caches for at most KeystoreOptions.CacheTTL.

import (
	"bytes"
	"container/list"
	"context"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"

	"tillit/internal/store"
)

//go:embed keystore_migrations/*.sql
var keystoreSQL embed.FS

// KeystoreFile is the keystore's file name in the data directory (SQLite).
const KeystoreFile = "keystore.db"

// Blind index kinds. Each kind has its own key, so equal values of different kinds
// never share an index value.
const (
	BlindEmail          = "email"
	BlindPhone          = "phone"
	BlindIdentityNumber = "identity-number"
)

var (
	// ErrDecrypt means a field did not decrypt: the ciphertext was tampered with, or
	// belongs to another customer or another field. No plaintext is returned.
	ErrDecrypt = errors.New("field does not decrypt with this customer's key (tampered, or moved from another customer or field)")
	// ErrShredded means the customer's data key was destroyed (erasure); their data
	// can never be decrypted again, and no new key is made for them.
	ErrShredded = errors.New("customer's data key has been shredded")
	// ErrNoDataKey means the customer never had a data key, so nothing of theirs was
	// encrypted.
	ErrNoDataKey = errors.New("customer has no data key")
	// ErrWrongMasterKey means keys in the keystore are wrapped under a master key that
	// this process does not hold.
	ErrWrongMasterKey = errors.New("keystore holds keys wrapped under a master key this process does not have")
)

// FieldError names the record whose field failed, without its contents. Err is
// ErrDecrypt, ErrShredded or ErrNoDataKey.
type FieldError struct {
	CustomerID string
	Field      string
	Err        error
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("customer %s, field %s: %v", e.CustomerID, e.Field, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// KeystoreOptions tune OpenKeystoreWith. Only Master is required.
type KeystoreOptions struct {
	// Master wraps new keys and is the target of rotations.
	Master *MasterKey
	// Previous masters are accepted for unwrapping, e.g. to finish a rotation that a
	// crash interrupted without the new key at hand.
	Previous []*MasterKey
	// CacheSize bounds how many unwrapped customer keys stay in memory (LRU);
	// default 4096.
	CacheSize int
	// CacheTTL bounds how long an unwrapped key is used before it is read again, which
	// bounds how long another process's shred goes unnoticed; default 5 minutes.
	CacheTTL time.Duration
	// RotateBatch is how many keys one rotation commit re-wraps; default 200.
	RotateBatch int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Keystore holds the wrapped per-customer data keys and the blind index key.
type Keystore struct {
	st      *store.Store
	own     bool    // SQLite: the keystore store is ours to close
	ckpt    *sql.DB // SQLite: a plain connection that truncates the WAL after a shred
	dataT   string  // table names, schema-qualified on PostgreSQL
	rootT   string
	opt     KeystoreOptions
	closing atomic.Bool

	mu      sync.RWMutex
	masters map[string]*Sealer // fingerprint -> key-encryption key
	current string             // fingerprint new keys are wrapped under

	indexRoot []byte
	indexKeys sync.Map // kind -> []byte

	stripes [64]sync.Mutex // per customer id: a load and a shred never interleave
	cmu     sync.Mutex
	lru     *list.List
	items   map[string]*list.Element

	rotMu sync.Mutex
}

type cacheEntry struct {
	key      *CustomerKey
	loadedAt time.Time
}

// OpenKeystore opens the keystore that belongs to data: keystore.db in dataDir on
// SQLite (dataDir "" means the data file's directory), the schema tillit_keys on
// PostgreSQL. It creates the keystore's tables when missing and refuses a master key
// that does not unwrap the keys already there.
func OpenKeystore(ctx context.Context, data *store.Store, dataDir string, master *MasterKey) (*Keystore, error) {
	return OpenKeystoreWith(ctx, data, dataDir, KeystoreOptions{Master: master})
}

// OpenKeystoreWith is OpenKeystore with options.
func OpenKeystoreWith(ctx context.Context, data *store.Store, dataDir string, opt KeystoreOptions) (*Keystore, error) {
	if opt.Master == nil {
		return nil, errors.New("keystore: no master key")
	}
	if opt.CacheSize <= 0 {
		opt.CacheSize = 4096
	}
	if opt.CacheTTL <= 0 {
		opt.CacheTTL = 5 * time.Minute
	}
	if opt.RotateBatch <= 0 {
		opt.RotateBatch = 200
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	k := &Keystore{opt: opt, lru: list.New(), items: map[string]*list.Element{}, masters: map[string]*Sealer{}}
	for _, m := range append([]*MasterKey{opt.Master}, opt.Previous...) {
		if err := k.addMaster(m); err != nil {
			return nil, err
		}
	}
	k.current = opt.Master.Fingerprint()

	var ddl string
	switch data.Dialect() {
	case store.SQLite:
		if dataDir == "" {
			dataDir = filepath.Dir(data.Path())
		}
		path := filepath.Join(dataDir, KeystoreFile)
		// Created 0600 before SQLite sees it; SQLite gives its -wal and -shm the same mode.
		if f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
			f.Close()
		}
		st, err := store.Open(ctx, path, store.Options{ReadConns: 4})
		if err != nil {
			return nil, fmt.Errorf("open keystore %s: %w", path, err)
		}
		k.st, k.own = st, true
		k.ckpt, err = sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			st.Close()
			return nil, err
		}
		k.ckpt.SetMaxOpenConns(1)
		k.dataT, k.rootT = "data_keys", "root_keys"
		ddl = "keystore_migrations/sqlite.sql"
	case store.Postgres:
		k.st = data
		k.dataT, k.rootT = "tillit_keys.data_keys", "tillit_keys.root_keys"
		ddl = "keystore_migrations/postgres.sql"
	default:
		return nil, fmt.Errorf("keystore: unsupported dialect %q", data.Dialect())
	}
	if err := k.createSchema(ctx, ddl); err != nil {
		k.Close()
		return nil, err
	}
	if err := k.checkMasters(ctx); err != nil {
		k.Close()
		return nil, err
	}
	if err := k.loadIndexRoot(ctx); err != nil {
		k.Close()
		return nil, err
	}
	return k, nil
}

// Close releases the keystore and forgets the unwrapped keys. On PostgreSQL the data
// store, which the keystore shares, stays open.
func (k *Keystore) Close() error {
	k.closing.Store(true)
	k.cmu.Lock()
	k.lru.Init()
	clear(k.items)
	k.cmu.Unlock()
	var err error
	if k.ckpt != nil {
		err = k.ckpt.Close()
	}
	if k.own && k.st != nil {
		err = errors.Join(err, k.st.Close())
	}
	return err
}

func (k *Keystore) addMaster(m *MasterKey) error {
	kek, err := m.AEAD("keystore-kek")
	if err != nil {
		return err
	}
	k.mu.Lock()
	k.masters[m.Fingerprint()] = kek
	k.mu.Unlock()
	return nil
}

// write runs fn in the keystore's store; on SQLite with secure_delete, so that the
// bytes of a deleted or rewritten key are overwritten, not left in free pages.
func (k *Keystore) write(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	return k.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		if k.st.Dialect() == store.SQLite {
			if _, err := tx.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
				return err
			}
		}
		return fn(ctx, tx)
	})
}

func (k *Keystore) createSchema(ctx context.Context, name string) error {
	if k.st.Dialect() == store.Postgres {
		// Existing tables need no CREATE privilege, so the schema can belong to
		// another role.
		var ok bool
		err := k.st.DB().QueryRowContext(ctx,
			`SELECT to_regclass('tillit_keys.data_keys') IS NOT NULL AND to_regclass('tillit_keys.root_keys') IS NOT NULL`).Scan(&ok)
		if err != nil {
			return fmt.Errorf("keystore: %w", err)
		}
		if ok {
			return nil
		}
	}
	b, err := keystoreSQL.ReadFile(name)
	if err != nil {
		return err
	}
	var lines []string
	for l := range strings.Lines(string(b)) {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			lines = append(lines, l)
		}
	}
	err = k.write(ctx, func(ctx context.Context, tx store.Tx) error {
		if k.st.Dialect() == store.Postgres {
			// Two processes starting together must not race on CREATE SCHEMA.
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7431002)`); err != nil {
				return err
			}
		}
		for stmt := range strings.SplitSeq(strings.Join(lines, ""), ";") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("keystore: create schema: %w", err)
	}
	return nil
}

// checkMasters fails early, with the fingerprints, when some key is wrapped under no
// master this process holds (a wrong key file, or a rotation finished elsewhere).
func (k *Keystore) checkMasters(ctx context.Context) error {
	for _, t := range []string{k.dataT, k.rootT} {
		rows, err := k.st.DB().QueryContext(ctx,
			`SELECT master_fp, old_fp, COUNT(*) FROM `+t+` WHERE wrapped IS NOT NULL GROUP BY master_fp, old_fp`)
		if err != nil {
			return fmt.Errorf("keystore: %w", err)
		}
		var bad []string
		n := 0
		for rows.Next() {
			var fp string
			var old sql.NullString
			var c int
			if err := rows.Scan(&fp, &old, &c); err != nil {
				rows.Close()
				return err
			}
			if !k.holds(fp) && !(old.Valid && k.holds(old.String)) {
				bad = append(bad, fp)
				n += c
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: %d keys in %s are wrapped under master key fingerprint %s; this process has %s",
				ErrWrongMasterKey, n, t, strings.Join(bad, ", "), strings.Join(k.fingerprints(), ", "))
		}
	}
	return nil
}

func (k *Keystore) holds(fp string) bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	_, ok := k.masters[fp]
	return ok
}

func (k *Keystore) fingerprints() []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	var fps []string
	for fp := range k.masters {
		fps = append(fps, fp)
	}
	return fps
}

func (k *Keystore) currentKEK() (string, *Sealer) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current, k.masters[k.current]
}

// kekFor picks the wrapping this process can open: the current one, else the one kept
// from before a rotation.
func (k *Keystore) kekFor(w wrapping) ([]byte, *Sealer, string, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if s, ok := k.masters[w.fp]; ok {
		return w.wrapped, s, w.fp, true
	}
	if w.oldFP.Valid {
		if s, ok := k.masters[w.oldFP.String]; ok {
			return w.oldWrapped, s, w.oldFP.String, true
		}
	}
	return nil, nil, "", false
}

type wrapping struct {
	id         string
	wrapped    []byte
	fp         string
	oldWrapped []byte
	oldFP      sql.NullString
}

// kekAEAD lets tink wrap keysets with the master-derived key-encryption key.
type kekAEAD struct{ s *Sealer }

func (a kekAEAD) Encrypt(plaintext, ad []byte) ([]byte, error) { return a.s.Seal(plaintext, ad) }
func (a kekAEAD) Decrypt(ct, ad []byte) ([]byte, error)        { return a.s.Open(ct, ad) }

var _ tink.AEAD = kekAEAD{}

// A wrapped key is bound to its customer (or root key name): a row copied onto
// another customer does not unwrap.
func dataKeyAD(customerID string) []byte { return []byte("tillit/data-key/v1\x00" + customerID) }
func rootKeyAD(name string) []byte       { return []byte("tillit/root-key/v1\x00" + name) }

func wrapKeyset(h *keyset.Handle, kek *Sealer, customerID string) ([]byte, error) {
	var buf bytes.Buffer
	if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&buf), kekAEAD{kek}, dataKeyAD(customerID)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func unwrapKeyset(wrapped []byte, kek *Sealer, customerID string) (*keyset.Handle, error) {
	return keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(wrapped)), kekAEAD{kek}, dataKeyAD(customerID))
}

// CustomerKey encrypts and decrypts one customer's fields. Get it from ForCustomer for
// each piece of work rather than keeping it: after Shred it refuses to work.
type CustomerKey struct {
	id   string
	a    tink.AEAD
	dead atomic.Bool
}

// CustomerID is the customer the key belongs to.
func (c *CustomerKey) CustomerID() string { return c.id }

// fieldAD binds a ciphertext to its customer and field; the length prefix keeps
// ("ab","c") and ("a","bc") apart.
func (c *CustomerKey) fieldAD(field string) []byte {
	ad := make([]byte, 0, binary.MaxVarintLen64+len(c.id)+len(field))
	ad = binary.AppendUvarint(ad, uint64(len(c.id)))
	ad = append(ad, c.id...)
	return append(ad, field...)
}

// Encrypt seals plaintext for this customer's field.
func (c *CustomerKey) Encrypt(field string, plaintext []byte) ([]byte, error) {
	if c.dead.Load() {
		return nil, &FieldError{c.id, field, ErrShredded}
	}
	ct, err := c.a.Encrypt(plaintext, c.fieldAD(field))
	if err != nil {
		return nil, &FieldError{c.id, field, err}
	}
	return ct, nil
}

// Decrypt opens what Encrypt sealed for the same customer and field. Any failure is
// a *FieldError wrapping ErrDecrypt (or ErrShredded), never partial plaintext.
func (c *CustomerKey) Decrypt(field string, ciphertext []byte) ([]byte, error) {
	if c.dead.Load() {
		return nil, &FieldError{c.id, field, ErrShredded}
	}
	pt, err := c.a.Decrypt(ciphertext, c.fieldAD(field))
	if err != nil {
		return nil, &FieldError{c.id, field, ErrDecrypt}
	}
	return pt, nil
}

// ForCustomer returns the customer's data key, creating it on first use. A shredded
// customer gets an error wrapping ErrShredded, never a new key.
func (k *Keystore) ForCustomer(ctx context.Context, customerID string) (*CustomerKey, error) {
	return k.customerKey(ctx, customerID, true)
}

// Encrypt is ForCustomer followed by CustomerKey.Encrypt.
func (k *Keystore) Encrypt(ctx context.Context, customerID, field string, plaintext []byte) ([]byte, error) {
	ck, err := k.ForCustomer(ctx, customerID)
	if err != nil {
		return nil, fieldErr(customerID, field, err)
	}
	return ck.Encrypt(field, plaintext)
}

// Decrypt decrypts a customer's field without creating a key: a customer who never
// had one, or was shredded, gets a *FieldError (ErrNoDataKey, ErrShredded).
func (k *Keystore) Decrypt(ctx context.Context, customerID, field string, ciphertext []byte) ([]byte, error) {
	ck, err := k.customerKey(ctx, customerID, false)
	if err != nil {
		return nil, fieldErr(customerID, field, err)
	}
	return ck.Decrypt(field, ciphertext)
}

func fieldErr(customerID, field string, err error) error {
	for _, s := range []error{ErrShredded, ErrNoDataKey} {
		if errors.Is(err, s) {
			return &FieldError{customerID, field, s}
		}
	}
	return fmt.Errorf("customer %s, field %s: %w", customerID, field, err)
}

func (k *Keystore) stripe(id string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(id))
	return &k.stripes[h.Sum32()%uint32(len(k.stripes))]
}

func (k *Keystore) customerKey(ctx context.Context, id string, create bool) (*CustomerKey, error) {
	if id == "" {
		return nil, errors.New("keystore: empty customer id")
	}
	if k.closing.Load() {
		return nil, errors.New("keystore: closed")
	}
	if ck := k.cached(id); ck != nil {
		return ck, nil
	}
	// The stripe keeps a shred of this customer from landing between our read and
	// our cache insert, which would cache a destroyed key.
	mu := k.stripe(id)
	mu.Lock()
	defer mu.Unlock()
	if ck := k.cached(id); ck != nil {
		return ck, nil
	}
	w, shredded, err := k.readRow(ctx, k.st.DB(), id)
	switch {
	case errors.Is(err, store.ErrNotFound) && create:
		w, shredded, err = k.create(ctx, id)
	case errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("customer %s: %w", id, ErrNoDataKey)
	}
	if err != nil {
		return nil, err
	}
	if shredded {
		return nil, fmt.Errorf("customer %s: %w", id, ErrShredded)
	}
	wrapped, kek, fp, ok := k.kekFor(w)
	if !ok {
		return nil, fmt.Errorf("customer %s: data key is wrapped under master key fingerprint %s: %w", id, w.fp, ErrWrongMasterKey)
	}
	h, err := unwrapKeyset(wrapped, kek, id)
	if err != nil {
		return nil, fmt.Errorf("customer %s: data key in the keystore does not unwrap under master key %s (damaged or moved row): %w", id, fp, err)
	}
	a, err := aead.New(h)
	if err != nil {
		return nil, fmt.Errorf("customer %s: %w", id, err)
	}
	ck := &CustomerKey{id: id, a: a}
	k.put(ck)
	return ck, nil
}

func (k *Keystore) readRow(ctx context.Context, q store.Querier, id string) (wrapping, bool, error) {
	w := wrapping{id: id}
	var fp sql.NullString
	var shredded sql.NullInt64
	err := q.QueryRowContext(ctx,
		`SELECT wrapped, master_fp, old_wrapped, old_fp, shredded_at FROM `+k.dataT+` WHERE customer_id = $1`, id).
		Scan(&w.wrapped, &fp, &w.oldWrapped, &w.oldFP, &shredded)
	if err != nil {
		return w, false, store.Classify(err)
	}
	w.fp = fp.String
	return w, shredded.Valid, nil
}

func (k *Keystore) create(ctx context.Context, id string) (wrapping, bool, error) {
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return wrapping{}, false, err
	}
	fp, kek := k.currentKEK()
	wrapped, err := wrapKeyset(h, kek, id)
	if err != nil {
		return wrapping{}, false, err
	}
	var w wrapping
	var shredded bool
	err = k.write(ctx, func(ctx context.Context, tx store.Tx) error {
		// Another process may have created (or shredded) the key meanwhile: the row
		// that is there wins, and we use it.
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO `+k.dataT+` (customer_id, wrapped, master_fp, created_at) VALUES ($1, $2, $3, $4)
			 ON CONFLICT (customer_id) DO NOTHING`,
			id, wrapped, fp, store.Micros(k.opt.Now())); err != nil {
			return err
		}
		var err error
		w, shredded, err = k.readRow(ctx, tx, id)
		return err
	})
	if err != nil {
		return wrapping{}, false, fmt.Errorf("customer %s: create data key: %w", id, err)
	}
	return w, shredded, nil
}

func (k *Keystore) cached(id string) *CustomerKey {
	k.cmu.Lock()
	defer k.cmu.Unlock()
	e, ok := k.items[id]
	if !ok {
		return nil
	}
	ce := e.Value.(*cacheEntry)
	if k.opt.Now().Sub(ce.loadedAt) > k.opt.CacheTTL {
		k.lru.Remove(e)
		delete(k.items, id)
		return nil
	}
	k.lru.MoveToFront(e)
	return ce.key
}

func (k *Keystore) put(ck *CustomerKey) {
	k.cmu.Lock()
	defer k.cmu.Unlock()
	if e, ok := k.items[ck.id]; ok {
		k.lru.Remove(e)
	}
	k.items[ck.id] = k.lru.PushFront(&cacheEntry{key: ck, loadedAt: k.opt.Now()})
	for k.lru.Len() > k.opt.CacheSize {
		old := k.lru.Back()
		k.lru.Remove(old)
		delete(k.items, old.Value.(*cacheEntry).key.id)
	}
}

// Shred destroys the customer's data key durably and leaves a tombstone, so that every
// copy of their ciphertext, backups included, can never be decrypted again and
// ForCustomer answers ErrShredded instead of making a new key. Shredding twice, or a
// customer who never had a key, is fine. On SQLite the WAL is then truncated so that
// the key bytes leave the files; an error after the commit says so, and running Shred
// again finishes the job.
func (k *Keystore) Shred(ctx context.Context, customerID string) error {
	if customerID == "" {
		return errors.New("keystore: empty customer id")
	}
	mu := k.stripe(customerID)
	mu.Lock()
	defer mu.Unlock()
	err := k.write(ctx, func(ctx context.Context, tx store.Tx) error {
		now := store.Micros(k.opt.Now())
		_, err := tx.ExecContext(ctx,
			`INSERT INTO `+k.dataT+` AS d (customer_id, created_at, shredded_at) VALUES ($1, $2, $2)
			 ON CONFLICT (customer_id) DO UPDATE SET wrapped = NULL, master_fp = NULL, old_wrapped = NULL,
			   old_fp = NULL, shredded_at = COALESCE(d.shredded_at, excluded.shredded_at)`,
			customerID, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("shred key of customer %s: %w", customerID, err)
	}
	k.cmu.Lock()
	if e, ok := k.items[customerID]; ok {
		e.Value.(*cacheEntry).key.dead.Store(true)
		k.lru.Remove(e)
		delete(k.items, customerID)
	}
	k.cmu.Unlock()
	if err := k.truncateWAL(ctx); err != nil {
		return fmt.Errorf("key of customer %s is shredded, but its old bytes may remain in %s-wal until the next checkpoint: %w",
			customerID, KeystoreFile, err)
	}
	return nil
}

// truncateWAL copies the WAL into the database (whose freed cells secure_delete has
// zeroed) and truncates it to nothing, so old page images holding a key are gone.
func (k *Keystore) truncateWAL(ctx context.Context) error {
	if k.ckpt == nil {
		return nil
	}
	for attempt := 0; ; attempt++ {
		var busy, logFrames, done int
		if err := k.ckpt.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
			return err
		}
		if busy == 0 {
			return nil
		}
		if attempt == 20 {
			return errors.New("wal checkpoint stayed busy")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
	}
}

// Rotate re-wraps every key under newMaster, in batches, while the keystore stays in
// use: until it finishes, each key is readable under either master (the row keeps its
// previous wrapping beside the new one), and keys created meanwhile are wrapped under
// newMaster. It is idempotent: after an interruption (a cancelled ctx, a crash) run it
// again, in this process or a new one opened with either master; it continues where it
// stopped. When it returns nil only newMaster unwraps the keystore. progress, if not
// nil, is called after each batch with the data keys done and the total to do.
func (k *Keystore) Rotate(ctx context.Context, newMaster *MasterKey, progress func(done, total int)) error {
	k.rotMu.Lock()
	defer k.rotMu.Unlock()
	if err := k.addMaster(newMaster); err != nil {
		return err
	}
	to := newMaster.Fingerprint()
	k.mu.Lock()
	k.current = to
	k.mu.Unlock()

	if _, err := k.rewrapBatch(ctx, k.rootT, "name", to, 1000); err != nil {
		return err
	}
	var total int
	if err := k.st.DB().QueryRowContext(ctx,
		`SELECT COUNT(*) FROM `+k.dataT+` WHERE wrapped IS NOT NULL AND master_fp <> $1`, to).Scan(&total); err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	done := 0
	for {
		n, err := k.rewrapBatch(ctx, k.dataT, "customer_id", to, k.opt.RotateBatch)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		done += n
		total = max(total, done)
		if progress != nil {
			progress(done, total)
		}
	}
	// Every key now opens under the new master: drop the previous wrappings.
	for _, t := range []struct{ table, id string }{{k.dataT, "customer_id"}, {k.rootT, "name"}} {
		for {
			var n int64
			err := k.write(ctx, func(ctx context.Context, tx store.Tx) error {
				res, err := tx.ExecContext(ctx,
					`UPDATE `+t.table+` SET old_wrapped = NULL, old_fp = NULL WHERE `+t.id+` IN (
					   SELECT `+t.id+` FROM `+t.table+` WHERE old_fp IS NOT NULL AND master_fp = $1 LIMIT $2)`,
					to, k.opt.RotateBatch)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				return fmt.Errorf("rotate: finish: %w", err)
			}
			if n == 0 {
				break
			}
		}
	}
	// A key wrapped under the old master by another process after our last batch
	// would be lost to a process holding only the new master: refuse to call it done.
	var left int
	if err := k.st.DB().QueryRowContext(ctx,
		`SELECT COUNT(*) FROM `+k.dataT+` WHERE wrapped IS NOT NULL AND master_fp <> $1`, to).Scan(&left); err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	if left > 0 {
		return fmt.Errorf("rotate: %d keys were wrapped under an old master key while rotating; run the rotation again", left)
	}
	k.mu.Lock()
	for fp := range k.masters {
		if fp != to {
			delete(k.masters, fp)
		}
	}
	k.mu.Unlock()
	return k.truncateWAL(ctx)
}

// rewrapBatch re-wraps up to limit keys of table that are not yet under master to,
// keeping each one's previous wrapping for readers that hold only the old master.
func (k *Keystore) rewrapBatch(ctx context.Context, table, idCol, to string, limit int) (int, error) {
	n := 0
	err := k.write(ctx, func(ctx context.Context, tx store.Tx) error {
		rows, err := tx.QueryContext(ctx,
			`SELECT `+idCol+`, wrapped, master_fp, old_wrapped, old_fp FROM `+table+`
			 WHERE wrapped IS NOT NULL AND master_fp <> $1 ORDER BY `+idCol+` LIMIT $2`, to, limit)
		if err != nil {
			return err
		}
		var batch []wrapping
		for rows.Next() {
			var w wrapping
			if err := rows.Scan(&w.id, &w.wrapped, &w.fp, &w.oldWrapped, &w.oldFP); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, w)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		k.mu.RLock()
		newKEK := k.masters[to]
		k.mu.RUnlock()
		now := store.Micros(k.opt.Now())
		for _, w := range batch {
			wrapped, kek, fp, ok := k.kekFor(w)
			if !ok {
				return fmt.Errorf("%s %s is wrapped under master key fingerprint %s: %w", idCol, w.id, w.fp, ErrWrongMasterKey)
			}
			var rewrapped []byte
			var err error
			if table == k.rootT {
				rewrapped, err = rewrapRoot(wrapped, kek, newKEK, w.id)
			} else {
				rewrapped, err = rewrapData(wrapped, kek, newKEK, w.id)
			}
			if err != nil {
				return fmt.Errorf("%s %s: re-wrap: %w", idCol, w.id, err)
			}
			if _, err := tx.ExecContext(ctx,
				`UPDATE `+table+` SET wrapped = $1, master_fp = $2, old_wrapped = $3, old_fp = $4, rotated_at = $5
				 WHERE `+idCol+` = $6`, rewrapped, to, wrapped, fp, now, w.id); err != nil {
				return err
			}
		}
		n = len(batch)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("rotate %s: %w", table, err)
	}
	return n, nil
}

func rewrapData(wrapped []byte, from, to *Sealer, id string) ([]byte, error) {
	h, err := unwrapKeyset(wrapped, from, id)
	if err != nil {
		return nil, err
	}
	return wrapKeyset(h, to, id)
}

func rewrapRoot(wrapped []byte, from, to *Sealer, name string) ([]byte, error) {
	secret, err := from.Open(wrapped, rootKeyAD(name))
	if err != nil {
		return nil, err
	}
	return to.Seal(secret, rootKeyAD(name))
}

const blindIndexRoot = "blind-index"

// loadIndexRoot reads, or makes once, the secret that blind index keys derive from.
// It lives in the keystore rather than being derived from the master key so that a
// master key rotation does not change every stored blind index.
func (k *Keystore) loadIndexRoot(ctx context.Context) error {
	fp, kek := k.currentKEK()
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	sealed, err := kek.Seal(secret, rootKeyAD(blindIndexRoot))
	if err != nil {
		return err
	}
	var w wrapping
	err = k.write(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO `+k.rootT+` (name, wrapped, master_fp, created_at) VALUES ($1, $2, $3, $4)
			 ON CONFLICT (name) DO NOTHING`, blindIndexRoot, sealed, fp, store.Micros(k.opt.Now())); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT wrapped, master_fp, old_wrapped, old_fp FROM `+k.rootT+` WHERE name = $1`,
			blindIndexRoot).Scan(&w.wrapped, &w.fp, &w.oldWrapped, &w.oldFP)
	})
	if err != nil {
		return fmt.Errorf("keystore: blind index key: %w", err)
	}
	wrapped, kek, _, ok := k.kekFor(w)
	if !ok {
		return fmt.Errorf("keystore: blind index key is wrapped under master key fingerprint %s: %w", w.fp, ErrWrongMasterKey)
	}
	k.indexRoot, err = kek.Open(wrapped, rootKeyAD(blindIndexRoot))
	if err != nil {
		return fmt.Errorf("keystore: blind index key does not unwrap (damaged): %w", err)
	}
	return nil
}

// AEAD derives an authenticated cipher for one purpose (the mail outbox, staff TOTP
// secrets) from the keystore's root secret. Unlike MasterKey.AEAD, what it seals
// survives a master key rotation, because the root secret is re-wrapped, not replaced.
func (k *Keystore) AEAD(purpose string) (*Sealer, error) {
	return deriveSealer(k.indexRoot, "tillit/purpose/v1/"+purpose)
}

// SigningKey is the Ed25519 key that signs audit checkpoints, derived from the root
// secret so that checkpoints stay verifiable across master key rotations.
func (k *Keystore) SigningKey() ed25519.PrivateKey {
	seed, err := hkdf.Key(sha256.New, k.indexRoot, nil, "tillit/audit-checkpoint/v1", ed25519.SeedSize)
	if err != nil {
		panic(err) // only for an output length HKDF cannot give
	}
	return ed25519.NewKeyFromSeed(seed)
}

// BlindIndex returns a keyed hash (HMAC-SHA-256, base64url) of a value for exact
// lookups on an encrypted field: store it beside the ciphertext, and search by
// BlindIndex of the value sought. kind separates the keys (BlindEmail, BlindPhone,
// BlindIdentityNumber). The value must be normalised first (NormalizeEmail,
// NormalizePhone, the identity number in its canonical form), or equal values written
// differently will not match. The key lives in the keystore and survives master key
// rotations; a different keystore gives different indexes.
func (k *Keystore) BlindIndex(kind, normalized string) string {
	key, ok := k.indexKeys.Load(kind)
	if !ok {
		sub, err := hkdf.Key(sha256.New, k.indexRoot, nil, "tillit/blind-index/v1/"+kind, 32)
		if err != nil {
			panic(err) // only for an output length HKDF cannot give; 32 always works
		}
		key, _ = k.indexKeys.LoadOrStore(kind, sub)
	}
	m := hmac.New(sha256.New, key.([]byte))
	m.Write([]byte(normalized))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
