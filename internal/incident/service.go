package incident

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the company's zone must resolve on hosts without a zoneinfo database

	"tillit/internal/jobs"
	"tillit/internal/nordic"
	"tillit/internal/policy"
	"tillit/internal/security"
	"tillit/internal/store"
)

// Job kinds this room enqueues or serves.
const (
	// ReminderJobKind is enqueued three times per breach by Record, due at
	// ReminderHours after awareness, args {"incident_id", "hour"}. Its handler is
	// (*Service).ReminderJob; the lead's wrapper mails the owners when it records a
	// reminder (see ReminderJob).
	ReminderJobKind = "incident.breach-reminder"
	// NoticeJobKind is enqueued once per affected customer of a high-risk breach,
	// args {"incident_id", "customer_id"}: the Art. 34 notice to that customer (wired
	// by the lead with the outbox), which calls MarkCustomersNotified when all are sent.
	NoticeJobKind = "incident.art34-notice"
)

// ReminderHours are the hours after awareness at which the owners are reminded of a
// breach that is neither reported nor documented as not reported.
var ReminderHours = []int{24, 48, 66}

// Contact is who the authority may contact for more information (Art. 33(3)(b)):
// the data protection officer or other contact point. Name is a role or a person at
// the company; it is company data, not a data subject's.
type Contact struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

// Options tune NewService; the zero value is sensible.
type Options struct {
	// Country is the company's country: its authority receives reports and its
	// language is the draft's; default SE.
	Country nordic.Country
	// Location is the zone times are shown in in the draft; default the capital's zone
	// of Country.
	Location *time.Location
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Queue, if set, receives the reminder and notice jobs in the same transaction as
	// the change that causes them.
	Queue *jobs.Queue
	// Contact is the contact point named in the Art. 33(3) draft.
	Contact Contact
}

var zones = map[nordic.Country]string{nordic.SE: "Europe/Stockholm", nordic.DK: "Europe/Copenhagen", nordic.NO: "Europe/Oslo"}

// Service is the incident register.
type Service struct {
	st        *store.Store
	audit     *security.Audit
	queue     *jobs.Queue
	country   nordic.Country
	loc       *time.Location
	now       func() time.Time
	contact   Contact
	authority policy.Authority
}

// NewService returns the register over st; audit records every change.
func NewService(st *store.Store, audit *security.Audit, opt Options) (*Service, error) {
	if opt.Country == "" {
		opt.Country = nordic.SE
	}
	auth, ok := policy.AuthorityFor(policy.Country(opt.Country))
	if !ok {
		return nil, fmt.Errorf("incident: no supervisory authority for country %q", opt.Country)
	}
	if opt.Location == nil {
		var err error
		if opt.Location, err = time.LoadLocation(zones[opt.Country]); err != nil {
			return nil, fmt.Errorf("incident: time zone: %w", err)
		}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{st: st, audit: audit, queue: opt.Queue, country: opt.Country, loc: opt.Location, now: opt.Now,
		contact: opt.Contact, authority: auth}, nil
}

const subject = "incident"

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Record registers an incident. For a breach the deadline is nordic.Art33Deadline of
// AwareAt and, with a Queue, the three reminders (ReminderHours) are enqueued in the
// same write. Invalid input is a *ValidationError and nothing is written.
func (s *Service) Record(ctx context.Context, n NewIncident) (Incident, error) {
	i, err := s.prepare(n)
	if err != nil {
		return Incident{}, err
	}
	err = s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error { return s.insert(ctx, tx, &i) })
	if err != nil {
		return Incident{}, err
	}
	return i, nil
}

