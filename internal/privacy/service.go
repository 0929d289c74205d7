package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the company's zone must resolve on hosts without a zoneinfo database

	"tillit/internal/jobs"
	"tillit/internal/nordic"
	"tillit/internal/security"
	"tillit/internal/store"
)

// Job kinds this room enqueues or serves.
const (
	// RemindersJobKind is the periodic job whose handler is (*Service).RemindersJob.
	RemindersJobKind = "privacy.deadline-reminders"
	// ReminderJobKind is enqueued once per request and day by RemindDue, args
	// {"request_id"}: the staff reminder mail (wired by the lead with the outbox).
	ReminderJobKind = "privacy.deadline-reminder"
	// ExtensionNoticeJobKind is enqueued by Extend, args {"request_id"}: the mail that
	// tells the requester of the extension and its reason. Its handler calls
	// MarkExtensionNotified once the notice is sent.
	ExtensionNoticeJobKind = "privacy.extension-notice"
)

// Service is the data-subject request desk.
type Service struct {
	st         *store.Store
	ks         *security.Keystore
	audit      *security.Audit
	queue      *jobs.Queue
	cal        *nordic.Calendar
	loc        *time.Location
	country    nordic.Country
	now        func() time.Time
	remindDays int
	extractors []Extractor
	erasers    []Eraser
}

// Options tune NewService; the zero value is sensible.
type Options struct {
	// Country is the company's country, whose calendar moves deadlines; default SE.
	Country nordic.Country
	// Location is the company's time zone, which decides what "today" is; default
	// the capital's zone of Country.
	Location *time.Location
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Queue, if set, receives the reminder and extension-notice jobs in the same
	// transaction as the change that causes them.
	Queue *jobs.Queue
	// Extractors are the rooms' parts of an access extract (see AddExtractor).
	Extractors []Extractor
	// ReminderWorkingDays is how many working days before the due day staff are
	// reminded; default 5.
	ReminderWorkingDays int
}

var zones = map[nordic.Country]string{nordic.SE: "Europe/Stockholm", nordic.DK: "Europe/Copenhagen", nordic.NO: "Europe/Oslo"}

