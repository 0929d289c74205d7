package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

// testClock is the injectable clock: tests move it instead of sleeping.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newSealer(t *testing.T) Sealer {
	t.Helper()
	k, _, err := security.LoadOrCreateMasterKey(filepath.Join(t.TempDir(), "master.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	s, err := k.AEAD("mail-outbox")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newOutbox(t *testing.T, st *store.Store, s Sealer, clk *testClock, opts Options) *Outbox {
	t.Helper()
	opts.Now = clk.Now
	o, err := NewOutbox(st, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func enqueue(t *testing.T, o *Outbox, st *store.Store, m Message) string {
	t.Helper()
	var id string
	err := st.Write(context.Background(), func(ctx context.Context, tx store.Tx) error {
		var err error
		id, err = o.Enqueue(ctx, tx, m)
		return err
	})
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	return id
}

// openDSN opens (and migrates) a store on dsn, closed when the test ends.
func openDSN(t *testing.T, dsn string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// eachDSN is storetest.Each for tests that need to open the same database more than
// once (a restart, a second process).
func eachDSN(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, filepath.Join(t.TempDir(), "tillit.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, storetest.PostgresURL(t)) })
}

// received is one message as the SMTP server got it.
type received struct {
	From string
	To   []string
	Data []byte
	TLS  bool
}

// smtpServer is a real SMTP server (emersion/go-smtp) on 127.0.0.1:0.
type smtpServer struct {
	Addr string
	mu   sync.Mutex
	msgs []received
	rcpt int // RCPT TO commands seen
	// onRcpt, when set, answers RCPT TO; n counts RCPT commands from 1.
	onRcpt func(n int, to string) error
	// onData, when set, answers the end of DATA.
	onData func() error
	// user and pass, when set, are required before MAIL FROM (AUTH PLAIN).
	user, pass string
}

type serverConfig struct {
	startTLS bool // offer STARTTLS
	implicit bool // TLS from the first byte
	user     string
	pass     string
}

func startSMTP(t *testing.T, cfg serverConfig, tlsCfg *tls.Config) *smtpServer {
	t.Helper()
	srv := &smtpServer{user: cfg.user, pass: cfg.pass}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: srv, conn: c}, nil
	}))
	s.Domain = "localhost"
	s.ErrorLog = log.New(io.Discard, "", 0)
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	if cfg.startTLS {
		s.TLSConfig = tlsCfg
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.implicit {
		l = tls.NewListener(l, tlsCfg)
	}
	srv.Addr = l.Addr().String()
	done := make(chan struct{})
	go func() { defer close(done); s.Serve(l) }()
	// Closing the listener too: s.Close alone misses it when Serve has not started yet.
	t.Cleanup(func() { s.Close(); l.Close(); <-done })
	return srv
}

func (s *smtpServer) Messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

func (s *smtpServer) RcptCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcpt
}

// URL is an --smtp URL for this server.
func (s *smtpServer) URL(scheme, query string) string {
	userinfo := ""
	if s.user != "" {
		userinfo = s.user + ":" + s.pass + "@"
	}
	q := "from=noreply@tillit.test"
	if query != "" {
		q += "&" + query
	}
	return scheme + "://" + userinfo + s.Addr + "?" + q
}

type session struct {
	srv    *smtpServer
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != s.srv.user || pass != s.srv.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	s.srv.rcpt++
	n, hook := s.srv.rcpt, s.srv.onRcpt
	s.srv.mu.Unlock()
	if hook != nil {
		if err := hook(n, to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	hook := s.srv.onData
	s.srv.mu.Unlock()
	if hook != nil {
		if err := hook(); err != nil {
			return err
		}
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.msgs = append(s.srv.msgs, received{From: s.from, To: append([]string(nil), s.to...), Data: b, TLS: isTLS})
	s.srv.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// testTLS makes a self-signed certificate for 127.0.0.1 and a pool that trusts it.
func testTLS(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tillit test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

func newSender(t *testing.T, rawURL string, pool *x509.CertPool) *SMTPSender {
	t.Helper()
	s, err := NewSMTPSender(rawURL, SMTPOptions{RootCAs: pool, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// parsedMail is a received message taken apart.
type parsedMail struct {
	Header  netmail.Header
	Subject string
	Text    string
	HTML    string
}

func parseMail(t *testing.T, raw []byte) parsedMail {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	var p parsedMail
	p.Header = m.Header
	p.Subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	walkPart(t, &p, m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body)
	return p
}

func walkPart(t *testing.T, p *parsedMail, ctype, cte string, body io.Reader) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		t.Fatalf("content type %q: %v", ctype, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			walkPart(t, p, part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part)
		}
	}
	var r io.Reader = body
	switch strings.ToLower(cte) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		t.Fatalf("unexpected base64 part")
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	switch mt {
	case "text/plain":
		p.Text = string(b)
	case "text/html":
		p.HTML = string(b)
	}
}

// rawRows returns every byte of every mail_outbox row, as the database hands it out.
func rawRows(t *testing.T, st *store.Store) []byte {
	t.Helper()
	rows, err := st.DB().QueryContext(context.Background(),
		`SELECT id, template, locale, recipient, data, state, COALESCE(last_error, '') FROM mail_outbox`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var all []byte
	for rows.Next() {
		var id, tmpl, loc, state, lastErr string
		var rcpt, data []byte
		if err := rows.Scan(&id, &tmpl, &loc, &rcpt, &data, &state, &lastErr); err != nil {
			t.Fatal(err)
		}
		for _, f := range [][]byte{[]byte(id), []byte(tmpl), []byte(loc), rcpt, data, []byte(state), []byte(lastErr)} {
			all = append(all, f...)
			all = append(all, 0)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return all
}

// row reads the state of one outbox row straight from the table.
type rowState struct {
	State          string
	Attempts       int
	RecipientBytes int
	DataBytes      int
	NextAttemptAt  int64
	LastError      string
}

func readRow(t *testing.T, st *store.Store, id string) rowState {
	t.Helper()
	var r rowState
	var rcpt, data []byte
	var lastErr *string
	err := st.DB().QueryRowContext(context.Background(),
		`SELECT state, attempts, recipient, data, next_attempt_at, last_error FROM mail_outbox WHERE id = $1`, id).
		Scan(&r.State, &r.Attempts, &rcpt, &data, &r.NextAttemptAt, &lastErr)
	if err != nil {
		t.Fatalf("read row %s: %v", id, err)
	}
	r.RecipientBytes, r.DataBytes = len(rcpt), len(data)
	if lastErr != nil {
		r.LastError = *lastErr
	}
	return r
}

func countRows(t *testing.T, st *store.Store) int {
	t.Helper()
	var n int
	if err := st.DB().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM mail_outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