func (s *Service) prepare(n NewIncident) (Incident, error) {
	var v validator
	now := s.clock()
	oneOf(&v, "/kind", n.Kind, Kinds)
	i := Incident{ID: store.NewID(), Kind: n.Kind, AwareAt: now, CreatedAt: now, UpdatedAt: now, AffectedCustomerIDs: []string{}}
	i.Title = v.Text("/title", n.Title, 200, true)
	if n.AwareAt != nil {
		if n.AwareAt.After(now) {
			v.Add("/aware_at", "must not be in the future")
		}
		i.AwareAt = n.AwareAt.UTC().Truncate(time.Microsecond)
	}
	if n.OccurredAt != nil {
		if n.OccurredAt.After(now) {
			v.Add("/occurred_at", "must not be in the future")
		}
		t := n.OccurredAt.UTC().Truncate(time.Microsecond)
		i.OccurredAt = &t
	}
	i.Nature = v.natures("/nature", n.Nature)
	i.DataCategories = v.categories("/data_categories", n.DataCategories)
	v.count("/approx_people", n.ApproxPeople)
	v.count("/approx_records", n.ApproxRecords)
	i.ApproxPeople, i.ApproxRecords = n.ApproxPeople, n.ApproxRecords
	i.LikelyConsequences = v.Text("/likely_consequences", n.LikelyConsequences, 4000, false)
	i.MeasuresTaken = v.Text("/measures_taken", n.MeasuresTaken, 4000, false)
	i.MeasuresProposed = v.Text("/measures_proposed", n.MeasuresProposed, 4000, false)
	if n.Risk != "" {
		oneOf(&v, "/risk", n.Risk, Risks)
	}
	i.Risk = n.Risk
	if err := v.Err(); err != nil {
		return Incident{}, err
	}
	if i.Kind == KindBreach {
		d := nordic.Art33Deadline(i.AwareAt)
		i.Deadline = &d
		i.Overdue = d.Before(now)
	}
	return i, nil
}

func (s *Service) insert(ctx context.Context, tx store.Tx, i *Incident) error {
	us := store.Micros(i.CreatedAt)
	_, err := tx.ExecContext(ctx, `INSERT INTO incidents (id, kind, title, aware_at, occurred_at, deadline_at, nature,
		data_categories, approx_people, approx_records, likely_consequences, measures_taken, measures_proposed, risk,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)`,
		i.ID, i.Kind, i.Title, store.Micros(i.AwareAt), microsOrNil(i.OccurredAt), microsOrNil(i.Deadline),
		joinNature(i.Nature), strings.Join(i.DataCategories, ","), intOrNil(i.ApproxPeople), intOrNil(i.ApproxRecords),
		i.LikelyConsequences, i.MeasuresTaken, i.MeasuresProposed, riskOrNil(i.Risk), us)
	if err != nil {
		return store.Classify(err)
	}
	det := map[string]any{"kind": i.Kind, "aware_at": i.AwareAt}
	if i.Deadline != nil {
		det["deadline"] = *i.Deadline
	}
	if i.Kind == KindBreach && s.queue != nil {
		for _, h := range ReminderHours {
			if _, err := s.queue.Enqueue(ctx, tx, ReminderJobKind, reminderArgs{IncidentID: i.ID, Hour: h},
				jobs.EnqueueOptions{RunAt: i.AwareAt.Add(time.Duration(h) * time.Hour),
					UniqueKey: ReminderJobKind + ":" + i.ID + ":" + strconv.Itoa(h)}); err != nil {
				return err
			}
		}
	}
	return s.record(ctx, tx, i.ID, "record", det)
}

type reminderArgs struct {
	IncidentID string `json:"incident_id"`
	Hour       int    `json:"hour"`
}

type noticeArgs struct {
	IncidentID string `json:"incident_id"`
	CustomerID string `json:"customer_id"`
}

