package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the raw PostgreSQL baseline
	_ "modernc.org/sqlite"             // "sqlite" driver for the raw SQLite baseline

	"tillit/internal/store/storetest"
)

// clients is the concurrency of the multi-client benchmarks (the brief's ceiling).
const clients = 32

// envBare makes the test binary, re-executed, serve the bare baseline handlers. The
// baseline runs as its own process, like tillit, so that both servers compete with
// the load generator for the CPUs in the same way.
const envBare = "TILLIT_BENCH_BARE_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(envBare) == "1" {
		os.Exit(serveBare())
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// tillitBinary builds cmd/tillit once per run; `go test` puts its own go first on PATH.
func tillitBinary(b *testing.B) string {
	b.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "tillit-bench-bin-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "tillit")
		out, err := exec.Command("go", "build", "-o", binPath, "tillit/cmd/tillit").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/tillit: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return binPath
}

// proc is a server subprocess, stopped with SIGTERM (then killed) in b.Cleanup.
type proc struct {
	cmd     *exec.Cmd
	log     *logTail
	started time.Time
	URL     string

	cancel  context.CancelFunc
	exited  chan struct{}
	waitErr error
	once    sync.Once
}

// start runs name with args; find picks the base URL out of the child's stderr.
func start(b *testing.B, name string, args, env []string, find func(line string) (string, bool)) *proc {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second // then SIGKILL
	lt := &logTail{find: find, url: make(chan string, 1)}
	cmd.Stderr = lt
	p := &proc{cmd: cmd, log: lt, cancel: cancel, exited: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		cancel()
		b.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	b.Cleanup(p.stop)
	return p
}

func (p *proc) stop() {
	p.once.Do(func() {
		p.cancel()
		<-p.exited
	})
}

// waitReady waits for the listen address, then for GET /readyz to answer 200, and
// returns the time since exec.
func (p *proc) waitReady(b *testing.B) time.Duration {
	b.Helper()
	deadline := time.After(60 * time.Second)
	select {
	case p.URL = <-p.log.url:
	case <-p.exited:
		b.Fatalf("%s exited before listening (%v):\n%s", p.cmd.Path, p.waitErr, p.log)
	case <-deadline:
		b.Fatalf("%s did not listen within 60s:\n%s", p.cmd.Path, p.log)
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for {
		resp, err := c.Get(p.URL + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(p.started)
			}
		}
		select {
		case <-p.exited:
			b.Fatalf("%s exited before ready (%v):\n%s", p.cmd.Path, p.waitErr, p.log)
		case <-deadline:
			b.Fatalf("%s not ready within 60s (last: %v):\n%s", p.cmd.Path, err, p.log)
		case <-time.After(time.Millisecond):
		}
	}
}

// logTail reads a child's stderr: it hands over the listen URL once seen and keeps
// the last lines for failure messages.
type logTail struct {
	mu    sync.Mutex
	part  []byte
	lines []string
	find  func(string) (string, bool)
	found bool
	url   chan string
}

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.part = append(l.part, p...)
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 {
			break
		}
		line := string(l.part[:i])
		l.part = append(l.part[:0], l.part[i+1:]...)
		if !l.found {
			if u, ok := l.find(line); ok {
				l.found = true
				l.url <- u
			}
		}
		if l.lines = append(l.lines, line); len(l.lines) > 40 {
			l.lines = l.lines[1:]
		}
	}
	return len(p), nil
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n") + string(l.part)
}

// tillitServer is `tillit serve` on a fresh data directory with an owner token.
type tillitServer struct {
	*proc
	token string
}

// startTillit starts tillit on dsn; "" means the default SQLite file in a new data
// directory (under the same file system as the raw SQLite baseline).
func startTillit(b *testing.B, dsn string) *tillitServer {
	b.Helper()
	return startTillitWith(b, dsn, nil)
}

