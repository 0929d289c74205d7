package app

import (
	"bytes"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// inbox is a real SMTP server on loopback that keeps what it receives.
type inbox struct {
	mu   sync.Mutex
	msgs []string
	addr string
}

type inboxSession struct{ in *inbox }

func (s inboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s inboxSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s inboxSession) Reset()                               {}
func (s inboxSession) Logout() error                        { return nil }
func (s inboxSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.in.mu.Lock()
	s.in.msgs = append(s.in.msgs, string(b))
	s.in.mu.Unlock()
	return err
}

func startInbox(t *testing.T) *inbox {
	t.Helper()
	in := &inbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return inboxSession{in}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	in.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close(); l.Close() })
	return in
}

func (in *inbox) messages() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.msgs...)
}

// A test message queued from the CLI is delivered by a running tillit serve through
// its --smtp server, once (issue 3, Mail).
func TestServeDeliversQueuedMail(t *testing.T) {
	in := startInbox(t)
	smtpURL := "smtp://" + in.addr + "?from=noreply@tillit.test"
	data := t.TempDir()
	dsn := filepath.Join(data, "tillit.db")
	if out, e, code := run(t, "mail", "test", "--to", "anna@example.se", "--locale", "sv", "--data", data); code != 0 || !strings.Contains(out, "queued") {
		t.Fatalf("mail test: %d %s %s", code, out, e)
	}
	raw, err := readAll(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("anna@example.se")) {
		t.Fatal("the recipient is stored in plaintext")
	}
	p := serve(t, data, dsn, "--smtp", smtpURL)
	var msgs []string
	for range 200 {
		if msgs = in.messages(); len(msgs) > 0 {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], "anna@example.se") {
		t.Fatalf("inbox holds %d messages:\n%v\n%s", len(msgs), msgs, p.log())
	}
	out, e, code := run(t, "mail", "list", "--data", data)
	if code != 0 || !strings.Contains(out, "sent") || strings.Contains(out, "anna@") {
		t.Fatalf("mail list: %d %s %s", code, out, e)
	}
	if _, e, code := run(t, "mail", "test", "--to", "not an address", "--data", data); code != 2 {
		t.Fatalf("bad address accepted: %d %s", code, e)
	}
}

func readAll(dsn string) ([]byte, error) {
	var all []byte
	for _, f := range []string{dsn, dsn + "-wal"} {
		b, err := readFileIfExists(f)
		if err != nil {
			return nil, err
		}
		all = append(all, b...)
	}
	return all, nil
}

func readFileIfExists(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	return b, err
}