// NewService returns the request desk over st. ks seals verification notes with the
// customer's key; audit records every change.
func NewService(st *store.Store, ks *security.Keystore, audit *security.Audit, opt Options) (*Service, error) {
	if opt.Country == "" {
		opt.Country = nordic.SE
	}
	cal, err := nordic.NewCalendar(opt.Country)
	if err != nil {
		return nil, fmt.Errorf("privacy: %w", err)
	}
	if opt.Location == nil {
		if opt.Location, err = time.LoadLocation(zones[opt.Country]); err != nil {
			return nil, fmt.Errorf("privacy: time zone: %w", err)
		}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.ReminderWorkingDays <= 0 {
		opt.ReminderWorkingDays = 5
	}
	s := &Service{st: st, ks: ks, audit: audit, queue: opt.Queue, cal: cal, loc: opt.Location, country: opt.Country,
		now: opt.Now, remindDays: opt.ReminderWorkingDays}
	for _, e := range opt.Extractors {
		if err := s.AddExtractor(e); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Today is the company's calendar day now.
func (s *Service) Today() nordic.Date { return nordic.DateOf(s.now().In(s.loc)) }

const subject = "privacy_request"

// Receive registers a request. Its deadline is Art. 12(3)'s one month from
// ReceivedOn on the company's calendar (nordic.Art12Deadline). Invalid input is a
// *ValidationError and nothing is written.
func (s *Service) Receive(ctx context.Context, n NewRequest) (Request, error) {
	r, err := s.prepare(ctx, n)
	if err != nil {
		return Request{}, err
	}
	err = s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error { return s.insert(ctx, tx, &r) })
	return r, err
}

func (s *Service) prepare(ctx context.Context, n NewRequest) (Request, error) {
	var v validator
	oneOf(&v, "/kind", n.Kind, Kinds)
	oneOf(&v, "/channel", n.Channel, Channels)
	ref := v.Text("/reference", n.Reference, 200, false)
	today := s.Today()
	received := today
	if n.ReceivedOn != "" {
		d, err := parseDate(n.ReceivedOn)
		switch {
		case err != nil:
			v.Add("/received_on", "must be a date YYYY-MM-DD")
		case d.After(today):
			v.Add("/received_on", "must not be in the future")
		default:
			received = d
		}
	}
	n.CustomerID = strings.TrimSpace(n.CustomerID)
	if n.CustomerID != "" {
		if err := s.customerExists(ctx, n.CustomerID); errors.Is(err, ErrNotFound) {
			v.Add("/customer_id", "no such customer")
		} else if err != nil {
			return Request{}, err
		}
	}
	if err := v.Err(); err != nil {
		return Request{}, err
	}
	at := s.now().UTC().Truncate(time.Microsecond)
	dl := nordic.Art12Deadline(received, s.cal)
	return Request{ID: store.NewID(), Kind: n.Kind, CustomerID: n.CustomerID, Channel: n.Channel, Reference: ref,
		ReceivedOn: received.String(), State: StateReceived, Deadline: dl.String(), Target: nordic.Art12Target(received).String(),
		DueOn: dl.String(), Overdue: dl.Before(today), CreatedAt: at, UpdatedAt: at}, nil
}

func (s *Service) insert(ctx context.Context, tx store.Tx, r *Request) error {
	us := store.Micros(r.CreatedAt)
	_, err := tx.ExecContext(ctx, `INSERT INTO privacy_requests (id, kind, customer_id, channel, reference, received_on,
		state, deadline, due_on, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $9)`,
		r.ID, r.Kind, nullable(r.CustomerID), r.Channel, r.Reference, r.ReceivedOn, r.State, r.Deadline, us)
	if err != nil {
		return store.Classify(err)
	}
	return s.record(ctx, tx, r.ID, "receive", map[string]any{"kind": r.Kind, "channel": r.Channel,
		"customer_id": r.CustomerID, "received_on": r.ReceivedOn, "deadline": r.Deadline})
}

// record appends the event to the request's history and the audit log, in tx.
func (s *Service) record(ctx context.Context, tx store.Tx, id, action string, d map[string]any) error {
	det, err := security.AuditDetail(d)
	if err != nil {
		return err
	}
	act := security.ActorFrom(ctx)
	if _, err := tx.ExecContext(ctx, `INSERT INTO privacy_request_events (id, request_id, at, action, actor_kind, actor_id, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, store.NewID(), id, store.Micros(s.now()), action, act.Kind, act.ID, det); err != nil {
		return err
	}
	return s.audit.Record(ctx, tx, security.AuditEntry{Action: "privacy.request." + action, SubjectKind: subject,
		SubjectID: id, Reason: "request:" + id, Detail: det})
}

func nullable(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func (s *Service) customerExists(ctx context.Context, id string) error {
	var one int
	err := s.st.DB().QueryRowContext(ctx, `SELECT 1 FROM customers WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return store.Classify(err)
}

// ---- reading ----

const requestCols = `id, kind, customer_id, channel, reference, received_on, state, deadline, extended_deadline, due_on,
	extension_reason, extended_at, extension_notified_at, verification_method, verification_note, verified_by_kind,
	verified_by_id, verified_at, refusal_reason, complaint_authority, completed_at, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

// scan reads one row of requestCols; the sealed note comes back apart.
func (s *Service) scan(row scanner) (Request, []byte, error) {
	var r Request
	var cust, extDl, extReason, method, byKind, byID, refusal, authority sql.NullString
	var extAt, notAt, verAt, doneAt sql.NullInt64
	var note []byte
	var created, updated int64
	err := row.Scan(&r.ID, &r.Kind, &cust, &r.Channel, &r.Reference, &r.ReceivedOn, &r.State, &r.Deadline, &extDl, &r.DueOn,
		&extReason, &extAt, &notAt, &method, &note, &byKind, &byID, &verAt, &refusal, &authority, &doneAt, &created, &updated)
	if err != nil {
		return r, nil, err
	}
	r.CustomerID = cust.String
	r.CreatedAt, r.UpdatedAt = store.Time(created), store.Time(updated)
	if rec, err := parseDate(r.ReceivedOn); err == nil {
		r.Target = nordic.Art12Target(rec).String()
	}
	if extDl.Valid {
		r.Extension = &Extension{Reason: extReason.String, Deadline: extDl.String, At: store.Time(extAt.Int64)}
		if notAt.Valid {
			t := store.Time(notAt.Int64)
			r.Extension.NotifiedAt = &t
		}
	}
	if method.Valid {
		r.Verification = &Verification{Method: Method(method.String), ByKind: byKind.String, ByID: byID.String, At: store.Time(verAt.Int64)}
	}
	if r.State == StateRefused {
		r.Refusal = &Refusal{Reason: refusal.String, RightToComplain: authorityByCode(authority.String), TextKey: ComplaintTextKey}
	}
	if doneAt.Valid {
		t := store.Time(doneAt.Int64)
		r.CompletedAt = &t
	}
	r.Overdue = !r.State.Final() && r.DueOn < s.Today().String()
	return r, note, nil
}

func (s *Service) load(ctx context.Context, q store.Querier, id string) (Request, []byte, error) {
	r, note, err := s.scan(q.QueryRowContext(ctx, `SELECT `+requestCols+` FROM privacy_requests WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil, ErrNotFound
	}
	return r, note, store.Classify(err)
}

// Get returns request id with its history and the verification note decrypted.
// Because the note is personal data, the read is audited (privacy.request.read).
func (s *Service) Get(ctx context.Context, id string) (Request, error) {
	r, note, err := s.load(ctx, s.st.DB(), id)
	if err != nil {
		return Request{}, err
	}
	if len(note) > 0 && r.Verification != nil {
		// After an erasure the customer's key is shredded and the note with it; the
		// request itself stays readable as the record of what was done.
		b, err := s.ks.Decrypt(ctx, r.CustomerID, noteField(id), note)
		if err != nil && !errors.Is(err, security.ErrShredded) {
			return Request{}, fmt.Errorf("privacy request %s: verification note unreadable: %w", id, err)
		}
		r.Verification.Note = string(b)
	}
	rows, err := s.st.DB().QueryContext(ctx, `SELECT at, action, actor_kind, actor_id, detail FROM privacy_request_events
		WHERE request_id = $1 ORDER BY at, id`, id)
	if err != nil {
		return Request{}, store.Classify(err)
	}
	defer rows.Close()
	r.Events = []Event{}
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&at, &e.Action, &e.ActorKind, &e.ActorID, &e.Detail); err != nil {
			return Request{}, err
		}
		e.At = store.Time(at)
		r.Events = append(r.Events, e)
	}
	if err := rows.Err(); err != nil {
		return Request{}, store.Classify(err)
	}
	err = s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		return s.audit.Record(ctx, tx, security.AuditEntry{Action: "privacy.request.read", SubjectKind: subject,
			SubjectID: id, Reason: "request:" + id})
	})
	if err != nil {
		return Request{}, err
	}
	return r, nil
}

