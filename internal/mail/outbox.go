package mail

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"net/url"
	"strings"
	"time"

	"tillit/internal/store"
)

// Sealer encrypts the address and data of an outbox row. The mail-outbox cipher of the
// master key, (*security.MasterKey).AEAD("mail-outbox"), is one.
type Sealer interface {
	Seal(plaintext, aad []byte) ([]byte, error)
	Open(ciphertext, aad []byte) ([]byte, error)
}

// Message is a mail to send. Only ids, a link token and other small values belong in
// Data; the text comes from the template.
type Message struct {
	Template string            // a directory under templates/, e.g. "login-link"
	Locale   string            // sv, da, nb or en; "" means en
	To       string            // one address; a display name is dropped
	Data     map[string]string // the template's dot; sealed in the row
}

// States of an outbox row.
const (
	StatePending = "pending" // waiting for its next attempt
	StateSending = "sending" // held by a sender until its lease runs out
	StateSent    = "sent"    // accepted by the SMTP server; address and data erased
	StateFailed  = "failed"  // refused for good, or out of attempts
)

// ErrInvalid means Enqueue refused the message; the error says which part is wrong.
var ErrInvalid = errors.New("mail: invalid message")

// Limits on Data, which is meant for ids and tokens, not text.
const (
	maxDataKeys  = 32
	maxDataBytes = 8 << 10
)

// Options tune an Outbox. The zero value is sensible.
type Options struct {
	// Now is the clock; default time.Now. Tests move it instead of sleeping.
	Now func() time.Time
	// Logger receives one line per delivery event; never an address or a body.
	// Default: discard.
	Logger *slog.Logger
	// MaxAttempts caps how often a message is tried before it is marked failed;
	// default 10 (about four hours of backoff).
	MaxAttempts int
	// Lease is how long a sender holds a row. If the sender dies, the row is due again
	// when the lease runs out. A send is abandoned after half the lease, so a live
	// sender never outlasts its lease. Default 5 minutes.
	Lease time.Duration
	// Poll is how often Run looks for due rows when nothing wakes it; default 5s.
	Poll time.Duration
}

// Backoff after a temporary failure: one minute, doubling, at most an hour.
const (
	backoffBase = time.Minute
	backoffMax  = time.Hour
)

// Outbox is the transactional mail outbox. Rooms Enqueue inside their own Write; Run
// (or DeliverDue) renders and sends. It is safe for concurrent use, and any number
// of Outboxes, in one process or many, may deliver from the same database.
type Outbox struct {
	st          *store.Store
	sealer      Sealer
	tmpl        *templateSet
	q           queries
	now         func() time.Time
	log         *slog.Logger
	maxAttempts int
	lease       time.Duration
	poll        time.Duration
	wake        chan struct{}
}