// startTillitWith runs each setup command before serving (given the server's --data
// and --db flags, it returns the command's arguments), and passes serveArgs to serve.
func startTillitWith(b *testing.B, dsn string, serveArgs []string, setup ...func(common []string) []string) *tillitServer {
	b.Helper()
	bin := tillitBinary(b)
	common := []string{"--data", filepath.Join(b.TempDir(), "data")}
	if dsn != "" {
		common = append(common, "--db", dsn)
	}
	for _, f := range setup {
		args := f(common)
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			b.Fatalf("tillit %v: %v\n%s", args, err, out)
		}
	}
	cmd := exec.Command(bin, append([]string{"token", "create", "--name", "bench", "--role", "owner"}, common...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("tillit token create: %v\n%s", err, stderr.String())
	}
	token := strings.TrimSpace(string(out))
	args := append(append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, common...), serveArgs...)
	p := start(b, bin, args, nil, findTillitURL)
	p.waitReady(b)
	return &tillitServer{proc: p, token: token}
}

func findTillitURL(line string) (string, bool) {
	var rec struct {
		Msg string `json:"msg"`
		URL string `json:"url"`
	}
	if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "tillit serving" || rec.URL == "" {
		return "", false
	}
	return rec.URL, true
}

// startBare starts the baseline server: the test binary itself, re-executed.
func startBare(b *testing.B) *proc {
	b.Helper()
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	p := start(b, self, nil, []string{envBare + "=1"}, func(line string) (string, bool) {
		return strings.CutPrefix(line, "bare serving ")
	})
	p.waitReady(b)
	return p
}