const maxList = 500

// List returns requests by id (oldest first), filtered; Overdue selects open
// requests whose due day has passed. It returns up to Limit+1 rows so the caller can
// tell whether there is a next page. No personal data is in the answer.
func (s *Service) List(ctx context.Context, f Filter) ([]Request, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.State != "" {
		where = append(where, "state = "+arg(f.State))
	}
	if f.Kind != "" {
		where = append(where, "kind = "+arg(f.Kind))
	}
	if f.CustomerID != "" {
		where = append(where, "customer_id = "+arg(f.CustomerID))
	}
	if f.Overdue {
		where = append(where, "state NOT IN ('completed', 'refused') AND due_on < "+arg(s.Today().String()))
	}
	if f.After != "" {
		where = append(where, "id > "+arg(f.After))
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, maxList)
	q := `SELECT ` + requestCols + ` FROM privacy_requests`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id LIMIT " + strconv.Itoa(f.Limit+1)
	rows, err := s.st.DB().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, store.Classify(err)
	}
	defer rows.Close()
	out := []Request{}
	for rows.Next() {
		r, _, err := s.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, store.Classify(rows.Err())
}

// Overdue lists every open request whose due day (the extended deadline when
// extended) is before today, most overdue first.
func (s *Service) Overdue(ctx context.Context, today nordic.Date) ([]Request, error) {
	rows, err := s.st.DB().QueryContext(ctx, `SELECT `+requestCols+` FROM privacy_requests
		WHERE state NOT IN ('completed', 'refused') AND due_on < $1 ORDER BY due_on, id`, today.String())
	if err != nil {
		return nil, store.Classify(err)
	}
	defer rows.Close()
	out := []Request{}
	for rows.Next() {
		r, _, err := s.scan(rows)
		if err != nil {
			return nil, err
		}
		r.Overdue = true
		out = append(out, r)
	}
	return out, store.Classify(rows.Err())
}