// NewOutbox prepares an outbox on st. It fails only if the embedded templates or
// queries are broken, which the package's tests rule out.
func NewOutbox(st *store.Store, s Sealer, opts Options) (*Outbox, error) {
	if st == nil || s == nil {
		return nil, errors.New("mail: NewOutbox needs a store and a sealer")
	}
	tmpl, err := loadTemplates(templateFiles)
	if err != nil {
		return nil, err
	}
	q, err := loadQueries(queriesSQL)
	if err != nil {
		return nil, err
	}
	o := &Outbox{
		st: st, sealer: s, tmpl: tmpl, q: q,
		now: opts.Now, log: opts.Logger, maxAttempts: opts.MaxAttempts,
		lease: opts.Lease, poll: opts.Poll,
		wake: make(chan struct{}, 1),
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	if o.maxAttempts <= 0 {
		o.maxAttempts = 10
	}
	if o.lease <= 0 {
		o.lease = 5 * time.Minute
	}
	if o.poll <= 0 {
		o.poll = 5 * time.Second
	}
	return o, nil
}

// Templates lists the template names Enqueue accepts.
func (o *Outbox) Templates() []string { return o.tmpl.names() }

// Enqueue adds m to the outbox inside the caller's Write, so the mail exists if and
// only if the caller's change commits. It checks everything that can be checked now
// (template, locale, address, the data the template needs) and returns an error
// wrapping ErrInvalid otherwise; such errors never quote the address or data values.
// The address and data are stored sealed. Call Wake after the Write returns for a
// prompt delivery.
func (o *Outbox) Enqueue(ctx context.Context, tx store.Tx, m Message) (string, error) {
	locale, to, err := o.validate(m)
	if err != nil {
		return "", err
	}
	data := m.Data
	if data == nil {
		data = map[string]string{}
	}
	plain, err := json.Marshal(data)
	if err != nil {
		return "", fmt.Errorf("mail: encode data: %w", err)
	}
	id := store.NewID()
	rcpt, err := o.sealer.Seal([]byte(to), aad(id, "recipient"))
	if err != nil {
		return "", fmt.Errorf("mail: seal recipient: %w", err)
	}
	sealed, err := o.sealer.Seal(plain, aad(id, "data"))
	if err != nil {
		return "", fmt.Errorf("mail: seal data: %w", err)
	}
	now := store.Micros(o.now())
	if _, err := tx.ExecContext(ctx, o.q.insert, id, m.Template, locale, rcpt, sealed, now); err != nil {
		return "", fmt.Errorf("mail: enqueue: %w", err)
	}
	return id, nil
}

func (o *Outbox) validate(m Message) (locale, to string, err error) {
	if !o.tmpl.has(m.Template) {
		return "", "", fmt.Errorf("%w: unknown template %q (have %s)", ErrInvalid, m.Template, strings.Join(o.tmpl.names(), ", "))
	}
	locale = strings.ToLower(strings.TrimSpace(m.Locale))
	if locale == "" {
		locale = fallbackLocale
	}
	known := false
	for _, l := range locales {
		known = known || l == locale
	}
	if !known {
		return "", "", fmt.Errorf("%w: locale %q: want sv, da, nb or en", ErrInvalid, m.Locale)
	}
	addr, err := netmail.ParseAddress(m.To)
	if err != nil || strings.ContainsAny(addr.Address, "\r\n") {
		return "", "", fmt.Errorf("%w: the recipient is not a valid email address", ErrInvalid)
	}
	if len(m.Data) > maxDataKeys {
		return "", "", fmt.Errorf("%w: data has %d keys, at most %d", ErrInvalid, len(m.Data), maxDataKeys)
	}
	size := 0
	for k, v := range m.Data {
		if k == "" {
			return "", "", fmt.Errorf("%w: data has an empty key", ErrInvalid)
		}
		size += len(k) + len(v)
	}
	if size > maxDataBytes {
		return "", "", fmt.Errorf("%w: data holds %d bytes, at most %d: send ids and tokens, not text", ErrInvalid, size, maxDataBytes)
	}
	if link, ok := m.Data["link"]; ok {
		u, err := url.Parse(link)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return "", "", fmt.Errorf("%w: data key \"link\" must be an absolute http or https URL", ErrInvalid)
		}
	}
	// Rendering now catches a key the template needs but the data lacks, so a mail
	// that cannot be rendered is refused here rather than failing at send time.
	if _, _, _, err := o.tmpl.render(m.Template, locale, m.Data); err != nil {
		return "", "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return locale, addr.Address, nil
}

// Wake makes Run look for due rows now rather than at its next poll. Call it after the
// Write that enqueued has returned.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Sender delivers one rendered message. An error that should not be retried (the
// server refused the recipient or the message for good) is a *SendError with
// Permanent set; any other error is retried with backoff.
type Sender interface {
	Send(ctx context.Context, msg *Rendered) error
}

// Run delivers due mail until ctx is done, then returns nil. Database errors are
// logged and retried at the next poll.
func (o *Outbox) Run(ctx context.Context, s Sender) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-o.wake:
		}
		if _, err := o.DeliverDue(ctx, s); err != nil && ctx.Err() == nil {
			o.log.Warn("mail delivery pass failed", "error", err)
		}
		t.Reset(o.poll)
	}
}

// DeliverDue sends every row that is due now, one at a time, and returns how many
// the server accepted. Failed attempts are recorded on their rows, not returned; the
// error is for the database or ctx. Rows that become due during the pass wait for
// the next one.
func (o *Outbox) DeliverDue(ctx context.Context, s Sender) (sent int, err error) {
	cutoff := o.now()
	for {
		if err := ctx.Err(); err != nil {
			return sent, err
		}
		c, err := o.claim(ctx, cutoff)
		if err != nil || c == nil {
			return sent, err
		}
		ok, err := o.deliver(ctx, s, c)
		if err != nil {
			return sent, err
		}
		if ok {
			sent++
		}
	}
}

// claimed is a row held for one attempt.
type claimed struct {
	id, template, locale string
	recipient, data      []byte
	attempt              int
}