// record appends the event to the incident's history and the audit log, in tx.
func (s *Service) record(ctx context.Context, tx store.Tx, id, action string, d map[string]any) error {
	det, err := security.AuditDetail(d)
	if err != nil {
		return err
	}
	act := security.ActorFrom(ctx)
	if _, err := tx.ExecContext(ctx, `INSERT INTO incident_events (id, incident_id, at, action, actor_kind, actor_id, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, store.NewID(), id, store.Micros(s.now()), action, act.Kind, act.ID, det); err != nil {
		return err
	}
	return s.audit.Record(ctx, tx, security.AuditEntry{Action: "incident." + action, SubjectKind: subject,
		SubjectID: id, Reason: "incident:" + id, Detail: det})
}

func microsOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return store.Micros(*t)
}

func intOrNil(n *int64) any {
	if n == nil {
		return nil
	}
	return *n
}

func riskOrNil(r Risk) any {
	if r == "" {
		return nil
	}
	return string(r)
}

func joinNature(ns []Nature) string {
	ss := make([]string, len(ns))
	for i, n := range ns {
		ss[i] = string(n)
	}
	return strings.Join(ss, ",")
}

func split(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// ---- reading ----

const cols = `id, kind, title, aware_at, occurred_at, deadline_at, nature, data_categories, approx_people, approx_records,
	likely_consequences, measures_taken, measures_proposed, risk, reported_at, authority, authority_reference,
	no_report_reason, no_report_at, customer_notified_at, closed_at, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func timePtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := store.Time(n.Int64)
	return &t
}

func (s *Service) scan(row scanner) (Incident, error) {
	var i Incident
	var aware, created, updated int64
	var occurred, deadline, people, records, reported, noAt, notified, closed sql.NullInt64
	var nature, cats string
	var risk, authority, ref, noReason sql.NullString
	err := row.Scan(&i.ID, &i.Kind, &i.Title, &aware, &occurred, &deadline, &nature, &cats, &people, &records,
		&i.LikelyConsequences, &i.MeasuresTaken, &i.MeasuresProposed, &risk, &reported, &authority, &ref,
		&noReason, &noAt, &notified, &closed, &created, &updated)
	if err != nil {
		return i, err
	}
	i.AwareAt, i.CreatedAt, i.UpdatedAt = store.Time(aware), store.Time(created), store.Time(updated)
	i.OccurredAt, i.Deadline = timePtr(occurred), timePtr(deadline)
	i.CustomerNotifiedAt, i.ClosedAt = timePtr(notified), timePtr(closed)
	i.Nature = []Nature{}
	for _, n := range split(nature) {
		i.Nature = append(i.Nature, Nature(n))
	}
	i.DataCategories = split(cats)
	if people.Valid {
		i.ApproxPeople = &people.Int64
	}
	if records.Valid {
		i.ApproxRecords = &records.Int64
	}
	i.Risk = Risk(risk.String)
	if reported.Valid {
		i.Report = &Report{At: store.Time(reported.Int64), Authority: authority.String, Reference: ref.String}
	}
	if noReason.Valid {
		i.NoReport = &NoReport{Reason: noReason.String, At: store.Time(noAt.Int64)}
	}
	i.AffectedCustomerIDs = []string{}
	i.Overdue = i.undecided() && i.Deadline != nil && i.Deadline.Before(s.now())
	return i, nil
}

func (s *Service) load(ctx context.Context, q store.Querier, id string) (Incident, error) {
	i, err := s.scan(q.QueryRowContext(ctx, `SELECT `+cols+` FROM incidents WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return i, ErrNotFound
	}
	if err != nil {
		return i, store.Classify(err)
	}
	rows, err := q.QueryContext(ctx, `SELECT customer_id FROM incident_affected WHERE incident_id = $1 ORDER BY customer_id`, id)
	if err != nil {
		return i, store.Classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return i, err
		}
		i.AffectedCustomerIDs = append(i.AffectedCustomerIDs, c)
	}
	return i, store.Classify(rows.Err())
}

// Get returns incident id with its affected customers and its history.
func (s *Service) Get(ctx context.Context, id string) (Incident, error) {
	i, err := s.load(ctx, s.st.DB(), id)
	if err != nil {
		return Incident{}, err
	}
	rows, err := s.st.DB().QueryContext(ctx, `SELECT at, action, actor_kind, actor_id, detail FROM incident_events
		WHERE incident_id = $1 ORDER BY at, id`, id)
	if err != nil {
		return Incident{}, store.Classify(err)
	}
	defer rows.Close()
	i.Events = []Event{}
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&at, &e.Action, &e.ActorKind, &e.ActorID, &e.Detail); err != nil {
			return Incident{}, err
		}
		e.At = store.Time(at)
		i.Events = append(i.Events, e)
	}
	return i, store.Classify(rows.Err())
}

const maxList = 500

// List returns incidents by id (oldest first), filtered, without their affected
// customers and history. It returns up to Limit+1 rows so the caller can tell whether
// there is a next page.
func (s *Service) List(ctx context.Context, f Filter) ([]Incident, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.Open {
		where = append(where, "closed_at IS NULL")
	}
	if f.Overdue {
		where = append(where, "kind = 'breach' AND closed_at IS NULL AND reported_at IS NULL AND no_report_reason IS NULL AND deadline_at < "+
			arg(store.Micros(s.now())))
	}
	if f.Kind != "" {
		where = append(where, "kind = "+arg(string(f.Kind)))
	}
	if f.After != "" {
		where = append(where, "id > "+arg(f.After))
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, maxList)
	q := `SELECT ` + cols + ` FROM incidents`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id LIMIT " + strconv.Itoa(f.Limit+1)
	rows, err := s.st.DB().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, store.Classify(err)
	}
	defer rows.Close()
	out := []Incident{}
	for rows.Next() {
		i, err := s.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, store.Classify(rows.Err())
}

// ---- changes ----

// change runs fn on incident id inside a write, with the row read in the same
// transaction, refuses a closed incident, then bumps updated_at.
func (s *Service) change(ctx context.Context, id string, fn func(ctx context.Context, tx store.Tx, i *Incident, us int64) error) (Incident, error) {
	var out Incident
	err := s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		i, err := s.load(ctx, tx, id)
		if err != nil {
			return err
		}
		if i.ClosedAt != nil {
			return ErrClosed
		}
		us := store.Micros(s.now())
		if err := fn(ctx, tx, &i, us); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET updated_at = $1 WHERE id = $2`, us, id); err != nil {
			return err
		}
		out, err = s.load(ctx, tx, id)
		return err
	})
	if err != nil {
		return Incident{}, err
	}
	return out, nil
}