// ---- transitions ----

// TransitionError says why a request cannot take a step from its state.
type TransitionError struct {
	From State
	Step string
	Why  error // ErrWrongState or ErrIdentityNotVerified
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("cannot %s a request that is %s: %v", e.Step, e.From, e.Why)
}

func (e *TransitionError) Unwrap() error { return e.Why }

// change runs fn on request id inside a write, with the row read in the same
// transaction, then bumps updated_at.
func (s *Service) change(ctx context.Context, id string, fn func(ctx context.Context, tx store.Tx, r *Request, us int64) error) (Request, error) {
	var out Request
	err := s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		r, _, err := s.load(ctx, tx, id)
		if err != nil {
			return err
		}
		us := store.Micros(s.now())
		if err := fn(ctx, tx, &r, us); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE privacy_requests SET updated_at = $1 WHERE id = $2`, us, id); err != nil {
			return err
		}
		out, _, err = s.load(ctx, tx, id)
		return err
	})
	if err != nil {
		return Request{}, err
	}
	return out, nil
}

// VerifyIdentity records how and by whom (the actor of ctx) the requester's identity
// was verified (R2). A request not yet matched to a customer must be matched here
// (customerID); the note, which may hold personal data, is sealed with that
// customer's key. Only a received request can be verified.
func (s *Service) VerifyIdentity(ctx context.Context, id string, method Method, note, customerID string) (Request, error) {
	var v validator
	oneOf(&v, "/method", method, Methods)
	note = v.Text("/note", note, 1000, method == MethodOther)
	if err := v.Err(); err != nil {
		return Request{}, err
	}
	cur, _, err := s.load(ctx, s.st.DB(), id)
	if err != nil {
		return Request{}, err
	}
	customerID = strings.TrimSpace(customerID)
	switch {
	case customerID == "" && cur.CustomerID == "":
		return Request{}, &ValidationError{Fields: []FieldError{{Field: "/customer_id", Message: "the request is not matched to a customer yet: name the verified customer"}}}
	case customerID != "" && cur.CustomerID != "" && customerID != cur.CustomerID:
		return Request{}, &ValidationError{Fields: []FieldError{{Field: "/customer_id", Message: "the request is already matched to another customer"}}}
	case customerID == "":
		customerID = cur.CustomerID
	}
	if err := s.customerExists(ctx, customerID); errors.Is(err, ErrNotFound) {
		return Request{}, &ValidationError{Fields: []FieldError{{Field: "/customer_id", Message: "no such customer"}}}
	} else if err != nil {
		return Request{}, err
	}
	var sealed []byte
	if note != "" {
		// Sealed outside the write: the keystore commits on its own.
		if sealed, err = s.ks.Encrypt(ctx, customerID, noteField(id), []byte(note)); err != nil {
			return Request{}, fmt.Errorf("privacy request %s: seal verification note: %w", id, err)
		}
	}
	act := security.ActorFrom(ctx)
	return s.change(ctx, id, func(ctx context.Context, tx store.Tx, r *Request, us int64) error {
		if r.State != StateReceived {
			return &TransitionError{r.State, "verify the identity of", ErrWrongState}
		}
		if r.CustomerID != "" && r.CustomerID != customerID {
			return &ValidationError{Fields: []FieldError{{Field: "/customer_id", Message: "the request is already matched to another customer"}}}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE privacy_requests SET state = $1, customer_id = $2, verification_method = $3,
			verification_note = $4, verified_by_kind = $5, verified_by_id = $6, verified_at = $7 WHERE id = $8`,
			StateIdentityVerified, customerID, method, sealed, act.Kind, act.ID, us, id); err != nil {
			return err
		}
		return s.record(ctx, tx, id, "verify", map[string]any{"method": method, "customer_id": customerID})
	})
}

