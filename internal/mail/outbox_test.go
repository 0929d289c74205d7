package mail

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

const (
	anna     = "anna.lindqvist@kund.example"
	annaLink = "https://tillit.example/portal/login/tok_9f3a7c21e4b8d605"
)

func loginLink(to, locale string) Message {
	return Message{Template: "login-link", Locale: locale, To: to, Data: map[string]string{"link": annaLink}}
}

// A mail enqueued in a Write that fails is rolled back with it: no row, nothing sent.
func TestMail_EnqueueInFailedWriteLeavesNoRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clk := newClock()
		o := newOutbox(t, st, newSealer(t), clk, Options{})
		srv := startSMTP(t, serverConfig{}, nil)
		boom := errors.New("the change that caused the mail failed")
		err := st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			if _, err := o.Enqueue(ctx, tx, loginLink(anna, "sv")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Write = %v, want %v", err, boom)
		}
		if n := countRows(t, st); n != 0 {
			t.Fatalf("%d outbox rows after a failed Write, want 0", n)
		}
		sent, err := o.DeliverDue(ctx, newSender(t, srv.URL("smtp", ""), nil))
		if err != nil || sent != 0 || len(srv.Messages()) != 0 {
			t.Fatalf("DeliverDue = %d, %v; server got %d; want nothing sent", sent, err, len(srv.Messages()))
		}
	})
}

// Enqueue refuses, inside the caller's Write, a mail that could never be sent, and
// its errors do not repeat the address.
func TestMail_EnqueueRefusesWhatCannotBeSent(t *testing.T) {
	st := storetest.SQLite(t)
	o := newOutbox(t, st, newSealer(t), newClock(), Options{})
	long := strings.Repeat("x", maxDataBytes)
	cases := []struct {
		name string
		m    Message
		want string
	}{
		{"unknown template", Message{Template: "welcome", To: anna}, `unknown template "welcome"`},
		{"unknown locale", Message{Template: "test", Locale: "de", To: anna}, `locale "de"`},
		{"bad address", Message{Template: "test", To: "anna.lindqvist at kund.example"}, "not a valid email address"},
		{"header injection", Message{Template: "test", To: "anna@kund.example\r\nBcc: x@y.example"}, "not a valid email address"},
		{"missing link", Message{Template: "login-link", To: anna}, `no entry for key "link"`},
		{"link not http", Message{Template: "login-link", To: anna, Data: map[string]string{"link": "javascript:alert(1)"}}, "absolute http or https URL"},
		{"too much data", Message{Template: "test", To: anna, Data: map[string]string{"blob": long}}, "send ids and tokens"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := st.Write(context.Background(), func(ctx context.Context, tx store.Tx) error {
				_, err := o.Enqueue(ctx, tx, c.m)
				return err
			})
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Enqueue error = %v, want ErrInvalid containing %q", err, c.want)
			}
			if strings.Contains(err.Error(), "anna") {
				t.Fatalf("error repeats the address: %v", err)
			}
		})
	}
	if n := countRows(t, st); n != 0 {
		t.Fatalf("%d rows after refused Enqueues, want 0", n)
	}
}

