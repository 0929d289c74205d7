package app

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"tillit/internal/security"
	"tillit/internal/store"
)

// Exit codes (DESIGN.md, Contracts).
const (
	ExitOK       = 0
	ExitNegative = 1 // a negative answer: invalid input, failed verification
	ExitUsage    = 2 // usage or configuration error
)

// IO is where a command reads its environment and writes its output.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

type command struct {
	synopsis string
	help     string
	run      func(ctx context.Context, io IO, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":     {"serve [flags]", "run the server: public pages, portal, console, API and background jobs", runServe},
		"migrate":   {"migrate status|up [flags]", "show or apply database migrations", runMigrate},
		"version":   {"version", "print the version", runVersion},
		"backup":    {"backup [flags] FILE", "write a consistent copy of the SQLite database (the master key is not included)", runBackup},
		"restore":   {"restore [flags] FILE", "restore a backup into a new data directory", runRestore},
		"token":     {"token create|list|revoke [flags]", "manage API tokens", runToken},
		"config":    {"config show [flags]", "print the effective configuration, secrets masked", runConfig},
		"mail":      {"mail test|list [flags]", "send a test message to check SMTP settings; list the outbox (no addresses or bodies)", runMail},
		"id":        {"id check [--country se|dk|no] [--json] NUMBER... | -", "check Nordic identity and organisation numbers", runID},
		"audit":     {"audit verify|checkpoint [flags]", "verify the audit chain; write a signed checkpoint to keep elsewhere", runAudit},
		"policy":    {"policy check FILE... | policy render FILE", "check a policy file (FILE:LINE:COL diagnostics); render its privacy policy or terms", runPolicy},
		"customers": {"customers import|export [flags] FILE.csv", "import customers from CSV (all or nothing) or export the register", runCustomers},
		"retention": {"retention preview|run [flags]", "show or apply what the policy's retention rules make due", runRetention},
		"keys":      {"keys rotate --new-key FILE [flags]", "re-wrap every data key under a new master key", runKeys},
		"staff":     {"staff add|list|disable|reset-password [flags]", "manage staff accounts", runStaff},
		"jobs":      {"jobs list|retry|cancel [flags]", "see the job queue (failed jobs included), retry or cancel a job", runJobs},
	}
}

// Main runs the CLI and returns the process exit code.
func Main(args []string, io IO) int {
	if io.Getenv == nil {
		io.Getenv = os.Getenv
	}
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(io.Stdout, cmds)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(io.Stderr, "tillit: unknown command %q (see tillit --help)\n", args[0])
		return ExitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// What the CLI changes is audited as done by the operator at this machine.
	ctx = security.WithActor(ctx, security.Actor{Kind: security.ActorSystem, ID: "cli:" + operatorName()})
	err := c.run(ctx, io, args[1:])
	var ue *errUsage
	switch {
	case err == nil || errors.Is(err, errHelp):
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(io.Stderr, "tillit %s: %s\n", args[0], oneLine(err))
		return ExitUsage
	}
	fmt.Fprintf(io.Stderr, "tillit %s: %s\n", args[0], oneLine(err))
	return ExitNegative
}

// negativef is a negative answer (exit 1): invalid input, nothing to act on, a
// failed verification. Every error that is not a usage error exits 1.
func negativef(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "Tillit keeps the promises of your terms and privacy policy.")
	fmt.Fprintln(w, "\nUsage: tillit COMMAND [flags]\n\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].help)
	}
	fmt.Fprintln(w, "\nRun tillit COMMAND --help for its flags. Settings are documented in docs/configuration.md.")
}

func runVersion(ctx context.Context, io IO, args []string) error {
	if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
		fmt.Fprintln(io.Stdout, "Usage: tillit version")
		return nil
	}
	fmt.Fprintln(io.Stdout, "tillit", Version)
	return nil
}

// openCommand parses a data command's flags and opens its data directory and database.
func openCommand(ctx context.Context, io IO, cmd, synopsis string, args []string, extra func(*flag.FlagSet)) (*env, []string, error) {
	cfg, pos, err := parseFlags(cmd, synopsis, args, false, io.Stdout, io.Getenv, extra)
	if err != nil {
		return nil, nil, err
	}
	e, err := open(ctx, cfg, newLogger(cfg, io.Stderr))
	return e, pos, err
}