func noteField(id string) string { return "privacy/verification/" + id }

// Start marks a request in progress. Kinds that release or change data need the
// identity verified first (R2); an objection or a consent withdrawal may start at once.
func (s *Service) Start(ctx context.Context, id string) (Request, error) {
	return s.change(ctx, id, func(ctx context.Context, tx store.Tx, r *Request, us int64) error {
		switch {
		case r.State == StateIdentityVerified:
		case r.State == StateReceived && r.Kind.needsIdentity():
			return &TransitionError{r.State, "start", ErrIdentityNotVerified}
		case r.State != StateReceived:
			return &TransitionError{r.State, "start", ErrWrongState}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE privacy_requests SET state = $1 WHERE id = $2`, StateInProgress, id); err != nil {
			return err
		}
		return s.record(ctx, tx, id, "start", nil)
	})
}

// Complete closes a request as answered. A request of a kind that needs identity
// cannot be completed before its identity was verified (R2).
func (s *Service) Complete(ctx context.Context, id string) (Request, error) {
	r, _, err := s.load(ctx, s.st.DB(), id)
	if err != nil {
		return Request{}, err
	}
	if !r.State.Final() && (r.State != StateReceived || !r.Kind.needsIdentity()) {
		// The rooms' erasures run first and outside the request's write: they commit on
		// their own (a key destroyed in the keystore cannot be part of this transaction).
		if err := s.erase(ctx, r); err != nil {
			return Request{}, err
		}
	}
	return s.change(ctx, id, func(ctx context.Context, tx store.Tx, r *Request, us int64) error {
		switch {
		case r.State == StateIdentityVerified || r.State == StateInProgress:
		case r.State == StateReceived && r.Kind.needsIdentity():
			return &TransitionError{r.State, "complete", ErrIdentityNotVerified}
		case r.State != StateReceived:
			return &TransitionError{r.State, "complete", ErrWrongState}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE privacy_requests SET state = $1, completed_at = $2 WHERE id = $3`,
			StateCompleted, us, id); err != nil {
			return err
		}
		return s.record(ctx, tx, id, "complete", nil)
	})
}

