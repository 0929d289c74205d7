package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrations embed.FS

// ErrSchemaNewer means the database was migrated by a newer Tillit; running an older
// binary against it could corrupt data, so the server refuses.
var ErrSchemaNewer = errors.New("database schema is newer than this tillit")

// MigrationStatus is one embedded migration and whether it is applied.
type MigrationStatus struct {
	Version int64
	Name    string
	Applied bool
}

func (s *Store) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(s.dialect))
	if err != nil {
		return nil, err
	}
	var opts []goose.ProviderOption
	dialect := goose.DialectSQLite3
	if s.dialect == Postgres {
		dialect = goose.DialectPostgres
		// Several processes may start at once against one database; one migrates.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, s.write, sub, opts...)
}

// SchemaVersions returns the version the database is at and the newest this binary knows.
func (s *Store) SchemaVersions(ctx context.Context) (db, known int64, err error) {
	p, err := s.provider()
	if err != nil {
		return 0, 0, err
	}
	for _, src := range p.ListSources() {
		known = max(known, src.Version)
	}
	db, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, known, Classify(err)
	}
	return db, known, nil
}

// Migrate applies every pending migration, refusing a database newer than this binary.
func (s *Store) Migrate(ctx context.Context) error {
	db, known, err := s.SchemaVersions(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if db > known {
		return fmt.Errorf("%w: database is at version %d, this binary knows up to %d; upgrade tillit", ErrSchemaNewer, db, known)
	}
	p, err := s.provider()
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", Classify(err))
	}
	s.schema.Store(known)
	return nil
}

// SchemaVersion is the version Migrate left the database at, 0 before Migrate. It
// costs no query; /readyz uses Current to ask the database itself.
func (s *Store) SchemaVersion() int64 { return s.schema.Load() }

// MigrationStatus lists every embedded migration with its state.
func (s *Store) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	p, err := s.provider()
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, Classify(err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, m := range st {
		out = append(out, MigrationStatus{
			Version: m.Source.Version,
			Name:    m.Source.Path,
			Applied: m.State == goose.StateApplied,
		})
	}
	return out, nil
}

// Current reports whether the database is at exactly the newest embedded migration.
// It reads through the read pool, so /readyz never waits for the writer.
func (s *Store) Current(ctx context.Context) (bool, error) {
	var db int64
	err := s.read.QueryRowContext(ctx,
		`SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&db)
	if err != nil {
		return false, Classify(err)
	}
	return db == knownVersion(s.dialect), nil
}

func knownVersion(d Dialect) int64 {
	entries, _ := fs.ReadDir(migrations, "migrations/"+string(d))
	var v int64
	for _, e := range entries {
		var n int64
		if _, err := fmt.Sscanf(e.Name(), "%d_", &n); err == nil {
			v = max(v, n)
		}
	}
	return v
}

// Migrations exposes the embedded migration files (read-only), e.g. for test
// harnesses that cache a migrated template per migration set.
func Migrations() fs.FS { return migrations }