// A mail is delivered to a real SMTP server, rendered in its locale, and afterwards
// nothing in the database can rebuild it; the address and link never touch the
// database in plaintext.
func TestMail_DeliveredOnceInLocaleAndErasedAfterSend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clk := newClock()
		o := newOutbox(t, st, newSealer(t), clk, Options{})
		srv := startSMTP(t, serverConfig{}, nil)
		id := enqueue(t, o, st, loginLink("Anna Lindqvist <"+anna+">", "sv"))

		noPlaintext := func(when string) {
			t.Helper()
			raw := rawRows(t, st)
			for _, secret := range []string{anna, annaLink, "tok_9f3a7c21e4b8d605", "Lindqvist"} {
				if bytes.Contains(raw, []byte(secret)) {
					t.Fatalf("%s: outbox rows contain %q in plaintext", when, secret)
				}
			}
			if st.Dialect() == store.SQLite {
				for _, f := range []string{st.Path(), st.Path() + "-wal"} {
					b, err := os.ReadFile(f)
					if err != nil && !os.IsNotExist(err) {
						t.Fatal(err)
					}
					if bytes.Contains(b, []byte(anna)) || bytes.Contains(b, []byte("tok_9f3a7c21e4b8d605")) {
						t.Fatalf("%s: %s contains the address or token in plaintext", when, f)
					}
				}
			}
		}
		noPlaintext("before sending")

		sent, err := o.DeliverDue(ctx, newSender(t, srv.URL("smtp", ""), nil))
		if err != nil || sent != 1 {
			t.Fatalf("DeliverDue = %d, %v; want 1, nil", sent, err)
		}
		msgs := srv.Messages()
		if len(msgs) != 1 {
			t.Fatalf("server received %d messages, want 1", len(msgs))
		}
		if got := msgs[0].To; len(got) != 1 || got[0] != anna {
			t.Fatalf("RCPT TO = %v, want [%s]", got, anna)
		}
		if msgs[0].From != "noreply@tillit.test" {
			t.Fatalf("MAIL FROM = %q", msgs[0].From)
		}
		p := parseMail(t, msgs[0].Data)
		if to := p.Header.Get("To"); to != "<"+anna+">" {
			t.Fatalf("To header = %q, want <%s>", to, anna)
		}
		if p.Subject != "Din inloggningslänk" {
			t.Fatalf("Subject = %q, want the Swedish subject", p.Subject)
		}
		if got, want := p.Header.Get("Message-Id"), "<"+id+"@tillit.test>"; got != want {
			t.Fatalf("Message-ID = %q, want %q", got, want)
		}
		if p.Header.Get("Content-Language") != "sv" || p.Header.Get("Auto-Submitted") != "auto-generated" {
			t.Fatalf("headers: Content-Language %q, Auto-Submitted %q", p.Header.Get("Content-Language"), p.Header.Get("Auto-Submitted"))
		}
		for _, want := range []string{annaLink, "logga in på kundportalen", "bara användas en gång", "bortse från det här meddelandet"} {
			if !strings.Contains(p.Text, want) {
				t.Fatalf("text part lacks %q:\n%s", want, p.Text)
			}
		}
		if !strings.Contains(p.HTML, `href="`+annaLink+`"`) || !strings.Contains(p.HTML, `<html lang="sv">`) {
			t.Fatalf("HTML part lacks the link or lang=sv:\n%s", p.HTML)
		}

		r := readRow(t, st, id)
		if r.State != StateSent || r.RecipientBytes != 0 || r.DataBytes != 0 || r.Attempts != 1 {
			t.Fatalf("row after send = %+v, want sent with recipient and data emptied", r)
		}
		sentList, err := o.List(ctx, StateSent, 10)
		if err != nil || len(sentList) != 1 || sentList[0].ID != id || sentList[0].Template != "login-link" ||
			!sentList[0].SentAt.Equal(clk.Now()) || !sentList[0].CreatedAt.Equal(clk.Now()) {
			t.Fatalf("List(sent) = %+v, %v", sentList, err)
		}
		noPlaintext("after sending")

		// A second pass finds nothing: the row is never sent twice.
		clk.Advance(24 * time.Hour)
		if sent, err := o.DeliverDue(ctx, newSender(t, srv.URL("smtp", ""), nil)); err != nil || sent != 0 {
			t.Fatalf("second DeliverDue = %d, %v; want 0", sent, err)
		}
		if n := len(srv.Messages()); n != 1 {
			t.Fatalf("server received %d messages after a second pass, want 1", n)
		}
	})
}

// Killed after the commit and before any send: the mail is delivered, once, by a new
// Outbox on the reopened database.
func TestMail_CrashAfterCommitDeliversAfterRestart(t *testing.T) {
	eachDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		clk := newClock()
		sealer := newSealer(t) // the master key survives the restart
		srv := startSMTP(t, serverConfig{}, nil)

		before := openDSN(t, dsn)
		id := enqueue(t, newOutbox(t, before, sealer, clk, Options{}), before, loginLink(anna, "nb"))
		if err := before.Close(); err != nil { // the process dies here
			t.Fatal(err)
		}

		after := openDSN(t, dsn)
		o := newOutbox(t, after, sealer, clk, Options{})
		sender := newSender(t, srv.URL("smtp", ""), nil)
		if sent, err := o.DeliverDue(ctx, sender); err != nil || sent != 1 {
			t.Fatalf("DeliverDue after restart = %d, %v; want 1", sent, err)
		}
		if sent, err := o.DeliverDue(ctx, sender); err != nil || sent != 0 {
			t.Fatalf("second DeliverDue = %d, %v; want 0", sent, err)
		}
		msgs := srv.Messages()
		if len(msgs) != 1 {
			t.Fatalf("server received %d messages, want exactly 1", len(msgs))
		}
		if p := parseMail(t, msgs[0].Data); p.Subject != "Innloggingslenken din" {
			t.Fatalf("Subject = %q, want the Norwegian one", p.Subject)
		}
		if r := readRow(t, after, id); r.State != StateSent {
			t.Fatalf("row state = %s, want sent", r.State)
		}
	})
}

