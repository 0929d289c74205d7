// Package app is the composition root: it turns a Config into a running Tillit
// (database, keys, services, HTTP routes, background work) and back down again.
package app

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"

	"tillit/internal/security"
	"tillit/internal/store"
)

// Version is set at build time with -ldflags "-X tillit/internal/app.Version=...".
var Version = "dev"

// env is what every data command opens: the database, migrated, and the master key.
type env struct {
	cfg *Config
	log *slog.Logger
	st  *store.Store
	key *security.MasterKey
	ks  *security.Keystore // per-customer data keys and purpose keys, apart from the data
	// audit is the tamper-evident log every service records into.
	audit *security.Audit
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// open prepares the data directory, opens and migrates the database, and loads the
// master key. Failures that the operator must fix are usage errors (exit 2).
func open(ctx context.Context, cfg *Config, log *slog.Logger) (*env, error) {
	if err := ensureDataDir(cfg.Data); err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.DSN(), store.Options{})
	if err != nil {
		return nil, usagef("--db (TILLIT_DB): %v", err)
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		if errors.Is(err, store.ErrSchemaNewer) {
			return nil, usagef("--db (TILLIT_DB): %v", err)
		}
		return nil, err
	}
	key, err := loadKey(ctx, cfg, st, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	opt := security.KeystoreOptions{Master: key}
	if cfg.PreviousMasterKeyFile != "" {
		prev, _, err := security.LoadOrCreateMasterKey(cfg.PreviousMasterKeyFile, false)
		if err != nil {
			st.Close()
			return nil, usagef("--previous-master-key-file (TILLIT_PREVIOUS_MASTER_KEY_FILE): %v", err)
		}
		opt.Previous = append(opt.Previous, prev)
	}
	ks, err := security.OpenKeystoreWith(ctx, st, cfg.Data, opt)
	if err != nil {
		st.Close()
		if errors.Is(err, security.ErrWrongMasterKey) {
			return nil, usagef("keystore: %v", err)
		}
		return nil, err
	}
	audit := security.NewAudit(st, ks.SigningKey(), security.AuditOptions{Logger: log})
	return &env{cfg: cfg, log: log, st: st, key: key, ks: ks, audit: audit}, nil
}

func (e *env) close() {
	e.ks.Close()
	e.st.Close()
}

const metaKeyFingerprint = "master_key_fingerprint"

// loadKey reads or creates the master key and checks it against the fingerprint the
// database recorded when it was first used, so a missing or wrong key stops start-up
// instead of producing data nobody can read.
func loadKey(ctx context.Context, cfg *Config, st *store.Store, log *slog.Logger) (*security.MasterKey, error) {
	recorded, err := getMeta(ctx, st, metaKeyFingerprint)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	path := cfg.KeyFile()
	key, created, err := security.LoadOrCreateMasterKey(path, recorded == "")
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, usagef("master key %s is missing, but this database holds data encrypted with a key %s…; "+
			"restore the key file or set TILLIT_MASTER_KEY_FILE", path, recorded[:8])
	case err != nil:
		return nil, usagef("master key (TILLIT_MASTER_KEY_FILE): %v", err)
	}
	fp := key.Fingerprint()
	if recorded != "" && recorded != fp {
		return nil, usagef("master key %s does not match this database (key %s…, database wants %s…)", path, fp[:8], recorded[:8])
	}
	if recorded == "" {
		if err := setMeta(ctx, st, metaKeyFingerprint, fp); err != nil {
			return nil, err
		}
	}
	if created {
		log.Info("generated a new master key; back it up apart from the database", "path", path)
	}
	return key, nil
}

func getMeta(ctx context.Context, st *store.Store, key string) (string, error) {
	var v string
	err := st.DB().QueryRowContext(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", store.ErrNotFound
	}
	return v, store.Classify(err)
}

func setMeta(ctx context.Context, st *store.Store, key, value string) error {
	return st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
}

// oneLine keeps an error message on one line for the CLI.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
