package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTPOptions tune an SMTPSender beyond what its URL says. The zero value is right
// for production.
type SMTPOptions struct {
	// RootCAs verifies the server's certificate; nil means the system's roots.
	RootCAs *x509.CertPool
	// Timeout bounds each SMTP command; default 30s. The whole send is also bounded
	// by the context Send gets.
	Timeout time.Duration
	// HELO is the name given in EHLO; default the machine's host name.
	HELO string
}

// SMTPSender delivers through one SMTP server, opening a connection per message.
type SMTPSender struct {
	cfg smtpConfig
	opt SMTPOptions
}

type smtpConfig struct {
	host        string
	port        int
	implicitTLS bool // smtps://
	requireTLS  bool // smtp:// with ?starttls=required
	user, pass  string
	from        *netmail.Address
	redacted    string
}

// NewSMTPSender parses an --smtp URL:
//
//	smtp://user:password@host:587?from=noreply@example.com   STARTTLS when offered
//	smtp://host:25?from=noreply@example.com&starttls=required STARTTLS or no mail
//	smtps://user:password@host:465?from=noreply@example.com   TLS from the first byte
//
// The port defaults to 587 (smtp) and 465 (smtps). User and password are optional,
// but go together; percent-encode reserved characters in them. The password is only
// ever sent over TLS (or to localhost). Errors name the part of the URL that is wrong
// and never repeat the password.
func NewSMTPSender(rawURL string, opt SMTPOptions) (*SMTPSender, error) {
	cfg, err := parseSMTPURL(rawURL)
	if err != nil {
		return nil, err
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 30 * time.Second
	}
	return &SMTPSender{cfg: cfg, opt: opt}, nil
}

// String is the URL with the password hidden, for logs and status pages.
func (s *SMTPSender) String() string { return s.cfg.redacted }

const smtpURLExample = "smtp://user:password@host:587?from=noreply@example.com"

func parseSMTPURL(raw string) (smtpConfig, error) {
	var cfg smtpConfig
	bad := func(format string, args ...any) (smtpConfig, error) {
		return smtpConfig{}, fmt.Errorf("smtp URL: "+format, args...)
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return bad("empty; want e.g. %s", smtpURLExample)
	}
	u, err := url.Parse(raw)
	if err != nil {
		const hint = "percent-encode reserved characters such as @ : / # ? in the user name and password"
		// url.Error repeats the whole URL, and even its reason ("invalid port") can
		// quote a piece of a password: give the reason only when there is none.
		var ue *url.Error
		if before, _, _ := strings.Cut(raw, "?"); errors.As(err, &ue) && !strings.ContainsAny(before, "@#") {
			return bad("cannot parse (%v); %s", ue.Err, hint)
		}
		return bad("cannot parse; %s", hint)
	}
	switch u.Scheme {
	case "smtp":
		cfg.port = 587
	case "smtps":
		cfg.port, cfg.implicitTLS = 465, true
	case "":
		return bad("missing scheme; want smtp:// (STARTTLS) or smtps:// (TLS from the first byte), e.g. %s", smtpURLExample)
	default:
		return bad("scheme %q: want smtp:// (STARTTLS) or smtps:// (TLS from the first byte)", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return bad("missing host; want e.g. %s", smtpURLExample)
	}
	cfg.host = u.Hostname()
	if cfg.host == "" {
		return bad("missing host; want e.g. %s", smtpURLExample)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return bad("port %q: want a number from 1 to 65535", p)
		}
		cfg.port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return bad("empty port after the host; leave out the colon or give a port")
	}
	if u.Path != "" && u.Path != "/" {
		return bad("unexpected path %q; options go in the query, e.g. ?from=noreply@example.com", u.Path)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return bad("unexpected # (a fragment); percent-encode # in a password as %%23")
	}
	if u.User != nil {
		cfg.user = u.User.Username()
		cfg.pass, _ = u.User.Password()
		switch {
		case cfg.user == "":
			return bad("a password is given without a user name; write %s", smtpURLExample)
		case cfg.pass == "":
			return bad("the user name has no password; write %s", smtpURLExample)
		}
	}
	// The query is split by hand so that "+" stays a plus, as in noreply+tillit@….
	seen := map[string]bool{}
	for _, kv := range strings.Split(u.RawQuery, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		key, err1 := url.PathUnescape(k)
		val, err2 := url.PathUnescape(v)
		if err1 != nil || err2 != nil {
			return bad("query %q: bad percent-encoding", k)
		}
		if seen[key] {
			return bad("%s= is given twice", key)
		}
		seen[key] = true
		switch key {
		case "from":
			addr, err := netmail.ParseAddress(val)
			if err != nil {
				return bad("from=%q is not an email address (write ?from=noreply@example.com or ?from=Name%%20%%3Cnoreply@example.com%%3E)", val)
			}
			cfg.from = addr
		case "starttls":
			switch strings.ToLower(val) {
			case "required":
				cfg.requireTLS = true
			case "opportunistic":
			default:
				return bad("starttls=%q: want required or opportunistic", val)
			}
			if cfg.implicitTLS {
				return bad("starttls= applies to smtp:// only; smtps:// uses TLS from the first byte")
			}
		default:
			return bad("unknown parameter %q (known: from, starttls)", key)
		}
	}
	if cfg.from == nil {
		return bad("missing ?from= (the sender address), e.g. %s", smtpURLExample)
	}
	cfg.redacted = u.Redacted()
	return cfg, nil
}