// serveBare is the baseline: plain net/http handlers on the same routes as tillit,
// answering the same shape of JSON, with no middleware, auth or database.
func serveBare() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		bareJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.HandleFunc("GET /api/v1/system", func(w http.ResponseWriter, r *http.Request) {
		bareJSON(w, http.StatusOK, map[string]any{"version": "dev", "dialect": "sqlite", "schema_version": 1})
	})
	mux.HandleFunc("POST /api/v1/tokens", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Name string `json:"name"`
			Role string `json:"role"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil || req.Name == "" || req.Role == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		bareJSON(w, http.StatusCreated, map[string]any{
			"id": "0190f5a8-7c1e-7000-8000-000000000000", "name": req.Name, "role": req.Role,
			"created_at": "2025-01-01T00:00:00Z", "token": "tillit_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "bare serving http://%s\n", ln.Addr())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hs.Shutdown(sctx)
	return 0
}

func bareJSON(w http.ResponseWriter, status int, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// target is one kind of request, sent by a pool of keep-alive clients.
type target struct {
	client *http.Client
	method string
	url    string
	body   []byte
	header http.Header
	want   int
	// vary, when set, adjusts each request (e.g. a different client address).
	vary func(req *http.Request, n int64)
	n    atomic.Int64
}

func newClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        2 * clients,
			MaxIdleConnsPerHost: 2 * clients,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

var tokenBody = []byte(`{"name":"bench","role":"readonly"}`)

func getSystem(base, token string) *target {
	h := http.Header{"Accept": {"application/json"}}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return &target{client: newClient(), method: http.MethodGet, url: base + "/api/v1/system", header: h, want: http.StatusOK}
}

func postToken(base, token string) *target {
	h := http.Header{"Accept": {"application/json"}, "Content-Type": {"application/json"}}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	return &target{client: newClient(), method: http.MethodPost, url: base + "/api/v1/tokens", body: tokenBody, header: h, want: http.StatusCreated}
}

// drive sends n requests from c concurrent clients and returns the wall time.
func (t *target) drive(n, c int) (time.Duration, error) {
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	begin := time.Now()
	for range c {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if err := t.do(); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(begin), first
}

func (t *target) do() error {
	var body io.Reader
	if t.body != nil {
		body = bytes.NewReader(t.body)
	}
	req, err := http.NewRequest(t.method, t.url, body)
	if err != nil {
		return err
	}
	req.Header = t.header.Clone()
	if t.vary != nil {
		t.vary(req, t.n.Add(1))
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != t.want {
		return fmt.Errorf("%s %s: status %d, want %d: %.300s", t.method, t.url, resp.StatusCode, t.want, got)
	}
	return nil
}

// meter sums work and time over the iterations of a benchmark.
type meter struct {
	n int
	d time.Duration
}

func (m *meter) add(b *testing.B, n int, d time.Duration, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
	m.n += n
	m.d += d
}

func (m *meter) rate() float64 {
	if m.d <= 0 {
		return 0
	}
	return float64(m.n) / m.d.Seconds()
}

// rawDB is the raw durable commit rate: single-row INSERTs from one client, each
// its own (autocommit) transaction, with the durable settings tillit uses.
type rawDB struct {
	db     *sql.DB
	prefix string
	seq    int
}

const rawTable = `CREATE TABLE raw_commits (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL,
	hash       TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL
)`

// openRawSQLite opens a separate SQLite file in WAL mode with synchronous=FULL.
func openRawSQLite(b *testing.B) *rawDB {
	b.Helper()
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "raw.db")+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	b.Cleanup(func() { db.Close() })
	var mode string
	var sync int
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		b.Fatal(err)
	}
	if err := db.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil {
		b.Fatal(err)
	}
	if mode != "wal" || sync != 2 {
		b.Fatalf("raw SQLite baseline is not durable: journal_mode=%s synchronous=%d", mode, sync)
	}
	return newRaw(b, db)
}

// openRawPostgres opens a fresh database on the test server with synchronous_commit=on.
func openRawPostgres(b *testing.B) *rawDB {
	b.Helper()
	u, err := url.Parse(storetest.PostgresURL(b))
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("synchronous_commit", "on")
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	b.Cleanup(func() { db.Close() })
	var sc, fsync string
	if err := db.QueryRow("SHOW synchronous_commit").Scan(&sc); err != nil {
		b.Fatal(err)
	}
	if err := db.QueryRow("SHOW fsync").Scan(&fsync); err != nil {
		b.Fatal(err)
	}
	if sc != "on" || fsync != "on" {
		b.Fatalf("raw PostgreSQL baseline is not durable: synchronous_commit=%s fsync=%s", sc, fsync)
	}
	return newRaw(b, db)
}

func newRaw(b *testing.B, db *sql.DB) *rawDB {
	b.Helper()
	if _, err := db.Exec(rawTable); err != nil {
		b.Fatal(err)
	}
	var p [6]byte
	rand.Read(p[:])
	return &rawDB{db: db, prefix: hex.EncodeToString(p[:])}
}

// commit inserts n rows, one commit each, and returns the wall time.
func (r *rawDB) commit(n int) (time.Duration, error) {
	begin := time.Now()
	for range n {
		r.seq++
		id := r.prefix + "-" + strconv.Itoa(r.seq)
		h := sha256.Sum256([]byte(id))
		_, err := r.db.Exec(`INSERT INTO raw_commits (id, name, role, hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
			id, "bench", "readonly", hex.EncodeToString(h[:]), time.Now().UnixMicro())
		if err != nil {
			return 0, err
		}
	}
	return time.Since(begin), nil
}

// dialect is one database engine under test: how to get a fresh tillit database
// and a raw baseline on the same engine.
type dialect struct {
	name string
	dsn  func(b *testing.B) string // "" means tillit's default SQLite file
	raw  func(b *testing.B) *rawDB
}

var dialects = []dialect{
	{"sqlite", func(*testing.B) string { return "" }, openRawSQLite},
	{"postgres", func(b *testing.B) string { return storetest.PostgresURL(b) }, openRawPostgres},
}

// vmRSS reads a process's resident set size in bytes from /proc.
func vmRSS(pid int) (int64, error) {
	f, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(f)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			fields := strings.Fields(rest) // "12345 kB"
			if len(fields) == 2 && fields[1] == "kB" {
				kb, err := strconv.ParseInt(fields[0], 10, 64)
				return kb * 1024, err
			}
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}
