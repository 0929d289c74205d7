// Package storetest gives tests real, migrated databases: a fresh SQLite file, and a
// fresh PostgreSQL database cloned from a migrated template on the server named by
// TILLIT_TEST_POSTGRES. There is no fake store; tests run against both engines.
package storetest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"tillit/internal/store"
)

// EnvPostgres names the variable holding the URL of a PostgreSQL server tests may
// create databases on.
const EnvPostgres = "TILLIT_TEST_POSTGRES"

// Each runs fn once on SQLite and once on PostgreSQL, as subtests named by dialect.
func Each(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite opens a migrated database in a new temporary directory.
func SQLite(t testing.TB) *store.Store {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "tillit.db"))
}

// Postgres opens a new migrated database on the test server.
func Postgres(t testing.TB) *store.Store {
	t.Helper()
	return open(t, PostgresURL(t))
}

// DSNs returns a fresh database location for each dialect, for tests that start
// tillit as a subprocess. The PostgreSQL database is already migrated.
func DSNs(t testing.TB) map[store.Dialect]string {
	t.Helper()
	return map[store.Dialect]string{
		store.SQLite:   filepath.Join(t.TempDir(), "tillit.db"),
		store.Postgres: PostgresURL(t),
	}
}

func open(t testing.TB, dsn string) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	return st
}

var (
	tmplOnce sync.Once
	tmplName string
	tmplErr  error
)

// PostgresURL creates an empty migrated database on the test server and returns its
// URL; the database is dropped when the test ends. Without TILLIT_TEST_POSTGRES the
// test fails with instructions: PostgreSQL tests are never skipped silently.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvPostgres)
	if admin == "" {
		t.Fatalf("%s is not set. Run the suite with `make test`, which starts a throwaway "+
			"PostgreSQL, or point %s at a server where this user may CREATE DATABASE, "+
			"e.g. %s=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
			EnvPostgres, EnvPostgres, EnvPostgres)
	}
	ctx := context.Background()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgres, err)
	}
	defer db.Close()
	tmplOnce.Do(func() { tmplName, tmplErr = ensureTemplate(ctx, db, admin) })
	if tmplErr != nil {
		t.Fatalf("prepare template database: %v", tmplErr)
	}
	name := "tillit_t_" + strings.ReplaceAll(store.NewID(), "-", "")
	for attempt := 0; ; attempt++ {
		_, err = db.ExecContext(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmplName))
		var pe *pgconn.PgError
		// 55006: another backend is copying the template this very moment.
		if err != nil && errors.As(err, &pe) && pe.Code == "55006" && attempt < 50 {
			time.Sleep(time.Duration(20+attempt*10) * time.Millisecond)
			continue
		}
		break
	}
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec(fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
	})
	return withDatabase(admin, name)
}

// ensureTemplate creates, once per server and migration set, a migrated database to
// clone. An advisory lock keeps parallel test packages from racing to build it.
func ensureTemplate(ctx context.Context, db *sql.DB, admin string) (string, error) {
	name := "tillit_tmpl_" + migrationsHash()
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7431001)"); err != nil {
		return "", err
	}
	defer conn.ExecContext(ctx, "SELECT pg_advisory_unlock(7431001)")
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_build"
	conn.ExecContext(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", building))
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	st, err := store.Open(ctx, withDatabase(admin, building), store.Options{})
	if err != nil {
		return "", err
	}
	err = st.Migrate(ctx)
	st.Close()
	if err != nil {
		return "", err
	}
	// Renamed only when complete, so a crashed build is never cloned.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, name)); err != nil {
		return "", err
	}
	return name, nil
}

func migrationsHash() string {
	h := sha256.New()
	fs.WalkDir(store.Migrations(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(store.Migrations(), path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func withDatabase(admin, name string) string {
	u, err := url.Parse(admin)
	if err != nil {
		return admin
	}
	u.Path = "/" + name
	return u.String()
}