// Update changes the descriptive fields. Raising the risk of a breach to high queues
// the Art. 34 notices of its affected customers.
func (s *Service) Update(ctx context.Context, id string, p Patch) (Incident, error) {
	var v validator
	set := map[string]any{}
	if p.Title != nil {
		set["title"] = v.Text("/title", *p.Title, 200, true)
	}
	if p.OccurredAt != nil {
		if p.OccurredAt.After(s.now()) {
			v.Add("/occurred_at", "must not be in the future")
		}
		set["occurred_at"] = store.Micros(*p.OccurredAt)
	}
	if p.Nature != nil {
		set["nature"] = joinNature(v.natures("/nature", p.Nature))
	}
	if p.DataCategories != nil {
		set["data_categories"] = strings.Join(v.categories("/data_categories", p.DataCategories), ",")
	}
	if p.ApproxPeople != nil {
		v.count("/approx_people", p.ApproxPeople)
		set["approx_people"] = *p.ApproxPeople
	}
	if p.ApproxRecords != nil {
		v.count("/approx_records", p.ApproxRecords)
		set["approx_records"] = *p.ApproxRecords
	}
	for _, t := range []struct {
		col string
		val *string
	}{{"likely_consequences", p.LikelyConsequences}, {"measures_taken", p.MeasuresTaken}, {"measures_proposed", p.MeasuresProposed}} {
		if t.val != nil {
			set[t.col] = v.Text("/"+t.col, *t.val, 4000, false)
		}
	}
	if p.Risk != nil {
		oneOf(&v, "/risk", *p.Risk, Risks)
		set["risk"] = string(*p.Risk)
	}
	if err := v.Err(); err != nil {
		return Incident{}, err
	}
	return s.change(ctx, id, func(ctx context.Context, tx store.Tx, i *Incident, _ int64) error {
		if len(set) == 0 {
			return nil
		}
		var fields []string
		var args []any
		for _, col := range []string{"title", "occurred_at", "nature", "data_categories", "approx_people", "approx_records",
			"likely_consequences", "measures_taken", "measures_proposed", "risk"} {
			if val, ok := set[col]; ok {
				args = append(args, val)
				fields = append(fields, col+" = $"+strconv.Itoa(len(args)))
			}
		}
		args = append(args, i.ID)
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET `+strings.Join(fields, ", ")+` WHERE id = $`+strconv.Itoa(len(args)), args...); err != nil {
			return err
		}
		names := make([]string, 0, len(fields))
		for _, f := range fields {
			names = append(names, strings.SplitN(f, " ", 2)[0])
		}
		if err := s.record(ctx, tx, i.ID, "update", map[string]any{"fields": names}); err != nil {
			return err
		}
		if p.Risk != nil && *p.Risk == RiskHigh && i.Risk != RiskHigh {
			return s.queueNotices(ctx, tx, i.ID, i.Kind, i.AffectedCustomerIDs)
		}
		return nil
	})
}

// queueNotices enqueues the Art. 34 notice of each customer, once per incident and customer.
func (s *Service) queueNotices(ctx context.Context, tx store.Tx, id string, kind Kind, customers []string) error {
	if kind != KindBreach || s.queue == nil || len(customers) == 0 {
		return nil
	}
	for _, c := range customers {
		if _, err := s.queue.Enqueue(ctx, tx, NoticeJobKind, noticeArgs{IncidentID: id, CustomerID: c},
			jobs.EnqueueOptions{UniqueKey: NoticeJobKind + ":" + id + ":" + c}); err != nil {
			return err
		}
	}
	return s.record(ctx, tx, id, "notices-queued", map[string]any{"customers": len(customers)})
}

// MarkReported records that the breach was notified to the company's supervisory
// authority at at (zero: now) under the authority's reference. A customer-side
// incident cannot be reported (ErrNotBreach).
func (s *Service) MarkReported(ctx context.Context, id, reference string, at time.Time) (Incident, error) {
	var v validator
	reference = v.Text("/reference", reference, 200, true)
	if at.IsZero() {
		at = s.now()
	} else if at.After(s.now()) {
		v.Add("/reported_at", "must not be in the future")
	}
	if err := v.Err(); err != nil {
		return Incident{}, err
	}
	return s.change(ctx, id, func(ctx context.Context, tx store.Tx, i *Incident, _ int64) error {
		switch {
		case i.Kind != KindBreach:
			return ErrNotBreach
		case i.Report != nil:
			return ErrAlreadyReported
		case at.Before(i.AwareAt):
			return &ValidationError{Fields: []FieldError{{Field: "/reported_at", Message: "must not be before the time of awareness"}}}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET reported_at = $1, authority = $2, authority_reference = $3
			WHERE id = $4`, store.Micros(at), string(s.authority.ID), reference, i.ID); err != nil {
			return err
		}
		return s.record(ctx, tx, i.ID, "report", map[string]any{"authority": s.authority.ID, "reference": reference,
			"late": i.Deadline != nil && at.After(*i.Deadline)})
	})
}