// subcommand splits "token create ..." into "create" and its flags.
func subcommand(io IO, name, synopsis string, args []string, valid ...string) (string, []string, error) {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprintf(io.Stdout, "Usage: tillit %s\n\nRun tillit %s SUBCOMMAND --help for its flags.\n", synopsis, name)
		if len(args) == 0 {
			return "", nil, usagef("missing subcommand: one of %v", valid)
		}
		return "", nil, errHelp
	}
	for _, v := range valid {
		if args[0] == v {
			return v, args[1:], nil
		}
	}
	return "", nil, usagef("unknown subcommand %q: one of %v", args[0], valid)
}

func runMigrate(ctx context.Context, io IO, args []string) error {
	sub, rest, err := subcommand(io, "migrate", "migrate status|up [flags]", args, "status", "up")
	if err != nil {
		return err
	}
	cfg, _, err := parseFlags("migrate "+sub, "migrate "+sub+" [flags]", rest, false, io.Stdout, io.Getenv, nil)
	if err != nil {
		return err
	}
	if err := ensureDataDir(cfg.Data); err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.DSN(), store.Options{})
	if err != nil {
		return usagef("--db (TILLIT_DB): %v", err)
	}
	defer st.Close()
	if sub == "up" {
		if err := st.Migrate(ctx); err != nil {
			return err
		}
	}
	ms, err := st.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(io.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATE\tFILE")
	pending := 0
	for _, m := range ms {
		state := "applied"
		if !m.Applied {
			state = "pending"
			pending++
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", m.Version, state, m.Name)
	}
	tw.Flush()
	db, known, err := st.SchemaVersions(ctx)
	if err != nil {
		return err
	}
	if db > known {
		return negativef("database is at version %d, newer than this binary (%d)", db, known)
	}
	if sub == "status" && pending > 0 {
		fmt.Fprintf(io.Stdout, "%d pending; tillit migrate up (or tillit serve) applies them\n", pending)
	}
	return nil
}

func runConfig(ctx context.Context, io IO, args []string) error {
	_, rest, err := subcommand(io, "config", "config show [flags]", args, "show")
	if err != nil {
		return err
	}
	cfg, _, err := parseFlags("config show", "config show [flags]", rest, true, io.Stdout, io.Getenv, nil)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(io.Stdout, 0, 4, 2, ' ', 0)
	for _, kv := range cfg.Show(true) {
		v := kv[1]
		if v == "" {
			v = "(unset)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", kv[0], envName(kv[0]), v)
	}
	fmt.Fprintf(tw, "(database)\t\t%s\n", maskSecret(cfg.DSN()))
	fmt.Fprintf(tw, "(master key)\t\t%s\n", cfg.KeyFile())
	return tw.Flush()
}

func runBackup(ctx context.Context, io IO, args []string) error {
	cfg, rest, err := parseFlags("backup", "backup [flags] FILE", args, false, io.Stdout, io.Getenv, nil)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("want exactly one FILE to write the backup to")
	}
	st, err := store.Open(ctx, cfg.DSN(), store.Options{})
	if err != nil {
		return usagef("--db (TILLIT_DB): %v", err)
	}
	defer st.Close()
	if err := st.Backup(ctx, rest[0]); err != nil {
		if errors.Is(err, store.ErrBackupUnsupported) {
			return usagef("%v", err)
		}
		return err
	}
	fmt.Fprintf(io.Stdout, "backup written to %s\nThe master key (%s) is not in it: keep a copy of the key apart from the backup.\n", rest[0], cfg.KeyFile())
	return nil
}

func runRestore(ctx context.Context, io IO, args []string) error {
	cfg, rest, err := parseFlags("restore", "restore [flags] FILE", args, false, io.Stdout, io.Getenv, nil)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("want exactly one backup FILE")
	}
	if strings.Contains(cfg.DB, "://") {
		return usagef("%v", store.ErrBackupUnsupported)
	}
	if err := ensureDataDir(cfg.Data); err != nil {
		return err
	}
	if err := store.Restore(ctx, rest[0], cfg.DSN()); err != nil {
		return err
	}
	fmt.Fprintf(io.Stdout, "restored into %s\nPut the master key of the backed-up instance at %s (or set TILLIT_MASTER_KEY_FILE) before tillit serve.\n", cfg.DSN(), cfg.KeyFile())
	return nil
}