// Refuse closes a request unanswered, with the reason (e.g. the identity could not be
// verified, or the request is manifestly unfounded). The refusal carries the right to
// complain to the supervisory authority of the company's country (Art. 12(4)).
func (s *Service) Refuse(ctx context.Context, id, reason string) (Request, error) {
	var v validator
	reason = v.Text("/reason", reason, 1000, true)
	if err := v.Err(); err != nil {
		return Request{}, err
	}
	auth := authorities[s.country]
	return s.change(ctx, id, func(ctx context.Context, tx store.Tx, r *Request, us int64) error {
		if r.State.Final() {
			return &TransitionError{r.State, "refuse", ErrWrongState}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE privacy_requests SET state = $1, refusal_reason = $2, complaint_authority = $3,
			completed_at = $4 WHERE id = $5`, StateRefused, reason, auth.Code, us, id); err != nil {
			return err
		}
		return s.record(ctx, tx, id, "refuse", map[string]any{"authority": auth.Code})
	})
}

// Extend moves the deadline by two further months (Art. 12(3), nordic.Art12Extended)
// for the reason given. It is allowed only within the first month, that is on or
// before the original deadline, and once. The requester must be told of the extension
// and its reason within that month: with a Queue, an ExtensionNoticeJobKind job is
// enqueued in the same transaction; MarkExtensionNotified records that it was sent.
func (s *Service) Extend(ctx context.Context, id, reason string) (Request, error) {
	var v validator
	reason = v.Text("/reason", reason, 1000, true)
	if err := v.Err(); err != nil {
		return Request{}, err
	}
	today := s.Today()
	return s.change(ctx, id, func(ctx context.Context, tx store.Tx, r *Request, us int64) error {
		if r.State.Final() {
			return &TransitionError{r.State, "extend", ErrWrongState}
		}
		if r.Extension != nil {
			return ErrAlreadyExtended
		}
		if today.String() > r.Deadline {
			return ErrExtensionTooLate
		}
		received, err := parseDate(r.ReceivedOn)
		if err != nil {
			return err
		}
		ext := nordic.Art12Extended(received, s.cal).String()
		if _, err := tx.ExecContext(ctx, `UPDATE privacy_requests SET extended_deadline = $1, due_on = $1, extension_reason = $2,
			extended_at = $3 WHERE id = $4`, ext, reason, us, id); err != nil {
			return err
		}
		if s.queue != nil {
			if _, err := s.queue.Enqueue(ctx, tx, ExtensionNoticeJobKind, map[string]string{"request_id": id},
				jobs.EnqueueOptions{UniqueKey: ExtensionNoticeJobKind + ":" + id}); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, id, "extend", map[string]any{"extended_deadline": ext})
	})
}

// MarkExtensionNotified records that the requester was told of the extension and
// its reason (the extension-notice mail was sent, or staff confirm they told them).
// It is idempotent: a second call keeps the first time.
func (s *Service) MarkExtensionNotified(ctx context.Context, id string) (Request, error) {
	return s.change(ctx, id, func(ctx context.Context, tx store.Tx, r *Request, us int64) error {
		if r.Extension == nil {
			return &TransitionError{r.State, "mark the extension notice of", ErrWrongState}
		}
		if r.Extension.NotifiedAt != nil {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE privacy_requests SET extension_notified_at = $1 WHERE id = $2`, us, id); err != nil {
			return err
		}
		return s.record(ctx, tx, id, "extension-notified", nil)
	})
}

// ---- reminders ----

// RemindDue reminds staff of every open request due within ReminderWorkingDays
// working days of today, or already overdue: once per request and day, recorded in
// privacy_reminders and the request's history, audited, and with a Queue enqueued as
// a ReminderJobKind job for the mail. It returns how many reminders it made; running
// it again on the same day makes none.
func (s *Service) RemindDue(ctx context.Context, today nordic.Date) (int, error) {
	horizon := today
	for i := 0; i < s.remindDays; {
		horizon = horizon.AddDays(1)
		if s.cal.IsWorkingDay(horizon) {
			i++
		}
	}
	rows, err := s.st.DB().QueryContext(ctx, `SELECT id, due_on FROM privacy_requests
		WHERE state NOT IN ('completed', 'refused') AND due_on <= $1 ORDER BY due_on, id`, horizon.String())
	if err != nil {
		return 0, store.Classify(err)
	}
	type due struct{ id, on string }
	var all []due
	for rows.Next() {
		var d due
		if err := rows.Scan(&d.id, &d.on); err != nil {
			rows.Close()
			return 0, err
		}
		all = append(all, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, store.Classify(err)
	}
	n := 0
	err = s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		n = 0
		for _, d := range all {
			res, err := tx.ExecContext(ctx, `INSERT INTO privacy_reminders (request_id, on_day, due_on, created_at)
				VALUES ($1, $2, $3, $4) ON CONFLICT (request_id, on_day) DO NOTHING`, d.id, today.String(), d.on, store.Micros(s.now()))
			if err != nil {
				return err
			}
			if k, err := res.RowsAffected(); err != nil || k == 0 {
				continue
			}
			if s.queue != nil {
				if _, err := s.queue.Enqueue(ctx, tx, ReminderJobKind, map[string]string{"request_id": d.id},
					jobs.EnqueueOptions{UniqueKey: ReminderJobKind + ":" + d.id + ":" + today.String()}); err != nil {
					return err
				}
			}
			if err := s.record(ctx, tx, d.id, "remind", map[string]any{"due_on": d.on, "overdue": d.on < today.String()}); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// RemindersJob is the handler of the periodic RemindersJobKind job: RemindDue for
// the company's today.
func (s *Service) RemindersJob(ctx context.Context, _ jobs.Job) error {
	_, err := s.RemindDue(ctx, s.Today())
	return err
}