// claim takes the oldest row due at cutoff, or returns nil when none is. Each Write
// touches one row, so concurrent senders on PostgreSQL never deadlock.
func (o *Outbox) claim(ctx context.Context, cutoff time.Time) (*claimed, error) {
	due := store.Micros(cutoff)
	for {
		var c *claimed
		again, gaveUp := false, ""
		err := o.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			c, again, gaveUp = nil, false, ""
			var id string
			var attempts int
			err := tx.QueryRowContext(ctx, o.q.next, due).Scan(&id, &attempts)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			now := o.now()
			again = true
			if attempts >= o.maxAttempts {
				// The sender of the last allowed attempt stopped without a verdict.
				_, err := tx.ExecContext(ctx, o.q.giveUp, id, store.Micros(now), due,
					fmt.Sprintf("gave up after %d attempts; the last sender stopped before it finished", attempts))
				gaveUp = id
				return err
			}
			cl := claimed{id: id}
			err = tx.QueryRowContext(ctx, o.q.claim, id, store.Micros(now.Add(o.lease)), due).
				Scan(&cl.template, &cl.locale, &cl.recipient, &cl.data, &cl.attempt)
			if errors.Is(err, sql.ErrNoRows) {
				return nil // another sender took it first; look again
			}
			if err != nil {
				return err
			}
			c, again = &cl, false
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("mail: claim: %w", err)
		}
		if gaveUp != "" {
			o.log.Warn("mail failed", "mail_id", gaveUp, "error", "out of attempts")
		}
		if c != nil || !again {
			return c, nil
		}
	}
}

// deliver opens, renders and sends one claimed row and records the outcome. ok is
// true when the server accepted it; err is only for failing to record an outcome.
func (o *Outbox) deliver(ctx context.Context, s Sender, c *claimed) (ok bool, err error) {
	log := o.log.With("mail_id", c.id, "template", c.template, "attempt", c.attempt)
	r, to, err := o.open(c)
	if err != nil {
		return false, o.recordFailure(ctx, log, c, "", err)
	}
	sctx, cancel := context.WithTimeout(ctx, o.lease/2)
	err = s.Send(sctx, r)
	cancel()
	r = nil // the body lives only for the send
	if err == nil {
		if err := o.markSent(ctx, c); err != nil {
			log.Error("mail sent but not marked; it will be sent again with the same Message-ID", "error", err)
			return false, err
		}
		log.Info("mail sent")
		return true, nil
	}
	if ctx.Err() != nil {
		// Stopping: hand the row back at once rather than wait for the lease.
		wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer wcancel()
		return false, o.exec(wctx, o.q.retry, c.id, c.attempt, store.Micros(o.now()), "interrupted by shutdown")
	}
	return false, o.recordFailure(ctx, log, c, to, err)
}

// open decrypts the row and renders its message.
func (o *Outbox) open(c *claimed) (*Rendered, string, error) {
	to, err := o.sealer.Open(c.recipient, aad(c.id, "recipient"))
	if err != nil {
		// A wrong or replaced master key: temporary, so an operator can restore it.
		return nil, "", &SendError{Stage: "open", Err: errors.New("cannot decrypt the recipient; was the master key replaced?")}
	}
	plain, err := o.sealer.Open(c.data, aad(c.id, "data"))
	if err != nil {
		return nil, string(to), &SendError{Stage: "open", Err: errors.New("cannot decrypt the data; was the master key replaced?")}
	}
	var data map[string]string
	if err := json.Unmarshal(plain, &data); err != nil {
		return nil, string(to), &SendError{Stage: "open", Permanent: true, Err: errors.New("data is not a JSON object of strings")}
	}
	subject, text, html, err := o.tmpl.render(c.template, c.locale, data)
	if err != nil {
		// The template was removed or changed after the row was written.
		return nil, string(to), &SendError{Stage: "render", Permanent: true, Err: err}
	}
	return &Rendered{ID: c.id, To: string(to), Locale: c.locale, Subject: subject, Text: text, HTML: html}, string(to), nil
}

