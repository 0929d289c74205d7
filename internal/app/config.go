package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"tillit/internal/web"
)

// Config is every setting, parsed once from flags, then TILLIT_* environment
// variables, then defaults (in that order of precedence) and passed down.
type Config struct {
	Addr          string
	Data          string
	DB            string
	MasterKeyFile string
	// PreviousMasterKeyFile is accepted for unwrapping during a key rotation.
	PreviousMasterKeyFile string
	SMTP                  string
	BaseURL               string
	TLSCert               string
	TLSKey                string
	LogLevel              string
	LogFormat             string
	ShutdownTimeout       time.Duration
	TrustedProxies        string
	CookieOrigins         string
	Demo                  bool
}

// setting describes one configuration value once, for flags, environment, `config
// show` and docs/configuration.md alike.
type setting struct {
	name   string // flag name; the variable is TILLIT_ + upper(name with - as _)
	def    string
	help   string
	secret bool
	serve  bool // only `serve` takes it; the rest are common to every data command
	bind   func(c *Config) any
}

var settings = []setting{
	{name: "data", def: "./tillit-data", help: "data directory (created with mode 0700): SQLite database, master key", bind: func(c *Config) any { return &c.Data }},
	{name: "db", def: "", help: "database: a postgres:// URL, or a SQLite file path (default DATA/tillit.db)", secret: true, bind: func(c *Config) any { return &c.DB }},
	{name: "master-key-file", def: "", help: "master key file (default DATA/master.key; generated with mode 0600 on first start)", bind: func(c *Config) any { return &c.MasterKeyFile }},
	{name: "previous-master-key-file", def: "", help: "the master key before a rotation, still accepted for reading until tillit keys rotate has re-wrapped every key", bind: func(c *Config) any { return &c.PreviousMasterKeyFile }},
	{name: "log-level", def: "info", help: "log level: debug, info, warn, error", bind: func(c *Config) any { return &c.LogLevel }},
	{name: "log-format", def: "text", help: "log format: text or json", bind: func(c *Config) any { return &c.LogFormat }},
	{name: "addr", def: "127.0.0.1:8080", help: "address to listen on", serve: true, bind: func(c *Config) any { return &c.Addr }},
	{name: "base-url", def: "", help: "public URL of this server, used in links sent by mail (default http://ADDR)", serve: true, bind: func(c *Config) any { return &c.BaseURL }},
	{name: "smtp", def: "", help: "SMTP server for outgoing mail, e.g. smtp://user:pass@host:587?from=noreply@example.com; empty keeps mail queued", secret: true, serve: true, bind: func(c *Config) any { return &c.SMTP }},
	{name: "tls-cert", def: "", help: "TLS certificate file (PEM); with --tls-key serves TLS 1.3 only", serve: true, bind: func(c *Config) any { return &c.TLSCert }},
	{name: "tls-key", def: "", help: "TLS private key file (PEM)", serve: true, bind: func(c *Config) any { return &c.TLSKey }},
	{name: "trusted-proxies", def: "", help: "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For names the client (for the audit log and rate limits)", serve: true, bind: func(c *Config) any { return &c.TrustedProxies }},
	{name: "cookie-origins", def: "", help: "comma-separated origins of the company's websites that embed the cookie banner, e.g. https://www.example.se (empty: any origin may post consent receipts)", serve: true, bind: func(c *Config) any { return &c.CookieOrigins }},
	{name: "shutdown-timeout", def: "20s", help: "how long in-flight requests and jobs may take to finish on SIGTERM", serve: true, bind: func(c *Config) any { return &c.ShutdownTimeout }},
	{name: "demo", def: "false", help: "load demo data into an empty data directory and print how to sign in", serve: true, bind: func(c *Config) any { return &c.Demo }},
}

func envName(flagName string) string {
	return "TILLIT_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// errUsage marks a configuration or usage error: the CLI prints it and exits 2.
type errUsage struct{ msg string }

func (e *errUsage) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &errUsage{fmt.Sprintf(format, args...)} }

// errHelp is returned when --help was asked for and printed.
var errHelp = errors.New("help shown")

// parseFlags parses args for one command. serve says whether the serve-only settings
// apply. extra lets a command add its own flags. It returns the positional arguments.
func parseFlags(cmd, synopsis string, args []string, serve bool, stdout io.Writer, getenv func(string) string, extra func(*flag.FlagSet)) (*Config, []string, error) {
	c := &Config{}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, s := range settings {
		if s.serve && !serve {
			continue
		}
		help := s.help + " [" + envName(s.name) + "]"
		switch p := s.bind(c).(type) {
		case *string:
			fs.StringVar(p, s.name, s.def, help)
		case *bool:
			fs.BoolVar(p, s.name, s.def == "true", help)
		case *time.Duration:
			d, _ := time.ParseDuration(s.def)
			fs.DurationVar(p, s.name, d, help)
		}
	}
	if extra != nil {
		extra(fs)
	}
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout, cmd, synopsis, fs)
			return nil, nil, errHelp
		}
		return nil, nil, usagef("%s: %v (see tillit %s --help)", cmd, err, cmd)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, s := range settings {
		if (s.serve && !serve) || set[s.name] {
			continue
		}
		if v, ok := lookupEnv(getenv, envName(s.name)); ok {
			if err := fs.Set(s.name, v); err != nil {
				return nil, nil, usagef("%s: invalid %s=%q: %v", cmd, envName(s.name), v, err)
			}
		}
	}
	if err := c.validate(serve); err != nil {
		return nil, nil, err
	}
	return c, fs.Args(), nil
}