// Send delivers msg in one SMTP session. The session is cut when ctx ends. A 5xx
// answer to RCPT TO or to the message itself is permanent; everything else
// (connection, TLS, authentication, 4xx, a refused sender) is temporary, because it
// is usually the server's or the settings' fault and clears up.
func (s *SMTPSender) Send(ctx context.Context, msg *Rendered) error {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	m.FromMailAddress(s.cfg.from)
	if err := m.To(msg.To); err != nil {
		return &SendError{Stage: "smtp address", Permanent: true, Err: errors.New("the recipient is not a valid address")}
	}
	m.Subject(msg.Subject)
	m.SetMessageIDWithValue(msg.MessageID(domainOf(s.cfg.from.Address)))
	m.SetDate()
	m.SetGenHeader(gomail.HeaderContentLang, msg.Locale)
	m.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, msg.Text)
	if msg.HTML != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, msg.HTML)
	}

	tlsCfg := &tls.Config{ServerName: s.cfg.host, MinVersion: tls.VersionTLS12, RootCAs: s.opt.RootCAs}
	var stop func() bool
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{}
		var conn net.Conn
		var err error
		if s.cfg.implicitTLS {
			// A *tls.Conn, so go-mail knows the session is encrypted.
			conn, err = (&tls.Dialer{NetDialer: d, Config: tlsCfg}).DialContext(dctx, network, addr)
		} else {
			conn, err = d.DialContext(dctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		// go-mail honours ctx only while dialling; closing the connection makes every
		// later command fail as soon as ctx ends.
		stop = context.AfterFunc(ctx, func() { conn.Close() })
		return conn, nil
	}
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.port),
		gomail.WithTimeout(s.opt.Timeout),
		gomail.WithTLSConfig(tlsCfg),
		gomail.WithDialContextFunc(dial),
	}
	switch {
	case s.cfg.implicitTLS:
		opts = append(opts, gomail.WithSSL())
	case s.cfg.requireTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.cfg.user != "" {
		// PLAIN and LOGIN refuse to run without TLS unless the server is localhost.
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1,
				gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(s.cfg.user), gomail.WithPassword(s.cfg.pass))
	}
	if s.opt.HELO != "" {
		opts = append(opts, gomail.WithHELO(s.opt.HELO))
	}
	c, err := gomail.NewClient(s.cfg.host, opts...)
	if err != nil {
		return &SendError{Stage: "smtp connect", Err: err}
	}
	err = c.DialAndSendWithContext(ctx, m)
	if stop != nil {
		stop()
	}
	if m.IsDelivered() {
		// Accepted: an error closing the session afterwards does not undo that.
		return nil
	}
	if err == nil {
		return &SendError{Stage: "smtp DATA", Err: errors.New("server did not confirm the message")}
	}
	return classifySMTP(err)
}

// classifySMTP turns go-mail's errors into a SendError with code and stage only.
func classifySMTP(err error) *SendError {
	var se *gomail.SendError
	if errors.As(err, &se) {
		out := &SendError{Code: se.ErrorCode(), Enhanced: se.EnhancedStatusCode(), Err: err}
		switch se.Reason {
		case gomail.ErrSMTPMailFrom:
			out.Stage = "smtp MAIL FROM"
		case gomail.ErrSMTPRcptTo:
			out.Stage = "smtp RCPT TO"
			out.Permanent = out.Code >= 500
		case gomail.ErrSMTPData, gomail.ErrSMTPDataClose, gomail.ErrWriteContent:
			out.Stage = "smtp DATA"
			out.Permanent = out.Code >= 500
		default:
			out.Stage = "smtp session"
		}
		return out
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		// Greeting, EHLO, STARTTLS or AUTH refused: the server or the settings.
		return &SendError{Stage: "smtp connect", Code: te.Code, Enhanced: enhancedCode(te.Msg), Err: err}
	}
	return &SendError{Stage: "smtp connect", Err: err}
}

// enhancedCode picks an RFC 3463 code ("5.7.8") off the start of a reply text.
func enhancedCode(msg string) string {
	f, _, _ := strings.Cut(msg, " ")
	parts := strings.Split(f, ".")
	if len(parts) != 3 || (parts[0] != "2" && parts[0] != "4" && parts[0] != "5") {
		return ""
	}
	for _, p := range parts[1:] {
		if _, err := strconv.Atoi(p); err != nil || len(p) > 3 {
			return ""
		}
	}
	return f
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "tillit.invalid"
}
