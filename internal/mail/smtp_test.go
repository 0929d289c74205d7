package mail

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// Bad --smtp URLs are refused with an error that names the wrong part and never
// repeats the password.
func TestSMTP_BadURLsGiveClearErrors(t *testing.T) {
	cases := []struct {
		url  string
		want string
	}{
		{"", "empty"},
		{"   ", "empty"},
		{"mail.example.com:587", "scheme"},
		{"http://mail.example.com?from=a@example.com", `scheme "http"`},
		{"smtp:mail.example.com?from=a@example.com", "missing host"},
		{"smtp://?from=a@example.com", "missing host"},
		{"smtp://:587?from=a@example.com", "missing host"},
		{"smtp://mail.example.com:port?from=a@example.com", "cannot parse"},
		{"smtp://mail.example.com:70000?from=a@example.com", `port "70000"`},
		{"smtp://mail.example.com:0?from=a@example.com", `port "0"`},
		{"smtp://mail.example.com:?from=a@example.com", "empty port"},
		{"smtp://mail.example.com/relay?from=a@example.com", `unexpected path "/relay"`},
		{"smtp://user:s3cr#t@mail.example.com?from=a@example.com", "cannot parse"},
		{"smtp://mail.example.com?from=a@example.com#x", "fragment"},
		{"smtp://user@mail.example.com?from=a@example.com", "no password"},
		{"smtp://user:@mail.example.com?from=a@example.com", "no password"},
		{"smtp://:s3cret@mail.example.com?from=a@example.com", "without a user name"},
		{"smtp://mail.example.com", "missing ?from="},
		{"smtp://mail.example.com?from=", "is not an email address"},
		{"smtp://mail.example.com?from=noreply", `from="noreply" is not an email address`},
		{"smtp://mail.example.com?from=a@example.com&from=b@example.com", "from= is given twice"},
		{"smtp://mail.example.com?from=a@example.com&starttls=yes", `starttls="yes"`},
		{"smtps://mail.example.com?from=a@example.com&starttls=required", "applies to smtp:// only"},
		{"smtp://mail.example.com?from=a@example.com&tls=on", `unknown parameter "tls"`},
		{"smtp://mail.example.com?from=a@example.com&x=%zz", "bad percent-encoding"},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			_, err := NewSMTPSender(c.url, SMTPOptions{})
			if err == nil {
				t.Fatalf("NewSMTPSender(%q) succeeded, want an error containing %q", c.url, c.want)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "smtp URL: ") {
				t.Fatalf("error = %q, want it to start with \"smtp URL: \" and contain %q", err, c.want)
			}
			if strings.Contains(err.Error(), "s3cr") {
				t.Fatalf("error repeats the password: %q", err)
			}
		})
	}
}

func TestSMTP_GoodURLsParse(t *testing.T) {
	cases := []struct {
		url                   string
		host                  string
		port                  int
		implicit, required    bool
		user, pass, from, red string
	}{
		{url: "smtp://mail.example.com?from=noreply@example.com", host: "mail.example.com", port: 587,
			from: "noreply@example.com", red: "smtp://mail.example.com?from=noreply@example.com"},
		{url: "smtps://u%40example.com:p%2Fw%23d@mail.example.com?from=noreply+tillit@example.com",
			host: "mail.example.com", port: 465, implicit: true, user: "u@example.com", pass: "p/w#d",
			from: "noreply+tillit@example.com", red: "smtps://u%40example.com:xxxxx@mail.example.com?from=noreply+tillit@example.com"},
		{url: "smtp://127.0.0.1:2525/?from=Tillit%20%3Cnoreply@example.com%3E&starttls=required", host: "127.0.0.1",
			port: 2525, required: true, from: "noreply@example.com"},
		{url: "smtp://[::1]:25?starttls=opportunistic&from=noreply@example.com", host: "::1", port: 25, from: "noreply@example.com"},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			s, err := NewSMTPSender(c.url, SMTPOptions{})
			if err != nil {
				t.Fatal(err)
			}
			g := s.cfg
			if g.host != c.host || g.port != c.port || g.implicitTLS != c.implicit || g.requireTLS != c.required ||
				g.user != c.user || g.pass != c.pass || g.from.Address != c.from {
				t.Fatalf("parsed %+v (from %s)", g, g.from.Address)
			}
			if c.red != "" && s.String() != c.red {
				t.Fatalf("String() = %q, want %q", s.String(), c.red)
			}
			if c.pass != "" && strings.Contains(s.String(), c.pass) {
				t.Fatalf("String() shows the password: %q", s.String())
			}
		})
	}
}

func testMessage() *Rendered {
	return &Rendered{ID: "0190f0c2-0000-7000-8000-000000000001", To: anna, Locale: "en",
		Subject: "Tillit test message", Text: "Hello\n", HTML: "<p>Hello</p>"}
}

// smtp:// with credentials: STARTTLS is used when offered and AUTH happens inside it.
func TestSMTP_STARTTLSWhenOfferedWithAuth(t *testing.T) {
	tlsCfg, pool := testTLS(t)
	srv := startSMTP(t, serverConfig{startTLS: true, user: "tillit", pass: "pa:ss/w@rd"}, tlsCfg)
	url := "smtp://tillit:pa%3Ass%2Fw%40rd@" + srv.Addr + "?from=noreply@tillit.test"
	if err := newSender(t, url, pool).Send(context.Background(), testMessage()); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || !msgs[0].TLS {
		t.Fatalf("received %+v, want one message over TLS", msgs)
	}
}