func (o *Outbox) markSent(ctx context.Context, c *claimed) error {
	// The server has the message: recording that must not be cut short by shutdown,
	// and a short database outage is worth waiting out, since failing here means a
	// second copy later.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var err error
	for wait := 100 * time.Millisecond; ; wait *= 4 {
		err = o.exec(wctx, o.q.markSent, c.id, store.Micros(o.now()), []byte{})
		if err == nil || !errors.Is(err, store.ErrUnavailable) {
			return err
		}
		select {
		case <-wctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

func (o *Outbox) recordFailure(ctx context.Context, log *slog.Logger, c *claimed, to string, sendErr error) error {
	msg := safeError(sendErr, to)
	permanent := false
	var se *SendError
	if errors.As(sendErr, &se) {
		permanent = se.Permanent
	}
	now := o.now()
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if permanent || c.attempt >= o.maxAttempts {
		if err := o.exec(wctx, o.q.markFailed, c.id, c.attempt, store.Micros(now), msg); err != nil {
			return err
		}
		log.Warn("mail failed", "error", msg, "permanent", permanent)
		return nil
	}
	next := now.Add(backoff(c.attempt))
	if err := o.exec(wctx, o.q.retry, c.id, c.attempt, store.Micros(next), msg); err != nil {
		return err
	}
	log.Info("mail deferred", "error", msg, "retry_at", next)
	return nil
}

func (o *Outbox) exec(ctx context.Context, query string, args ...any) error {
	err := o.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("mail: record outcome: %w", err)
	}
	return nil
}

// backoff is the wait after the attempt-th attempt failed.
func backoff(attempt int) time.Duration {
	d := backoffBase
	for i := 1; i < attempt && d < backoffMax; i++ {
		d *= 2
	}
	return min(d, backoffMax)
}

// aad binds a ciphertext to its row and column, so one moved elsewhere fails to open.
func aad(id, column string) []byte { return []byte("mail_outbox/" + id + "/" + column) }

// Entry is an outbox row as operators see it: no address, no data.
type Entry struct {
	ID            string
	Template      string
	Locale        string
	State         string
	Attempts      int
	CreatedAt     time.Time
	NextAttemptAt time.Time // while sending: when the lease runs out
	LockedUntil   time.Time // zero unless sending
	SentAt        time.Time // zero unless sent
	FailedAt      time.Time // zero unless failed
	LastError     string    // SMTP stage and code, never an address or body
}

// List returns up to limit rows (default 100, at most 1000), newest first, in state
// ("" for all).
func (o *Outbox) List(ctx context.Context, state string, limit int) ([]Entry, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var rows *sql.Rows
	var err error
	switch state {
	case "":
		rows, err = o.st.DB().QueryContext(ctx, o.q.list, limit)
	case StatePending, StateSending, StateSent, StateFailed:
		rows, err = o.st.DB().QueryContext(ctx, o.q.listState, state, limit)
	default:
		return nil, fmt.Errorf("%w: state %q: want pending, sending, sent or failed", ErrInvalid, state)
	}
	if err != nil {
		return nil, fmt.Errorf("mail: list: %w", store.Classify(err))
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var created, next int64
		var locked, sent, failed sql.NullInt64
		var lastErr sql.NullString
		if err := rows.Scan(&e.ID, &e.Template, &e.Locale, &e.State, &e.Attempts, &created, &next,
			&locked, &sent, &failed, &lastErr); err != nil {
			return nil, fmt.Errorf("mail: list: %w", err)
		}
		e.CreatedAt, e.NextAttemptAt = store.Time(created), store.Time(next)
		e.LockedUntil, e.SentAt, e.FailedAt = optTime(locked), optTime(sent), optTime(failed)
		e.LastError = lastErr.String
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mail: list: %w", store.Classify(err))
	}
	return out, nil
}

func optTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return store.Time(v.Int64)
}

//go:embed queries.sql
var queriesSQL string

type queries struct {
	insert, next, claim, giveUp, markSent, retry, markFailed, list, listState string
}

// loadQueries splits queries.sql at its "-- name:" lines.
func loadQueries(src string) (queries, error) {
	byName := map[string]string{}
	name := ""
	var b strings.Builder
	flush := func() {
		if name != "" {
			byName[name] = strings.TrimSpace(b.String())
		}
		b.Reset()
	}
	for line := range strings.Lines(src) {
		if n, ok := strings.CutPrefix(line, "-- name:"); ok {
			flush()
			name = strings.TrimSpace(n)
			continue
		}
		b.WriteString(line)
	}
	flush()
	var q queries
	for n, dst := range map[string]*string{
		"insert": &q.insert, "next": &q.next, "claim": &q.claim, "give_up": &q.giveUp,
		"mark_sent": &q.markSent, "retry": &q.retry, "mark_failed": &q.markFailed,
		"list": &q.list, "list_state": &q.listState,
	} {
		s, ok := byName[n]
		if !ok || s == "" {
			return queries{}, fmt.Errorf("mail: queries.sql has no query %q", n)
		}
		*dst = s
	}
	return q, nil
}