// A sender that claimed a row and died holds it only until its lease runs out; then
// another pass delivers it.
func TestMail_RowOfCrashedSenderIsDueAgainAfterLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clk := newClock()
		lease := 2 * time.Minute
		o := newOutbox(t, st, newSealer(t), clk, Options{Lease: lease})
		srv := startSMTP(t, serverConfig{}, nil)
		sender := newSender(t, srv.URL("smtp", ""), nil)
		id := enqueue(t, o, st, Message{Template: "test", Locale: "da", To: anna})

		c, err := o.claim(ctx, clk.Now()) // the sender that then crashes
		if err != nil || c == nil || c.id != id {
			t.Fatalf("claim = %+v, %v", c, err)
		}
		if r := readRow(t, st, id); r.State != StateSending {
			t.Fatalf("claimed row state = %s, want sending", r.State)
		}
		if held, _ := o.List(ctx, StateSending, 10); len(held) != 1 || !held[0].LockedUntil.Equal(clk.Now().Add(lease)) {
			t.Fatalf("List(sending) = %+v, want the row leased until now+lease", held)
		}

		if sent, err := o.DeliverDue(ctx, sender); err != nil || sent != 0 {
			t.Fatalf("DeliverDue while leased = %d, %v; want 0", sent, err)
		}
		clk.Advance(lease - time.Microsecond)
		if sent, err := o.DeliverDue(ctx, sender); err != nil || sent != 0 {
			t.Fatalf("DeliverDue just before the lease ends = %d, %v; want 0", sent, err)
		}
		clk.Advance(time.Microsecond)
		if sent, err := o.DeliverDue(ctx, sender); err != nil || sent != 1 {
			t.Fatalf("DeliverDue after the lease = %d, %v; want 1", sent, err)
		}
		if n := len(srv.Messages()); n != 1 {
			t.Fatalf("server received %d messages, want 1", n)
		}
		if p := parseMail(t, srv.Messages()[0].Data); p.Subject != "Testbesked fra Tillit" {
			t.Fatalf("Subject = %q, want the Danish one", p.Subject)
		}
		if r := readRow(t, st, id); r.State != StateSent || r.Attempts != 2 {
			t.Fatalf("row = %+v, want sent on attempt 2", r)
		}
	})
}

// The one window that can duplicate, a crash between the server's accept and the
// mark, yields two copies with the same Message-ID, which receivers de-duplicate.
func TestMail_CrashBetweenAcceptAndMarkResendsSameMessageID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clk := newClock()
		o := newOutbox(t, st, newSealer(t), clk, Options{Lease: time.Minute})
		srv := startSMTP(t, serverConfig{}, nil)
		sender := newSender(t, srv.URL("smtp", ""), nil)
		enqueue(t, o, st, loginLink(anna, "en"))

		c, err := o.claim(ctx, clk.Now())
		if err != nil || c == nil {
			t.Fatalf("claim = %v, %v", c, err)
		}
		r, _, err := o.open(c)
		if err != nil {
			t.Fatal(err)
		}
		if err := sender.Send(ctx, r); err != nil { // accepted; then the process dies
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		if sent, err := o.DeliverDue(ctx, sender); err != nil || sent != 1 {
			t.Fatalf("DeliverDue = %d, %v; want 1", sent, err)
		}
		msgs := srv.Messages()
		if len(msgs) != 2 {
			t.Fatalf("server received %d messages, want the original and one resend", len(msgs))
		}
		a, b := parseMail(t, msgs[0].Data), parseMail(t, msgs[1].Data)
		if a.Header.Get("Message-Id") == "" || a.Header.Get("Message-Id") != b.Header.Get("Message-Id") {
			t.Fatalf("Message-IDs %q and %q differ", a.Header.Get("Message-Id"), b.Header.Get("Message-Id"))
		}
	})
}