// DecideNotToReport documents why a breach is not reported to the authority (it is
// unlikely to result in a risk to the rights and freedoms of people, Art. 33(1)); the
// breach stays documented (Art. 33(5)). Not for a reported breach or a customer-side
// incident.
func (s *Service) DecideNotToReport(ctx context.Context, id, reason string) (Incident, error) {
	var v validator
	reason = v.Text("/reason", reason, 4000, true)
	if err := v.Err(); err != nil {
		return Incident{}, err
	}
	return s.change(ctx, id, func(ctx context.Context, tx store.Tx, i *Incident, us int64) error {
		switch {
		case i.Kind != KindBreach:
			return ErrNotBreach
		case i.Report != nil:
			return ErrAlreadyReported
		}
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET no_report_reason = $1, no_report_at = $2 WHERE id = $3`,
			reason, us, i.ID); err != nil {
			return err
		}
		return s.record(ctx, tx, i.ID, "no-report", nil)
	})
}

// AddAffected records customers whose data the incident involves. For a breach whose
// risk is high their Art. 34 notices are queued. Customers already recorded are
// skipped; an unknown customer is a *ValidationError.
func (s *Service) AddAffected(ctx context.Context, id string, customerIDs []string) (Incident, error) {
	var v validator
	var ids []string
	for _, c := range customerIDs {
		c = strings.TrimSpace(c)
		if c == "" || len(c) > 100 {
			v.Add("/customer_ids", "must hold customer ids")
			break
		}
		ids = append(ids, c)
	}
	if len(ids) == 0 && v.Err() == nil {
		v.Add("/customer_ids", "is required")
	}
	if err := v.Err(); err != nil {
		return Incident{}, err
	}
	return s.change(ctx, id, func(ctx context.Context, tx store.Tx, i *Incident, us int64) error {
		var added []string
		for k, c := range ids {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM customers WHERE id = $1`, c).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return &ValidationError{Fields: []FieldError{{Field: "/customer_ids/" + strconv.Itoa(k), Message: "no such customer"}}}
			} else if err != nil {
				return store.Classify(err)
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO incident_affected (incident_id, customer_id, added_at) VALUES ($1, $2, $3)
				ON CONFLICT (incident_id, customer_id) DO NOTHING`, i.ID, c, us)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err == nil && n > 0 {
				added = append(added, c)
			}
		}
		if len(added) == 0 {
			return nil
		}
		if err := s.record(ctx, tx, i.ID, "affected", map[string]any{"customer_ids": added}); err != nil {
			return err
		}
		if i.Risk == RiskHigh {
			return s.queueNotices(ctx, tx, i.ID, i.Kind, added)
		}
		return nil
	})
}

// MarkCustomersNotified records that the affected customers were told (Art. 34); the
// notice job's wrapper calls it once all notices are sent. A second call keeps the
// first time.
func (s *Service) MarkCustomersNotified(ctx context.Context, id string) (Incident, error) {
	return s.change(ctx, id, func(ctx context.Context, tx store.Tx, i *Incident, us int64) error {
		if i.CustomerNotifiedAt != nil {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET customer_notified_at = $1 WHERE id = $2`, us, i.ID); err != nil {
			return err
		}
		return s.record(ctx, tx, i.ID, "customers-notified", nil)
	})
}