func runToken(ctx context.Context, io IO, args []string) error {
	sub, rest, err := subcommand(io, "token", "token create|list|revoke [flags]", args, "create", "list", "revoke")
	if err != nil {
		return err
	}
	var name, role string
	var ttl time.Duration
	extra := func(fs *flag.FlagSet) {
		if sub == "create" {
			fs.StringVar(&name, "name", "", "what the token is for (required)")
			fs.StringVar(&role, "role", string(security.RoleReadOnly), "role: owner, admin, support, billing, auditor, readonly")
			fs.DurationVar(&ttl, "ttl", 0, "lifetime, e.g. 720h; 0 means no expiry")
		}
	}
	synopsis := map[string]string{"create": "token create --name NAME [--role ROLE] [--ttl DURATION] [flags]",
		"list": "token list [flags]", "revoke": "token revoke [flags] ID"}[sub]
	e, pos, err := openCommand(ctx, io, "token "+sub, synopsis, rest, extra)
	if err != nil {
		return err
	}
	defer e.close()
	tokens := security.NewTokens(e.st, nil)
	tokens.Audit = e.audit
	switch sub {
	case "create":
		if name == "" {
			return usagef("--name is required")
		}
		raw, tok, err := tokens.Create(ctx, name, security.Role(role), ttl)
		if errors.Is(err, security.ErrTokenInput) {
			return usagef("%v", err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(io.Stderr, "created token %s (%s, role %s); it is shown once:\n", tok.ID, tok.Name, tok.Role)
		fmt.Fprintln(io.Stdout, raw)
	case "list":
		tw := tabwriter.NewWriter(io.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tEXPIRES\tSTATE")
		after := ""
		for {
			toks, err := tokens.List(ctx, after, 500)
			if err != nil {
				return err
			}
			for _, t := range toks {
				exp, state := "never", "active"
				if t.ExpiresAt != nil {
					exp = t.ExpiresAt.Format(time.RFC3339)
					if !t.ExpiresAt.After(time.Now()) {
						state = "expired"
					}
				}
				if t.RevokedAt != nil {
					state = "revoked"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.CreatedAt.Format(time.RFC3339), exp, state)
			}
			if len(toks) < 500 {
				break
			}
			after = toks[len(toks)-1].ID
		}
		return tw.Flush()
	case "revoke":
		if len(pos) != 1 {
			return usagef("want exactly one token ID")
		}
		if err := tokens.Revoke(ctx, pos[0]); errors.Is(err, store.ErrNotFound) {
			return negativef("no active token %s", pos[0])
		} else if err != nil {
			return err
		}
		fmt.Fprintf(io.Stdout, "revoked %s\n", pos[0])
	}
	return nil
}

func runServe(ctx context.Context, io IO, args []string) error {
	cfg, rest, err := parseFlags("serve", "serve [flags]", args, true, io.Stdout, io.Getenv, nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	log := newLogger(cfg, io.Stderr)
	slog.SetDefault(log)
	var tlsConf *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return usagef("--tls-cert/--tls-key: %v", err)
		}
		tlsConf = &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}}
	}
	sender, err := mailSender(cfg)
	if err != nil {
		return err
	}
	e, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer e.close()
	tokens := security.NewTokens(e.st, nil)
	tokens.Audit = e.audit
	if cfg.Demo {
		staff, err := newStaff(e)
		if err != nil {
			return err
		}
		if err := loadDemo(ctx, e, tokens, staff, io.Stdout); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return usagef("--addr (TILLIT_ADDR): %v", err)
	}
	srv, err := newServer(e, tokens)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv.handler(tlsConf != nil),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		TLSConfig:         tlsConf,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, run := range append(srv.background(), deliverMail(srv.outbox, sender, log)) {
		wg.Go(func() {
			if err := run(bg); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("background worker stopped", "err", err)
			}
		})
	}
	served := make(chan error, 1)
	go func() {
		if tlsConf != nil {
			served <- hs.ServeTLS(ln, "", "")
		} else {
			served <- hs.Serve(ln)
		}
	}()
	scheme := "http"
	if tlsConf != nil {
		scheme = "https"
	}
	log.Info("tillit serving", "url", scheme+"://"+ln.Addr().String(), "version", Version, "db", string(e.st.Dialect()))
	select {
	case err := <-served:
		stopBG()
		wg.Wait()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests and jobs")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = hs.Shutdown(sctx)
	stopBG()
	wg.Wait()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