// Several senders on one database, two Outboxes on separate connections (as two
// processes would be) each with two concurrent passes: every message reaches the
// server exactly once.
func TestMail_ConcurrentSendersDeliverEachMessageOnce(t *testing.T) {
	eachDSN(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		clk := newClock()
		sealer := newSealer(t)
		srv := startSMTP(t, serverConfig{}, nil)
		stA, stB := openDSN(t, dsn), openDSN(t, dsn)
		oA := newOutbox(t, stA, sealer, clk, Options{})
		oB := newOutbox(t, stB, sealer, clk, Options{})

		const n = 24
		want := map[string]bool{}
		for i := range n {
			to := "kund" + string(rune('a'+i)) + "@kund.example"
			want[to] = true
			enqueue(t, oA, stA, Message{Template: "test", To: to})
		}

		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for _, o := range []*Outbox{oA, oB, oA, oB} {
			wg.Go(func() {
				sent, err := o.DeliverDue(ctx, newSender(t, srv.URL("smtp", ""), nil))
				if err != nil {
					t.Errorf("DeliverDue: %v", err)
				}
				mu.Lock()
				total += sent
				mu.Unlock()
			})
		}
		wg.Wait()
		for _, o := range []*Outbox{oA, oB} {
			sent, err := o.DeliverDue(ctx, newSender(t, srv.URL("smtp", ""), nil))
			if err != nil || sent != 0 {
				t.Fatalf("extra DeliverDue = %d, %v; want 0", sent, err)
			}
		}

		got := map[string]int{}
		ids := map[string]int{}
		for _, m := range srv.Messages() {
			for _, to := range m.To {
				got[to]++
			}
			ids[parseMail(t, m.Data).Header.Get("Message-Id")]++
		}
		if total != n || len(got) != n || len(ids) != n {
			t.Fatalf("reported %d sent, server saw %d recipients and %d Message-IDs; want %d each", total, len(got), len(ids), n)
		}
		for to, c := range got {
			if c != 1 || !want[to] {
				t.Fatalf("%s received %d times", to, c)
			}
		}
		if sent, _ := oB.List(ctx, StateSent, 100); len(sent) != n {
			t.Fatalf("List(sent) has %d rows, want %d", len(sent), n)
		}
	})
}

// A temporary refusal (451) is retried after a backoff that doubles, then delivered;
// the stored error has the code but not the address the server quoted.
func TestMail_TemporaryFailureRetriedWithBackoff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clk := newClock()
		o := newOutbox(t, st, newSealer(t), clk, Options{})
		srv := startSMTP(t, serverConfig{}, nil)
		srv.onRcpt = func(n int, to string) error {
			if n <= 2 {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "mailbox <" + to + "> busy, try later"}
			}
			return nil
		}
		sender := newSender(t, srv.URL("smtp", ""), nil)
		id := enqueue(t, o, st, Message{Template: "test", Locale: "sv", To: anna})
		start := clk.Now()

		if sent, err := o.DeliverDue(ctx, sender); err != nil || sent != 0 {
			t.Fatalf("first pass = %d, %v; want 0", sent, err)
		}
		r := readRow(t, st, id)
		if r.State != StatePending || r.Attempts != 1 || store.Time(r.NextAttemptAt) != start.Add(time.Minute) {
			t.Fatalf("after 451: %+v, want pending, attempt 1, next in 1m", r)
		}
		if !strings.Contains(r.LastError, "451") || !strings.Contains(r.LastError, "4.2.1") || strings.Contains(r.LastError, "anna") {
			t.Fatalf("last_error = %q, want the code without the address", r.LastError)
		}
		if r.RecipientBytes == 0 || r.DataBytes == 0 {
			t.Fatalf("ciphertext dropped before the mail was sent")
		}

		// Not due yet: the server is not even asked.
		if sent, _ := o.DeliverDue(ctx, sender); sent != 0 || srv.RcptCount() != 1 {
			t.Fatalf("pass before the backoff: sent %d, RCPTs %d; want 0, 1", sent, srv.RcptCount())
		}
		clk.Advance(time.Minute)
		if sent, _ := o.DeliverDue(ctx, sender); sent != 0 {
			t.Fatalf("second attempt sent %d, want the second 451", sent)
		}
		if r := readRow(t, st, id); r.Attempts != 2 || store.Time(r.NextAttemptAt) != clk.Now().Add(2*time.Minute) {
			t.Fatalf("after second 451: %+v, want attempt 2, next in 2m", r)
		}
		clk.Advance(2 * time.Minute)
		if sent, err := o.DeliverDue(ctx, sender); err != nil || sent != 1 {
			t.Fatalf("third attempt = %d, %v; want delivered", sent, err)
		}
		if n := len(srv.Messages()); n != 1 {
			t.Fatalf("server received %d messages, want 1", n)
		}
		if r := readRow(t, st, id); r.State != StateSent || r.Attempts != 3 || r.LastError != "" {
			t.Fatalf("row = %+v, want sent after 3 attempts", r)
		}
	})
}