func lookupEnv(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

func printUsage(w io.Writer, cmd, synopsis string, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: tillit %s\n\n", synopsis)
	fmt.Fprintln(w, "Flags (each also read from the environment variable in brackets):")
	fs.VisitAll(func(f *flag.Flag) {
		def := ""
		if f.DefValue != "" && f.DefValue != "false" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "  --%-18s %s%s\n", f.Name, f.Usage, def)
	})
}

func (c *Config) validate(serve bool) error {
	if c.Data == "" {
		return usagef("--data (TILLIT_DATA) must not be empty")
	}
	if c.DB != "" && strings.Contains(c.DB, "://") {
		u, err := url.Parse(c.DB)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			return usagef("--db (TILLIT_DB): want postgres://user@host:port/dbname or a SQLite file path")
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return usagef("--log-level (TILLIT_LOG_LEVEL): %q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return usagef("--log-format (TILLIT_LOG_FORMAT): %q is not text or json", c.LogFormat)
	}
	if !serve {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return usagef("--addr (TILLIT_ADDR): %q is not host:port", c.Addr)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return usagef("--tls-cert and --tls-key (TILLIT_TLS_CERT, TILLIT_TLS_KEY) must be given together")
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("--base-url (TILLIT_BASE_URL): %q is not an http(s) URL", c.BaseURL)
		}
	}
	for _, o := range splitList(c.CookieOrigins) {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return usagef("--cookie-origins (TILLIT_COOKIE_ORIGINS): %q is not an origin like https://www.example.se", o)
		}
	}
	if _, err := web.ParsePrefixes(c.TrustedProxies); err != nil {
		return usagef("--trusted-proxies (TILLIT_TRUSTED_PROXIES): %v", err)
	}
	if c.ShutdownTimeout <= 0 {
		return usagef("--shutdown-timeout (TILLIT_SHUTDOWN_TIMEOUT) must be positive")
	}
	return nil
}

// DSN is the database to open.
func (c *Config) DSN() string {
	if c.DB != "" {
		return c.DB
	}
	return filepath.Join(c.Data, "tillit.db")
}

// KeyFile is where the master key lives.
func (c *Config) KeyFile() string {
	if c.MasterKeyFile != "" {
		return c.MasterKeyFile
	}
	return filepath.Join(c.Data, "master.key")
}

// Show lists the settings with secrets masked, for `tillit config show`.
func (c *Config) Show(serve bool) [][2]string {
	var out [][2]string
	for _, s := range settings {
		if s.serve && !serve {
			continue
		}
		v := fmt.Sprint(reflectValue(s.bind(c)))
		if s.secret && v != "" {
			v = maskSecret(v)
		}
		out = append(out, [2]string{s.name, v})
	}
	return out
}

func reflectValue(p any) any {
	switch v := p.(type) {
	case *string:
		return *v
	case *bool:
		return *v
	case *time.Duration:
		return *v
	}
	return p
}

// maskSecret hides the password of a URL; a value that is not a URL is hidden whole.
func maskSecret(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" {
		if strings.Contains(v, "://") {
			return "********"
		}
		return v // a file path is not secret
	}
	return u.Redacted()
}

// ensureDataDir creates the data directory with mode 0700, or checks that an
// existing one is usable.
func ensureDataDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return usagef("--data (TILLIT_DATA): cannot create %s: %v", dir, err)
		}
		return os.Chmod(dir, 0o700)
	case err != nil:
		return usagef("--data (TILLIT_DATA): %v", err)
	case !fi.IsDir():
		return usagef("--data (TILLIT_DATA): %s is not a directory", dir)
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return usagef("--data (TILLIT_DATA): %s is not writable: %v", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// ConfigTable renders docs/configuration.md's table of settings.
func ConfigTable() string {
	var b strings.Builder
	b.WriteString("| flag | environment | default | commands | meaning |\n|---|---|---|---|---|\n")
	rows := append([]setting(nil), settings...)
	sort.SliceStable(rows, func(i, j int) bool { return !rows[i].serve && rows[j].serve })
	for _, s := range rows {
		cmds := "all that touch data"
		if s.serve {
			cmds = "serve"
		}
		def := s.def
		if def == "" {
			def = "(none)"
		}
		fmt.Fprintf(&b, "| `--%s` | `%s` | `%s` | %s | %s |\n", s.name, envName(s.name), def, cmds, s.help)
	}
	return b.String()
}

// splitList splits a comma-separated setting, dropping empty entries.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, strings.TrimSuffix(f, "/"))
		}
	}
	return out
}