// Close closes the incident. A breach must first be reported or documented as not
// reported (ErrUndocumented).
func (s *Service) Close(ctx context.Context, id string) (Incident, error) {
	return s.change(ctx, id, func(ctx context.Context, tx store.Tx, i *Incident, us int64) error {
		if i.Kind == KindBreach && i.Report == nil && i.NoReport == nil {
			return ErrUndocumented
		}
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET closed_at = $1 WHERE id = $2`, us, i.ID); err != nil {
			return err
		}
		return s.record(ctx, tx, i.ID, "close", nil)
	})
}

// ReminderJob is the handler of ReminderJobKind. For a breach still neither reported
// nor documented as not reported, and not closed, it records a reminder event
// (audited as incident.remind) and returns nil; the lead's wrapper then mails the
// owners (it can tell by Reminded). Otherwise, or for an unknown incident, it does
// nothing.
func (s *Service) ReminderJob(ctx context.Context, job jobs.Job) error {
	_, err := s.Remind(ctx, job)
	return err
}

// Remind is ReminderJob that also says whether a reminder was recorded, so the
// lead's wrapper knows whether to mail the owners.
func (s *Service) Remind(ctx context.Context, job jobs.Job) (bool, error) {
	var a reminderArgs
	if err := json.Unmarshal(job.Args, &a); err != nil || a.IncidentID == "" {
		return false, jobs.Permanent(fmt.Errorf("incident reminder: bad args %s", job.Args))
	}
	reminded := false
	err := s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		reminded = false
		i, err := s.load(ctx, tx, a.IncidentID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil || !i.undecided() {
			return err
		}
		reminded = true
		return s.record(ctx, tx, i.ID, "remind", map[string]any{"hour": a.Hour, "deadline": i.Deadline})
	})
	return reminded, err
}
