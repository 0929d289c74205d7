// Package store opens Tillit's database, embedded SQLite or PostgreSQL, runs its
// migrations, and owns every write: a request's writes commit together or not at all.
//
// Durability: a nil error from Write means the work is committed durably (SQLite in WAL
// mode with synchronous=FULL, PostgreSQL with synchronous_commit=on). Writes are group
// committed: writer goroutines own the write connections (SQLite's only one; a few on
// PostgreSQL) and commit concurrent writes together, each piece of work in its own
// SAVEPOINT of the shared transaction, so a failing piece rolls back alone and the
// batch costs one fsync and one commit round trip.
package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// Dialect names the SQL engine behind a Store.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Sentinel errors. Rooms translate them; they never reach a client as database text.
var (
	ErrNotFound    = errors.New("store: not found")
	ErrConflict    = errors.New("store: unique constraint violated")
	ErrUnavailable = errors.New("store: database unavailable")
	ErrClosed      = errors.New("store: closed")
)

// Tx is the part of *sql.Tx that work given to Write may use.
type Tx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Querier is what reads need: satisfied by *sql.DB and by Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store is an open database.
type Store struct {
	dialect Dialect
	read    *sql.DB // read pool (SQLite) or the whole pool (PostgreSQL)
	write   *sql.DB // SQLite: one connection, used only by the writer goroutine
	path    string  // SQLite file path, empty on PostgreSQL
	group   *groupWriter
	schema  atomic.Int64 // set by Migrate
}

// Options tune Open. The zero value is sensible.
type Options struct {
	// ReadConns caps the read pool; default 8 on SQLite, 16 on PostgreSQL.
	ReadConns int
	// MaxBatch caps how many writes share one commit; default 128.
	MaxBatch int
	// Writers is the number of PostgreSQL connections that commit batches in
	// parallel; default 8. SQLite always has exactly one writer.
	Writers int
}

// Open opens dsn: a postgres:// or postgresql:// URL, or a SQLite file path
// (optionally prefixed by sqlite: or file:). It does not migrate; call Migrate.
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(ctx, dsn, opt)
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	if path == "" {
		return nil, errors.New("empty database path")
	}
	return openSQLite(ctx, path, opt)
}

func openSQLite(ctx context.Context, path string, opt Options) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("database directory %s: %w", dir, err)
		}
	}
	// busy_timeout comes first so that the pragmas after it wait rather than fail.
	pragmas := []string{
		"busy_timeout(10000)",
		"journal_mode(WAL)",
		"synchronous(FULL)",
		"foreign_keys(ON)",
	}
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	wq := url.Values{}
	for k, v := range q {
		wq[k] = v
	}
	wq.Set("_txlock", "immediate")
	wdsn := "file:" + path + "?" + wq.Encode()
	w, err := sql.Open("sqlite", wdsn)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	rq := url.Values{}
	for k, v := range q {
		rq[k] = v
	}
	rq.Add("_pragma", "query_only(ON)")
	r, err := sql.Open("sqlite", "file:"+path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, err
	}
	n := opt.ReadConns
	if n <= 0 {
		n = 8
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s := &Store{dialect: SQLite, read: r, write: w, path: path}
	s.group = newGroupWriter(w, opt.MaxBatch, 1)
	s.group.release = true
	return s, nil
}

func openPostgres(ctx context.Context, dsn string, opt Options) (*Store, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	q := u.Query()
	// A 2xx must survive a crash: never let a server default weaken the commit.
	if q.Get("synchronous_commit") == "" {
		q.Set("synchronous_commit", "on")
	}
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", "5")
	}
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		return nil, err
	}
	n := opt.ReadConns
	if n <= 0 {
		n = 16
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to PostgreSQL at %s: %w", u.Redacted(), err)
	}
	writers := opt.Writers
	if writers <= 0 {
		writers = 8
	}
	// The writers get connections of their own, so that reads never wait behind a
	// batch and a batch never waits for a reader's connection.
	w, err := sql.Open("pgx", u.String())
	if err != nil {
		db.Close()
		return nil, err
	}
	w.SetMaxOpenConns(writers)
	w.SetMaxIdleConns(writers)
	w.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{dialect: Postgres, read: db, write: w}
	s.group = newGroupWriter(w, min(cmp.Or(opt.MaxBatch, 64), 64), writers)
	return s, nil
}

// Dialect reports the engine.
func (s *Store) Dialect() Dialect { return s.dialect }

// Path is the SQLite file, or "" on PostgreSQL.
func (s *Store) Path() string { return s.path }

// DB is the read pool. Writes through it are refused on SQLite (query_only).
func (s *Store) DB() *sql.DB { return s.read }

// Write runs fn so that its writes commit durably together or not at all. fn may be
// called once; it must not keep tx after returning. An error from fn is returned as is
// (after its writes are rolled back); commit and connection failures are wrapped.
func (s *Store) Write(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	return s.group.do(ctx, fn)
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return Classify(err)
	}
	return nil
}

// Close stops the writer, waits for queued writes, and closes the pools.
func (s *Store) Close() error {
	s.group.close()
	err := s.read.Close()
	if s.write != s.read {
		if werr := s.write.Close(); err == nil {
			err = werr
		}
	}
	return err
}

// runGuarded runs fn and turns a panic into an error, so that one bad piece of work
// cannot take down the writer or leave a transaction open.
func runGuarded(ctx context.Context, tx Tx, fn func(context.Context, Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: panic in write: %v", r)
		}
	}()
	return fn(ctx, tx)
}
