package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrBackupUnsupported is returned on PostgreSQL, whose own tools (pg_dump,
// pg_basebackup) are the right way to back it up.
var ErrBackupUnsupported = errors.New("tillit backup/restore handle the embedded SQLite database; for PostgreSQL use pg_dump and pg_restore")

// Backup writes a consistent copy of a SQLite database, running or not, to dst,
// which must not exist. The copy is written beside dst and renamed into place only
// when complete and synced, so a crash never leaves a half backup under dst's name.
func (s *Store) Backup(ctx context.Context, dst string) error {
	if s.dialect != SQLite {
		return ErrBackupUnsupported
	}
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("%s already exists; choose a new file", dst)
	}
	tmp := dst + ".partial"
	os.Remove(tmp)
	// A plain connection of its own: VACUUM INTO cannot run in a transaction, and in
	// WAL mode it reads a snapshot without blocking the writer.
	db, err := sql.Open("sqlite", "file:"+s.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO $1`, tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backup: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(dst))
}

// Restore copies a backup made by Backup to dst (a SQLite path that must not exist)
// after checking that it is an intact Tillit database no newer than this binary.
func Restore(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("%s already exists; restore into a new data directory", dst)
	}
	if err := checkBackup(ctx, src); err != nil {
		return err
	}
	tmp := dst + ".partial"
	if err := copyFile(src, tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(dst))
}

func checkBackup(ctx context.Context, src string) error {
	if _, err := os.Stat(src); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", "file:"+src+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return fmt.Errorf("%s is not a SQLite database: %w", src, err)
	}
	if res != "ok" {
		return fmt.Errorf("%s is damaged: %s", src, res)
	}
	var v int64
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&v); err != nil {
		return fmt.Errorf("%s is not a Tillit backup: %w", src, err)
	}
	if known := knownVersion(SQLite); v > known {
		return fmt.Errorf("%w: backup is at version %d, this binary knows up to %d", ErrSchemaNewer, v, known)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