// A permanent refusal (550 at RCPT, 554 after DATA) marks the row failed at once,
// visible in List("failed") with the code and without the address.
func TestMail_PermanentFailureMarkedFailed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clk := newClock()
		o := newOutbox(t, st, newSealer(t), clk, Options{})
		srv := startSMTP(t, serverConfig{}, nil)
		srv.onRcpt = func(_ int, to string) error {
			if strings.HasPrefix(to, "gone") {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + to + ">: no such user"}
			}
			return nil
		}
		srv.onData = func() error {
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "rejected as spam for " + anna}
		}
		sender := newSender(t, srv.URL("smtp", ""), nil)
		gone := enqueue(t, o, st, Message{Template: "test", To: "gone.user@kund.example"})
		spam := enqueue(t, o, st, Message{Template: "test", To: anna})

		if sent, err := o.DeliverDue(ctx, sender); err != nil || sent != 0 {
			t.Fatalf("DeliverDue = %d, %v; want 0", sent, err)
		}
		failed, err := o.List(ctx, StateFailed, 10)
		if err != nil || len(failed) != 2 {
			t.Fatalf("List(failed) = %+v, %v; want both rows", failed, err)
		}
		byID := map[string]Entry{}
		for _, e := range failed {
			byID[e.ID] = e
			if e.Attempts != 1 || !e.FailedAt.Equal(clk.Now()) || strings.Contains(e.LastError, "@") {
				t.Fatalf("failed entry %+v: want one attempt, failed now, no address", e)
			}
		}
		if e := byID[gone]; !strings.Contains(e.LastError, "RCPT TO: 550 5.1.1 (permanent)") {
			t.Fatalf("last_error = %q", e.LastError)
		}
		if e := byID[spam]; !strings.Contains(e.LastError, "DATA: 554 5.7.1 (permanent)") {
			t.Fatalf("last_error = %q", e.LastError)
		}
		clk.Advance(48 * time.Hour)
		if sent, _ := o.DeliverDue(ctx, sender); sent != 0 || srv.RcptCount() != 2 {
			t.Fatalf("failed rows were tried again: sent %d, RCPTs %d", sent, srv.RcptCount())
		}
	})
}

// A message that keeps failing temporarily is marked failed after MaxAttempts, and a
// row whose last allowed sender died is given up when its lease runs out.
func TestMail_OutOfAttemptsMarkedFailed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		clk := newClock()
		o := newOutbox(t, st, newSealer(t), clk, Options{MaxAttempts: 3, Lease: time.Minute})
		srv := startSMTP(t, serverConfig{}, nil)
		srv.onRcpt = func(int, string) error {
			return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "too busy"}
		}
		sender := newSender(t, srv.URL("smtp", ""), nil)
		id := enqueue(t, o, st, Message{Template: "test", To: anna})
		for range 3 {
			o.DeliverDue(ctx, sender)
			clk.Advance(time.Hour)
		}
		if r := readRow(t, st, id); r.State != StateFailed || r.Attempts != 3 || !strings.Contains(r.LastError, "421") {
			t.Fatalf("row = %+v, want failed after 3 attempts", r)
		}

		died := enqueue(t, o, st, Message{Template: "test", To: anna})
		for range 3 {
			if c, err := o.claim(ctx, clk.Now()); err != nil || c == nil {
				t.Fatalf("claim = %v, %v", c, err)
			}
			clk.Advance(time.Minute)
		}
		if sent, err := o.DeliverDue(ctx, sender); err != nil || sent != 0 {
			t.Fatalf("DeliverDue = %d, %v", sent, err)
		}
		if r := readRow(t, st, died); r.State != StateFailed || !strings.Contains(r.LastError, "gave up after 3 attempts") {
			t.Fatalf("row = %+v, want failed after its third sender died", r)
		}
	})
}

// Run delivers as mail arrives (Wake) and returns nil when stopped.
func TestMail_RunDeliversUntilStopped(t *testing.T) {
	st := storetest.SQLite(t)
	o := newOutbox(t, st, newSealer(t), newClock(), Options{Poll: time.Hour})
	srv := startSMTP(t, serverConfig{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx, newSender(t, srv.URL("smtp", ""), nil)) }()

	for i := range 3 {
		enqueue(t, o, st, Message{Template: "test", To: anna})
		o.Wake()
		waitFor(t, func() bool { return len(srv.Messages()) == i+1 })
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil on a clean stop", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
}

// waitFor polls cond; the deadline only guards against a hang.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMail_ListValidatesState(t *testing.T) {
	o := newOutbox(t, storetest.SQLite(t), newSealer(t), newClock(), Options{})
	if _, err := o.List(context.Background(), "done", 10); !errors.Is(err, ErrInvalid) {
		t.Fatalf("List(done) = %v, want ErrInvalid", err)
	}
	if l, err := o.List(context.Background(), "", 0); err != nil || len(l) != 0 {
		t.Fatalf("List on an empty outbox = %v, %v", l, err)
	}
}