// A wrong password is a temporary failure (the settings are wrong, not the mail), and
// its error carries the code, not the password.
func TestSMTP_WrongPasswordIsTemporary(t *testing.T) {
	tlsCfg, pool := testTLS(t)
	srv := startSMTP(t, serverConfig{startTLS: true, user: "tillit", pass: "right"}, tlsCfg)
	err := newSender(t, "smtp://tillit:wrong-s3cret@"+srv.Addr+"?from=noreply@tillit.test", pool).
		Send(context.Background(), testMessage())
	var se *SendError
	if !errors.As(err, &se) || se.Permanent || se.Code != 535 {
		t.Fatalf("Send = %#v, want a temporary SendError with code 535", err)
	}
	if strings.Contains(safeError(err, anna), "s3cret") {
		t.Fatalf("error shows the password: %q", safeError(err, anna))
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("message delivered without authentication")
	}
}

// smtps:// speaks TLS from the first byte.
func TestSMTP_ImplicitTLS(t *testing.T) {
	tlsCfg, pool := testTLS(t)
	srv := startSMTP(t, serverConfig{implicit: true}, tlsCfg)
	if err := newSender(t, srv.URL("smtps", ""), pool).Send(context.Background(), testMessage()); err != nil {
		t.Fatal(err)
	}
	if msgs := srv.Messages(); len(msgs) != 1 || !msgs[0].TLS {
		t.Fatalf("received %+v, want one message over TLS", msgs)
	}
}

// An untrusted certificate is refused, not silently accepted.
func TestSMTP_UntrustedCertificateRefused(t *testing.T) {
	tlsCfg, _ := testTLS(t)
	srv := startSMTP(t, serverConfig{implicit: true}, tlsCfg)
	err := newSender(t, srv.URL("smtps", ""), nil).Send(context.Background(), testMessage())
	var se *SendError
	if !errors.As(err, &se) || se.Permanent || !strings.Contains(se.Error(), "certificate") {
		t.Fatalf("Send = %v, want a temporary certificate error", err)
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("message delivered over an untrusted connection")
	}
}

// ?starttls=required refuses a server that does not offer STARTTLS; without it the
// mail goes in plain text to such a server (opportunistic).
func TestSMTP_STARTTLSRequiredRefusesPlainServer(t *testing.T) {
	srv := startSMTP(t, serverConfig{}, nil)
	err := newSender(t, srv.URL("smtp", "starttls=required"), nil).Send(context.Background(), testMessage())
	var se *SendError
	if !errors.As(err, &se) || se.Permanent || !strings.Contains(se.Error(), "STARTTLS") {
		t.Fatalf("Send = %v, want a temporary error naming STARTTLS", err)
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("message delivered without the required TLS")
	}
	if err := newSender(t, srv.URL("smtp", ""), nil).Send(context.Background(), testMessage()); err != nil {
		t.Fatalf("opportunistic Send = %v", err)
	}
	if msgs := srv.Messages(); len(msgs) != 1 || msgs[0].TLS {
		t.Fatalf("received %+v, want one plain message", msgs)
	}
}

// A server that is down is a temporary failure.
func TestSMTP_ConnectionRefusedIsTemporary(t *testing.T) {
	// Nothing listens on port 1 of loopback.
	err := newSender(t, "smtp://127.0.0.1:1?from=noreply@tillit.test", nil).Send(context.Background(), testMessage())
	var se *SendError
	if !errors.As(err, &se) || se.Permanent || se.Stage != "smtp connect" {
		t.Fatalf("Send = %v, want a temporary connect error", err)
	}
}

// A send is cut when its context ends, even mid-session with a server that stalls.
func TestSMTP_SendStopsWhenContextEnds(t *testing.T) {
	srv := startSMTP(t, serverConfig{}, nil)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv.onRcpt = func(int, string) error { <-release; return nil }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- newSender(t, srv.URL("smtp", ""), nil).Send(ctx, testMessage()) }()
	waitFor(t, func() bool { return srv.RcptCount() == 1 })
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Send succeeded after its context was cancelled")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send did not return after its context was cancelled")
	}
}

func TestSafeErrorRedactsAddresses(t *testing.T) {
	cases := []struct{ in, to, want string }{
		{"550 <Anna.Lindqvist@Kund.example>: no such user", anna, "550 <<address>>: no such user"},
		{"affected recipient(s): bo@x.example, eva@y.example", "", "affected recipient(s): <address>, <address>"},
		{"dial tcp 127.0.0.1:1: connect: connection refused", anna, "dial tcp 127.0.0.1:1: connect: connection refused"},
	}
	for _, c := range cases {
		if got := safeError(errors.New(c.in), c.to); got != c.want {
			t.Errorf("safeError(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	long := safeError(errors.New(strings.Repeat("å", 400)), "")
	if len(long) > maxErrorLen+len("…") || !strings.HasSuffix(long, "…") {
		t.Errorf("long error not cut: %d bytes", len(long))
	}
}

// The --smtp parser never panics, and whatever it accepts is complete.
func FuzzParseSMTPURL(f *testing.F) {
	for _, s := range []string{
		"smtp://user:pass@mail.example.com:587?from=noreply@example.com",
		"smtps://mail.example.com?from=Tillit%20%3Cnoreply@example.com%3E",
		"smtp://[::1]:25?from=a@b.example&starttls=required",
		"smtp://u:p%zz@h?from=a@b", "smtp://h:99999?from=a@b", "smtp://h?from=a@b#x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		cfg, err := parseSMTPURL(raw)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "smtp URL: ") {
				t.Fatalf("error %q lacks the prefix", err)
			}
			return
		}
		if cfg.host == "" || cfg.port < 1 || cfg.port > 65535 || cfg.from == nil || (cfg.user == "") != (cfg.pass == "") {
			t.Fatalf("accepted an incomplete URL %q: %+v", raw, cfg)
		}
		if cfg.implicitTLS && cfg.requireTLS {
			t.Fatalf("%q: both smtps and starttls", raw)
		}
	})
}
