package app

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

// These tests run the real binary as a subprocess: crash, restart, signals, backup.

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func tillitBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "tillit-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "tillit")
		out, err := exec.Command("go", "build", "-o", binPath, "tillit/cmd/tillit").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// run runs a tillit command to completion.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(tillitBin(t), args...)
	cmd.Env = append(os.Environ(), "TILLIT_LOG_LEVEL=warn")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

type proc struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
	mu     *sync.Mutex
	done   chan struct{}
}

var urlRe = regexp.MustCompile(`url=(https?://[0-9.:]+)`)

// serve starts tillit serve on a free loopback port and waits until it is ready.
func serve(t *testing.T, dataDir, dsn string, extra ...string) *proc {
	t.Helper()
	p := serveNoReady(t, dataDir, dsn, extra...)
	for range 100 {
		if res, err := http.Get(p.url + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("never ready:\n%s", p.log())
	return nil
}

// serveNoReady starts tillit serve and returns once it logs its URL.
func serveNoReady(t *testing.T, dataDir, dsn string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dataDir, "--db", dsn}, extra...)
	cmd := exec.Command(tillitBin(t), args...)
	cmd.Env = append(os.Environ(), "TILLIT_LOG_LEVEL=info")
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stderr: &bytes.Buffer{}, mu: &sync.Mutex{}, done: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stderr.WriteString(line + "\n")
			p.mu.Unlock()
			if m := urlRe.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	go func() { cmd.Wait(); pw.Close(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	select {
	case p.url = <-found:
	case <-p.done:
		t.Fatalf("tillit serve exited early:\n%s", p.log())
	case <-time.After(30 * time.Second):
		t.Fatalf("tillit serve did not start:\n%s", p.log())
	}
	return p
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func (p *proc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *proc) exitCode() int { return p.cmd.ProcessState.ExitCode() }

func postToken(client *http.Client, base, token, name string) (id string, status int, err error) {
	req, _ := http.NewRequest("POST", base+"/api/v1/tokens", strings.NewReader(`{"name":"`+name+`","role":"readonly"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer res.Body.Close()
	var v struct{ ID string }
	json.NewDecoder(res.Body).Decode(&v)
	return v.ID, res.StatusCode, nil
}

func ownerToken(t *testing.T, dataDir, dsn string) string {
	t.Helper()
	out, errOut, code := run(t, "token", "create", "--name", "test", "--role", "owner", "--data", dataDir, "--db", dsn)
	if code != 0 {
		t.Fatalf("token create: %d %s", code, errOut)
	}
	return strings.TrimSpace(out)
}

// Kill -9 during a stream of API writes: after restart, every write that was answered
// 2xx is present (issue 3, Reliability; DESIGN Durability).
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	for dialect, dsn := range storetest.DSNs(t) {
		t.Run(string(dialect), func(t *testing.T) {
			data := t.TempDir()
			token := ownerToken(t, data, dsn)
			p := serve(t, data, dsn)
			var mu sync.Mutex
			var acked []string
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					client := &http.Client{Timeout: 5 * time.Second}
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						id, status, err := postToken(client, p.url, token, fmt.Sprintf("w%d-%d", w, i))
						if err != nil {
							return // the server died mid-request: not acknowledged
						}
						if status == 201 {
							mu.Lock()
							acked = append(acked, id)
							mu.Unlock()
						}
					}
				})
			}
			for {
				mu.Lock()
				n := len(acked)
				mu.Unlock()
				if n >= 300 {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			p.kill() // SIGKILL while writers are mid-stream
			close(stop)
			wg.Wait()

			// Restart on the same data and check through the server's own database.
			p2 := serve(t, data, dsn)
			defer p2.kill()
			st, err := store.Open(context.Background(), dsnFor(data, dsn), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			missing := 0
			for _, id := range acked {
				var n int
				if err := st.DB().QueryRow(`SELECT COUNT(*) FROM api_tokens WHERE id = $1`, id).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 1 {
					missing++
				}
			}
			if missing > 0 {
				t.Fatalf("%d of %d acknowledged writes lost after kill -9", missing, len(acked))
			}
			t.Logf("%d acknowledged writes all present after kill -9", len(acked))
		})
	}
}

func dsnFor(data, dsn string) string {
	if dsn == "" {
		return filepath.Join(data, "tillit.db")
	}
	return dsn
}

// SIGTERM during a stream of writes: no request gets an error answer, every 201 is
// kept, and the process exits 0 (issue 3, HTTP server: graceful shutdown).
func TestGracefulShutdown(t *testing.T) {
	data := t.TempDir()
	dsn := filepath.Join(data, "tillit.db")
	token := ownerToken(t, data, dsn)
	p := serve(t, data, dsn)
	var mu sync.Mutex
	var acked []string
	bad := map[int]int{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; ; i++ {
				id, status, err := postToken(client, p.url, token, fmt.Sprintf("g%d-%d", w, i))
				if err != nil {
					return // connection refused or closed: the server has stopped listening
				}
				mu.Lock()
				if status == 201 {
					acked = append(acked, id)
				} else {
					bad[status]++
				}
				mu.Unlock()
			}
		})
	}
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 100 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("did not stop after SIGTERM")
	}
	wg.Wait()
	if code := p.exitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, p.log())
	}
	if len(bad) > 0 {
		t.Fatalf("requests answered with errors during shutdown: %v", bad)
	}
	if !strings.Contains(p.log(), "msg=stopped") {
		t.Fatalf("no clean stop in log:\n%s", p.log())
	}
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, id := range acked {
		var n int
		st.DB().QueryRow(`SELECT COUNT(*) FROM api_tokens WHERE id = $1`, id).Scan(&n)
		if n != 1 {
			t.Fatalf("acknowledged write %s lost in a graceful shutdown", id)
		}
	}
	t.Logf("%d writes acknowledged and kept across SIGTERM", len(acked))
}

// Backup of a running SQLite instance, restore into a new data directory: the
// restored instance serves identical data (issue 3, Reliability).
func TestBackupRestoreServesIdenticalData(t *testing.T) {
	data := t.TempDir()
	dsn := filepath.Join(data, "tillit.db")
	token := ownerToken(t, data, dsn)
	p := serve(t, data, dsn)
	for i := range 25 {
		if _, status, err := postToken(http.DefaultClient, p.url, token, fmt.Sprint("b", i)); err != nil || status != 201 {
			t.Fatalf("write: %v %d", err, status)
		}
	}
	want := listAll(t, p.url, token)
	backup := filepath.Join(t.TempDir(), "tillit-backup.db")
	if _, e, code := run(t, "backup", "--data", data, backup); code != 0 {
		t.Fatalf("backup: %d %s", code, e)
	}
	if _, _, code := run(t, "backup", "--data", data, backup); code == 0 {
		t.Fatal("backup overwrote an existing file")
	}
	p.kill()

	restored := t.TempDir()
	if _, e, code := run(t, "restore", "--data", restored, backup); code != 0 {
		t.Fatalf("restore: %d %s", code, e)
	}
	if _, _, code := run(t, "restore", "--data", restored, backup); code == 0 {
		t.Fatal("restore overwrote an existing database")
	}
	// Without the master key the restored instance must refuse to start.
	if _, e, code := run(t, "migrate", "status", "--data", restored); code != 0 {
		t.Fatalf("migrate status on restored data: %d %s", code, e)
	}
	if _, e, code := run(t, "token", "list", "--data", restored); code != 2 || !strings.Contains(e, "master key") {
		t.Fatalf("started without its master key: %d %s", code, e)
	}
	key, err := os.ReadFile(filepath.Join(data, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, "master.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	p2 := serve(t, restored, filepath.Join(restored, "tillit.db"))
	got := listAll(t, p2.url, token)
	if !bytes.Equal(got, want) {
		t.Fatalf("restored data differs:\n got %s\nwant %s", got, want)
	}
}

func listAll(t *testing.T, base, token string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/tokens?limit=200", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("list: %d %s", res.StatusCode, b)
	}
	return b
}

// PostgreSQL restarted under a running tillit: 503 problems during the outage, then
// success again without restarting tillit (issue 3, Reliability). The test starts its
// own cluster, so the shared test server is never disturbed.
func TestPostgresRestartAnswers503ThenRecovers(t *testing.T) {
	if os.Getenv(storetest.EnvPostgres) == "" {
		storetest.PostgresURL(t) // fails with instructions
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "scripts", "pg-throwaway")
	dir, err := os.MkdirTemp("", "tillit-pgrestart-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	out, err := exec.Command(script, "start", dir).Output()
	if err != nil {
		t.Fatalf("start own PostgreSQL cluster: %v", err)
	}
	t.Cleanup(func() { exec.Command(script, "stop", dir).Run(); os.RemoveAll(dir) })
	dsn := strings.TrimSpace(string(out))
	data := t.TempDir()
	token := ownerToken(t, data, dsn)
	p := serve(t, data, dsn)
	client := &http.Client{Timeout: 10 * time.Second}
	if _, status, err := postToken(client, p.url, token, "before"); err != nil || status != 201 {
		t.Fatalf("before outage: %v %d", err, status)
	}
	if err := exec.Command(script, "stop", dir).Run(); err != nil {
		t.Fatalf("stop PostgreSQL: %v", err)
	}
	// Token checks are cached, so the write path reaches the database and must fail cleanly.
	_, status, err := postToken(client, p.url, token, "during")
	if err != nil || status != 503 {
		t.Fatalf("during outage: %v, status %d, want 503", err, status)
	}
	res, err := client.Get(p.url + "/readyz")
	if err != nil || res.StatusCode != 503 {
		t.Fatalf("readyz during outage: %v %v", err, res)
	}
	res.Body.Close()
	if err := exec.Command(script, "resume", dir).Run(); err != nil {
		t.Fatalf("resume PostgreSQL: %v", err)
	}
	var last int
	for range 100 {
		if _, last, err = postToken(client, p.url, token, "after"); err == nil && last == 201 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("writes never recovered after PostgreSQL came back: last status %d, err %v\n%s", last, err, p.log())
}

// Bad configuration stops start-up with one clear line naming the setting, exit 2.
func TestBadConfigurationExits2(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	os.WriteFile(file, []byte("x"), 0o600)
	cases := []struct {
		name  string
		args  []string
		env   map[string]string
		names string
	}{
		{"unknown flag", []string{"serve", "--frobnicate"}, nil, "frobnicate"},
		{"data is a file", []string{"serve", "--data", file}, nil, "--data"},
		{"unreachable database", []string{"serve", "--data", dir, "--db", "postgres://nobody@127.0.0.1:1/x?connect_timeout=2"}, nil, "--db"},
		{"bad database URL", []string{"serve", "--data", dir, "--db", "mysql://x"}, nil, "--db"},
		{"bad address", []string{"serve", "--data", dir, "--addr", "nonsense"}, nil, "--addr"},
		{"bad env level", []string{"serve", "--data", dir}, map[string]string{"TILLIT_LOG_LEVEL": "loud"}, "TILLIT_LOG_LEVEL"},
		{"bad env duration", []string{"serve", "--data", dir}, map[string]string{"TILLIT_SHUTDOWN_TIMEOUT": "soon"}, "TILLIT_SHUTDOWN_TIMEOUT"},
		{"half TLS", []string{"serve", "--data", dir, "--tls-cert", file}, nil, "--tls-key"},
		{"bad SMTP URL", []string{"serve", "--data", dir, "--smtp", "ftp://mail.example.com"}, nil, "--smtp"},
		{"bad base URL", []string{"serve", "--data", dir, "--base-url", "ftp://x"}, nil, "--base-url"},
		{"unknown command", []string{"frobnicate"}, nil, "frobnicate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(tc.args, IO{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return tc.env[k] }})
			if code != ExitUsage {
				t.Fatalf("exit %d, want 2; stderr %q", code, errb.String())
			}
			msg := errb.String()
			if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, tc.names) {
				t.Fatalf("want one line naming %s, got %q", tc.names, msg)
			}
		})
	}
}

// Flags beat TILLIT_* variables, which beat defaults; secrets are masked.
func TestConfigPrecedenceAndMasking(t *testing.T) {
	env := map[string]string{"TILLIT_ADDR": "127.0.0.1:9999", "TILLIT_DB": "postgres://u:hunter2@db:5432/x", "TILLIT_LOG_LEVEL": "debug"}
	var out, errb bytes.Buffer
	code := Main([]string{"config", "show", "--log-level", "warn"}, IO{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
	if code != 0 {
		t.Fatalf("config show: %d %s", code, errb.String())
	}
	s := out.String()
	for _, want := range []string{"127.0.0.1:9999", "warn", "./tillit-data", "xxxxx"} {
		if !strings.Contains(s, want) {
			t.Errorf("config show lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "hunter2") {
		t.Fatalf("config show leaks a password:\n%s", s)
	}
	if strings.Contains(s, "debug") {
		t.Fatalf("environment beat a flag:\n%s", s)
	}
}

// The key file must be private and present whenever the database holds encrypted
// data; a schema newer than the binary is refused (issue 3, Configuration, Storage).
func TestRefusesUnsafeStart(t *testing.T) {
	data := filepath.Join(t.TempDir(), "new-data-dir")
	dsn := filepath.Join(data, "tillit.db")
	ownerToken(t, data, dsn) // first start: key generated and recorded
	keyFile := filepath.Join(data, "master.key")
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("master key mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if fi, _ := os.Stat(data); fi.Mode().Perm() != 0o700 {
		t.Fatalf("data directory mode %v, want 0700", fi.Mode().Perm())
	}
	os.Chmod(keyFile, 0o644)
	if _, e, code := run(t, "token", "list", "--data", data); code != 2 || !strings.Contains(e, "readable by group or others") {
		t.Fatalf("readable key accepted: %d %s", code, e)
	}
	os.Chmod(keyFile, 0o600)
	os.Rename(keyFile, keyFile+".away")
	if _, e, code := run(t, "token", "list", "--data", data); code != 2 || !strings.Contains(e, "missing") {
		t.Fatalf("missing key accepted: %d %s", code, e)
	}
	if _, err := os.Stat(keyFile); err == nil {
		t.Fatal("a new key was generated over encrypted data")
	}
	other := filepath.Join(t.TempDir(), "other.key")
	if _, _, err := security.LoadOrCreateMasterKey(other, true); err != nil {
		t.Fatal(err)
	}
	if _, e, code := run(t, "token", "list", "--data", data, "--master-key-file", other); code != 2 || !strings.Contains(e, "does not match") {
		t.Fatalf("wrong key accepted: %d %s", code, e)
	}
	os.Rename(keyFile+".away", keyFile)
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Write(context.Background(), func(ctx context.Context, tx store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, TRUE)`)
		return err
	})
	st.Close()
	if _, e, code := run(t, "serve", "--data", data, "--addr", "127.0.0.1:0"); code != 2 || !strings.Contains(e, "newer") {
		t.Fatalf("newer schema accepted: %d %s", code, e)
	}
}

// Failed jobs are visible and retryable from the CLI; a running server schedules its
// periodic jobs (issue 3, Jobs).
func TestJobsCLI(t *testing.T) {
	data := t.TempDir()
	dsn := filepath.Join(data, "tillit.db")
	ownerToken(t, data, dsn)
	p := serve(t, data, dsn)
	var out string
	for range 100 {
		out, _, _ = run(t, "jobs", "list", "--data", data)
		if strings.Contains(out, kindPurgeIdempotency) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out, kindPurgeIdempotency) {
		t.Fatalf("the periodic purge never ran:\n%s\n%s", out, p.log())
	}
	if _, e, code := run(t, "jobs", "retry", "--data", data, "no-such-job"); code != 1 || !strings.Contains(e, "no job") {
		t.Fatalf("retry unknown: %d %s", code, e)
	}
	if _, e, code := run(t, "jobs", "list", "--state", "sleeping", "--data", data); code != 2 || !strings.Contains(e, "--state") {
		t.Fatalf("bad state: %d %s", code, e)
	}
	if out, e, code := run(t, "jobs", "list", "--state", "failed", "--data", data); code != 0 || strings.Contains(out, kindPurgeIdempotency) {
		t.Fatalf("failed list: %d %s %s", code, out, e)
	}
}

// Two tillit serve processes on one PostgreSQL database: each periodic job runs once
// per period, not once per process (issue 3, Jobs).
func TestTwoServersRunPeriodicJobsOnce(t *testing.T) {
	dsn := storetest.PostgresURL(t)
	key := filepath.Join(t.TempDir(), "shared.key")
	if _, _, err := security.LoadOrCreateMasterKey(key, true); err != nil {
		t.Fatal(err)
	}
	a, b := t.TempDir(), t.TempDir()
	serve(t, a, dsn, "--master-key-file", key)
	serve(t, b, dsn, "--master-key-file", key)
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	count := func() (rows, done int) {
		st.DB().QueryRow(`SELECT COUNT(*), COUNT(*) FILTER (WHERE state = 'completed') FROM jobs WHERE kind = $1`, kindPurgeIdempotency).Scan(&rows, &done)
		return
	}
	var rows, done int
	for range 200 {
		if rows, done = count(); done >= 1 {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // let the slower process try to schedule too
	if rows, done = count(); rows != 1 || done != 1 {
		t.Fatalf("%d purge jobs (%d completed) for one hour slot with two servers, want exactly 1", rows, done)
	}
}

// tillit id check answers 0 when every number is valid, 1 when any is not, 2 for bad
// usage; "-" reads numbers from standard input (DESIGN Contracts; REQUIREMENTS K2).
func TestIDCheckCLI(t *testing.T) {
	out, e, code := run(t, "id", "check", "811218-9876")
	if code != 0 || !strings.Contains(out, "19811218-9876") || !strings.Contains(out, "19811218-****") {
		t.Fatalf("valid personnummer: %d %q %q", code, out, e)
	}
	if out, _, code := run(t, "id", "check", "811218-9876", "811218-9877"); code != 1 || !strings.Contains(out, "check digit") {
		t.Fatalf("one bad of two: %d %q", code, out)
	}
	if _, e, code := run(t, "id", "check", "--country", "XX", "1"); code != 2 {
		t.Fatalf("bad country: %d %q", code, e)
	}
	if out, _, code := run(t, "id", "check", "--country", "no", "--json", "974760673"); code != 0 || !strings.Contains(out, `"kind":"organisasjonsnummer"`) {
		t.Fatalf("Norwegian org number as JSON: %d %q", code, out)
	}
	var stdout, stderr bytes.Buffer
	code = Main([]string{"id", "check", "--json", "-"}, IO{Stdin: strings.NewReader("811218-9876\n\n5560360793\n"), Stdout: &stdout, Stderr: &stderr})
	if code != 0 || strings.Count(stdout.String(), "\n") != 2 {
		t.Fatalf("numbers from stdin: %d %q %q", code, stdout.String(), stderr.String())
	}
}

// tillit staff add|list|disable|reset-password (issue 4, item 1).
func TestStaffCLI(t *testing.T) {
	data := t.TempDir()
	out, e, code := run(t, "staff", "add", "--email", "Boss@Example.com", "--name", "Boss", "--role", "owner", "--data", data)
	if code != 0 || !strings.Contains(out, "password (shown once): ") || !strings.Contains(out, "authenticator") {
		t.Fatalf("add owner: %d %q %q", code, out, e)
	}
	if _, _, code := run(t, "staff", "add", "--email", "boss@example.com", "--name", "Again", "--data", data); code != 1 {
		t.Fatalf("duplicate e-mail: exit %d", code)
	}
	cmd := exec.Command(tillitBin(t), "staff", "add", "--email", "kim@example.com", "--name", "Kim", "--role", "auditor", "--password-stdin", "--data", data)
	cmd.Stdin = strings.NewReader("qwerty\n")
	if err := cmd.Run(); err == nil {
		t.Fatal("a weak password from stdin was accepted")
	}
	cmd = exec.Command(tillitBin(t), "staff", "add", "--email", "kim@example.com", "--name", "Kim", "--role", "auditor", "--password-stdin", "--data", data)
	cmd.Stdin = strings.NewReader("lingonsylt och kanelbullar\n")
	if b, err := cmd.CombinedOutput(); err != nil || strings.Contains(string(b), "shown once") {
		t.Fatalf("add with stdin password: %v %s", err, b)
	}
	out, _, _ = run(t, "staff", "list", "--data", data)
	if !strings.Contains(out, "boss@example.com") || !strings.Contains(out, "kim@example.com") || strings.Contains(out, "argon2") {
		t.Fatalf("list: %q", out)
	}
	if _, e, code := run(t, "staff", "disable", "--data", data, "boss@example.com"); code != 1 || !strings.Contains(e, "last active owner") {
		t.Fatalf("disabling the last owner: %d %q", code, e)
	}
	if out, _, code := run(t, "staff", "reset-password", "--data", data, "kim@example.com"); code != 0 || !strings.Contains(out, "new password") {
		t.Fatalf("reset: %d %q", code, out)
	}
	if out, _, code := run(t, "staff", "disable", "--data", data, "kim@example.com"); code != 0 {
		t.Fatalf("disable: %d %q", code, out)
	}
	if out, _, _ := run(t, "staff", "list", "--data", data); !strings.Contains(out, "disabled") {
		t.Fatalf("list after disable: %q", out)
	}
	if _, _, code := run(t, "staff", "disable", "--data", data, "nobody@example.com"); code != 1 {
		t.Fatalf("unknown staff: %d", code)
	}
}

// tillit keys rotate re-wraps every key under a new master key: afterwards the new key
// alone opens everything, queued mail included, and the old key alone is refused
// (issue 4, item 3).
func TestKeysRotate(t *testing.T) {
	data := t.TempDir()
	if out, e, code := run(t, "mail", "test", "--to", "anna@example.se", "--data", data); code != 0 {
		t.Fatalf("mail test: %d %s %s", code, out, e)
	}
	newKey := filepath.Join(t.TempDir(), "new.key")
	out, e, code := run(t, "keys", "rotate", "--new-key", newKey, "--data", data)
	if code != 0 || !strings.Contains(out, "Every key is now wrapped") {
		t.Fatalf("rotate: %d %q %q", code, out, e)
	}
	if _, e, code := run(t, "mail", "list", "--data", data); code != 2 || !strings.Contains(e, "does not match") {
		t.Fatalf("old key still accepted after rotation: %d %q", code, e)
	}
	in := startInbox(t)
	p := serve(t, data, filepath.Join(data, "tillit.db"), "--master-key-file", newKey, "--smtp", "smtp://"+in.addr+"?from=noreply@tillit.test")
	for range 200 {
		if len(in.messages()) > 0 {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("mail queued before the rotation was not delivered after it:\n%s", p.log())
}

// tillit audit verify proves the chain written by a running server and the CLI, and
// names the entry when a row was changed behind Tillit's back; a checkpoint exports
// (issue 4, item 4; S4).
func TestAuditVerifyCLI(t *testing.T) {
	data := t.TempDir()
	dsn := filepath.Join(data, "tillit.db")
	token := ownerToken(t, data, dsn) // audited as the CLI operator
	p := serve(t, data, dsn)
	for i := range 5 {
		if _, status, err := postToken(http.DefaultClient, p.url, token, fmt.Sprint("a", i)); err != nil || status != 201 {
			t.Fatalf("write: %v %d", err, status)
		}
	}
	// The server's sequencer chains every 200 ms; wait for it rather than guess. The
	// token writes make six entries; the server's own periodic jobs may add more.
	var out, e string
	var code int
	okRe := regexp.MustCompile(`audit log OK: (\d+) entries.*; 0 entries not yet chained`)
	for range 200 {
		if out, e, code = run(t, "audit", "verify", "--data", data); okRe.MatchString(out) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	m := okRe.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("verify: %d %q %q", code, out, e)
	}
	if n, _ := strconv.Atoi(m[1]); n < 6 {
		t.Fatalf("%d entries chained, want at least the 6 token writes", n)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	if out, e, code := run(t, "audit", "checkpoint", "--data", data); code != 0 || !strings.Contains(out, "tillit-audit-checkpoint v1") {
		t.Fatalf("checkpoint: %d %q %q", code, out, e)
	}
	// Tamper: change one entry's action with the triggers out of the way.
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE trig AS SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	rows, _ := db.Query(`SELECT name FROM trig`)
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		db.Exec(`DROP TRIGGER ` + n)
	}
	if _, err := db.Exec(`UPDATE audit_log SET action = 'token.read' WHERE seq = 3`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, e, code = run(t, "audit", "verify", "--data", data)
	if code != 1 || !strings.Contains(e, "seq 3") {
		t.Fatalf("tampered log: %d %q %q", code, out, e)
	}
}

// serve --demo prints a staff login with its authenticator URI, and refuses a data
// directory that already holds real data (issue 4, item 6; DESIGN Contracts).
func TestDemoRefusesRealData(t *testing.T) {
	data := t.TempDir()
	cmd := exec.Command(tillitBin(t), "serve", "--demo", "--data", data, "--addr", "127.0.0.1:0")
	out := &lockedBuffer{}
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for range 1200 { // up to 30 s: the demo creates a few hundred customers first
		if strings.Contains(out.String(), "curl") {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if !strings.Contains(out.String(), "otpauth://totp/") || !strings.Contains(out.String(), "Staff login: demo@") ||
		!strings.Contains(out.String(), "Demo register: 300 fictional customers.") || !strings.Contains(out.String(), "Demo policy published") {
		t.Fatalf("demo output lacks the staff login:\n%s", out.String())
	}
	real := t.TempDir()
	if _, e, code := run(t, "staff", "add", "--email", "x@example.com", "--name", "X", "--role", "owner", "--data", real); code != 0 {
		t.Fatal(e)
	}
	if _, e, code := run(t, "serve", "--demo", "--data", real, "--addr", "127.0.0.1:0"); code != 2 || !strings.Contains(e, "real data") {
		t.Fatalf("demo on real data: %d %q", code, e)
	}
}

// lockedBuffer is a bytes.Buffer that a subprocess may write while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// tillit policy check prints FILE:LINE:COL diagnostics and exits 1 on errors; render
// writes the document (issue 6 items 2-3; P2, P3).
func TestPolicyCLI(t *testing.T) {
	examples, _ := filepath.Glob("../../examples/policies/*.yaml")
	if len(examples) != 5 {
		t.Fatalf("found %d example policies, want 5", len(examples))
	}
	if out, e, code := run(t, append([]string{"policy", "check"}, examples...)...); code != 0 || strings.Contains(out, ": error:") {
		t.Fatalf("examples do not pass check: %d\n%s%s", code, out, e)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("format: 1\ncompany:\n  nmae: Firma AB\n"), 0o600)
	out, _, code := run(t, "policy", "check", bad)
	if code != 1 || !strings.Contains(out, bad+":3:3: error:") || !strings.Contains(out, `did you mean "name"`) {
		t.Fatalf("bad file: %d\n%s", code, out)
	}
	if _, _, code := run(t, "policy", "render", bad); code != 1 {
		t.Fatalf("rendered a file with errors: exit %d", code)
	}
	out, e, code := run(t, "policy", "render", "--lang", "da", "--doc", "terms", examples[0])
	if code != 0 || !strings.Contains(out, `lang="da"`) {
		t.Fatalf("render: %d %s\n%.300s", code, e, out)
	}
	if _, _, code := run(t, "policy", "render", "--lang", "fi", examples[0]); code != 2 {
		t.Fatalf("unknown language: exit %d", code)
	}
}

// tillit customers import checks every row first and imports all or nothing, naming
// bad rows by line; export writes a private file and is audited (issue 7 item 9).
func TestCustomersImportExportCLI(t *testing.T) {
	data := t.TempDir()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("namn;e-post;personnummer;postnummer;ort;gatuadress\n"+
		"Eva Ek;eva@example.com;189001019802;11122;Stockholm;Gatan 1\n"+
		"Olle Ås;olle@example.com;189001029819;41102;Göteborg;Vägen 2\n"), 0o600)
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("name,email,identity_number\nA B,a@example.com,189001039800\nC D,c@example.com,189001039801\n"), 0o600)
	if out, e, code := run(t, "customers", "import", "--data", data, bad); code != 1 || !strings.Contains(e, bad+":3: identity_number") || strings.Contains(e, "189001039801") {
		t.Fatalf("bad file: %d %q %q", code, out, e)
	}
	if out, _, code := run(t, "customers", "import", "--dry-run", "--data", data, good); code != 0 || !strings.Contains(out, "nothing written") {
		t.Fatalf("dry run: %d %q", code, out)
	}
	if out, e, code := run(t, "customers", "import", "--data", data, good); code != 0 || !strings.Contains(out, "imported 2 customers") {
		t.Fatalf("import: %d %q %q", code, out, e)
	}
	export := filepath.Join(dir, "export.csv")
	if _, e, code := run(t, "customers", "export", "--data", data, export); code != 2 || !strings.Contains(e, "--reason") {
		t.Fatalf("export without a reason: %d %q", code, e)
	}
	if out, e, code := run(t, "customers", "export", "--reason", "free:annual backup", "--data", data, export); code != 0 || !strings.Contains(out, "exported 2") {
		t.Fatalf("export: %d %q %q", code, out, e)
	}
	fi, err := os.Stat(export)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file mode: %v %v", fi.Mode().Perm(), err)
	}
	b, _ := os.ReadFile(export)
	if !strings.Contains(string(b), "Olle Ås") {
		t.Fatalf("export lacks a customer:\n%s", b)
	}
}

// tillit retention preview shows what the published policy's rules make due and
// changes nothing; run applies it (DESIGN Contracts; T1, T5).
func TestRetentionCLI(t *testing.T) {
	data := t.TempDir()
	dsn := filepath.Join(data, "tillit.db")
	if _, e, code := run(t, "policy", "publish", "--data", data, "../../examples/policies/installer.yaml"); code != 0 {
		t.Fatal(e)
	}
	csv := filepath.Join(t.TempDir(), "c.csv")
	os.WriteFile(csv, []byte("name,email,identity_number\nAnders Ek,anders@example.com,189001059808\n"), 0o600)
	if _, e, code := run(t, "customers", "import", "--data", data, csv); code != 0 {
		t.Fatal(e)
	}
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	twoYearsAgo := store.Micros(time.Now().AddDate(-2, 0, 0))
	st.Write(context.Background(), func(ctx context.Context, tx store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE customers SET status = 'ended', ended_at = $1`, twoYearsAgo)
		return err
	})
	st.Close()
	out, e, code := run(t, "retention", "preview", "--data", data)
	if code != 0 || !strings.Contains(out, "erase") || !strings.Contains(out, "1 due") {
		t.Fatalf("preview: %d %q %q", code, out, e)
	}
	if out, _, _ := run(t, "retention", "preview", "--data", data); !strings.Contains(out, "1 due") {
		t.Fatalf("preview changed something: %q", out)
	}
	if out, e, code := run(t, "retention", "run", "--data", data); code != 0 || !strings.Contains(out, "1 applied") {
		t.Fatalf("run: %d %q %q", code, out, e)
	}
	if out, _, _ := run(t, "retention", "preview", "--data", data); !strings.Contains(out, "0 due") {
		t.Fatalf("after the run: %q", out)
	}
}
