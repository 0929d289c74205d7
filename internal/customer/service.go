package customer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"tillit/internal/nordic"
	"tillit/internal/security"
	"tillit/internal/store"
)

// Service is the register's use cases. It needs the data store, the keystore that
// holds each customer's data key and blind-index keys, and the audit log.
type Service struct {
	st    *store.Store
	ks    *security.Keystore
	audit *security.Audit
	now   func() time.Time
}

// Options tune NewService; the zero value is sensible.
type Options struct {
	Now func() time.Time // the clock; default time.Now
}

// NewService returns the register over st.
func NewService(st *store.Store, ks *security.Keystore, audit *security.Audit, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{st: st, ks: ks, audit: audit, now: opt.Now}
}

const subject = "customer"

// ---- create ----

type sealedField struct {
	field string
	ct    []byte
}

// prepared is a validated, encrypted new customer, ready to insert in a write. The
// customer's data key is made here, outside the write: the keystore commits on its own,
// and on PostgreSQL through the same group writer, which must not be re-entered.
type prepared struct {
	ref                 Ref
	fields              []sealedField
	source              Source
	actor               security.Actor
	identity, email, ph sql.NullString
}

func (s *Service) prepare(ctx context.Context, n NewCustomer) (*prepared, error) {
	at := s.now().UTC()
	n, vals, err := n.validate(at)
	if err != nil {
		return nil, err
	}
	id := store.NewID()
	key, err := s.ks.ForCustomer(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("data key for new customer %s: %w", id, err)
	}
	p := &prepared{
		ref:    Ref{ID: id, Kind: n.Kind, Status: n.Status, Country: n.Country, Language: n.Language, CreatedAt: at.Truncate(time.Microsecond)},
		source: n.Source,
		actor:  security.ActorFrom(ctx),
	}
	if p.fields, err = seal(key, vals); err != nil {
		return nil, err
	}
	p.identity, p.email, p.ph = s.blinds(Customer{Kind: n.Kind, Country: n.Country, IdentityNumber: n.IdentityNumber,
		OrgNumber: n.OrgNumber, Email: n.Email, Phone: n.Phone})
	return p, nil
}

func seal(key *security.CustomerKey, vals values) ([]sealedField, error) {
	names := make([]string, 0, len(vals))
	for k := range vals {
		names = append(names, k)
	}
	slices.Sort(names)
	out := make([]sealedField, 0, len(names))
	for _, f := range names {
		b, err := json.Marshal(vals[f])
		if err != nil {
			return nil, err
		}
		ct, err := key.Encrypt(f, b)
		if err != nil {
			return nil, err
		}
		out = append(out, sealedField{f, ct})
	}
	return out, nil
}

// blinds are the keyed hashes of c's look-up fields. The country is part of the
// identity value: the canonical forms of the three countries could in principle meet.
func (s *Service) blinds(c Customer) (identity, email, phone sql.NullString) {
	switch {
	case c.IdentityNumber != "":
		identity = nullStr(s.identityIndex(c.Country, c.IdentityNumber))
	case c.OrgNumber != "":
		identity = nullStr(s.orgIndex(c.Country, c.OrgNumber))
	}
	if c.Email != "" {
		email = nullStr(s.ks.BlindIndex(security.BlindEmail, c.Email))
	}
	if c.Phone != "" {
		phone = nullStr(s.ks.BlindIndex(security.BlindPhone, c.Phone))
	}
	return
}

func (s *Service) identityIndex(c nordic.Country, canonical string) string {
	return s.ks.BlindIndex(security.BlindIdentityNumber, "person:"+string(c)+":"+canonical)
}

func (s *Service) orgIndex(c nordic.Country, canonical string) string {
	return s.ks.BlindIndex(security.BlindIdentityNumber, "org:"+string(c)+":"+canonical)
}

func nullStr(s string) sql.NullString { return sql.NullString{String: s, Valid: true} }

// insert writes p in tx with its audit entry.
func (s *Service) insert(ctx context.Context, tx store.Tx, p *prepared) (Ref, error) {
	r := p.ref
	at := store.Micros(r.CreatedAt)
	// The number is drawn in the INSERT itself: one statement less on the writer.
	err := tx.QueryRowContext(ctx, `INSERT INTO customers (id, number, kind, status, language, country,
		identity_bidx, email_bidx, phone_bidx, created_at, updated_at)
		VALUES ($1, `+s.nextNumber()+`, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING number`,
		r.ID, r.Kind, r.Status, r.Language, r.Country, p.identity, p.email, p.ph, at).Scan(&r.Number)
	if err != nil {
		return Ref{}, duplicate(err)
	}
	num := r.Number
	var q strings.Builder
	q.WriteString(`INSERT INTO customer_fields (customer_id, field, value, source, actor_kind, actor_id, set_at) VALUES `)
	args := make([]any, 0, 7*len(p.fields))
	for i, f := range p.fields {
		if i > 0 {
			q.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6, n+7)
		args = append(args, r.ID, f.field, f.ct, p.source, p.actor.Kind, p.actor.ID, at)
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return Ref{}, err
	}
	names := make([]string, len(p.fields))
	for i, f := range p.fields {
		names[i] = f.field
	}
	err = s.audit.Record(ctx, tx, security.AuditEntry{Action: "customer.create", SubjectKind: subject, SubjectID: r.ID,
		Detail: detail(map[string]any{"number": num, "source": p.source, "fields": names})})
	return r, err
}

// nextNumber is the SQL expression for the next customer number: a sequence on
// PostgreSQL (its writers run in parallel); MAX+1 on SQLite, whose single writer makes
// it safe and whose UNIQUE index makes it one seek.
func (s *Service) nextNumber() string {
	if s.st.Dialect() == store.Postgres {
		return `nextval('customer_number_seq')`
	}
	return `(SELECT COALESCE(MAX(number), 10000) + 1 FROM customers)`
}

// duplicate names the look-up field whose UNIQUE index refused a row. Both engines
// name the column in their message.
func duplicate(err error) error {
	err = store.Classify(err)
	if !errors.Is(err, store.ErrConflict) {
		return err
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "identity_bidx"):
		return fmt.Errorf("%w (%w)", &DuplicateError{Field: "/identity_number"}, err)
	case strings.Contains(msg, "email_bidx"):
		return fmt.Errorf("%w (%w)", &DuplicateError{Field: "/email"}, err)
	}
	return err
}

func detail(m map[string]any) string {
	b, err := json.Marshal(m)
	if err != nil {
		return ""
	}
	return string(b)
}

// Create validates n, makes the customer's data key, and stores the customer with
// every personal value sealed. Invalid input is a *ValidationError naming each bad
// field, and nothing is written; a taken identity number, org number or e-mail is a
// *DuplicateError. The customer.create audit entry commits with the customer.
func (s *Service) Create(ctx context.Context, n NewCustomer) (Ref, error) {
	p, err := s.prepare(ctx, n)
	if err != nil {
		return Ref{}, err
	}
	var r Ref
	err = s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		r, err = s.insert(ctx, tx, p)
		return err
	})
	return r, err
}

// ---- read ----

type fieldRow struct {
	field string
	ct    []byte
	src   FieldSource
}

type decryptFunc func(field string, ct []byte) ([]byte, error)

// load reads and decrypts customer id through q (the read pool, or a write's tx).
func (s *Service) load(ctx context.Context, q store.Querier, id string, dec decryptFunc) (Customer, []fieldRow, error) {
	c := Customer{ID: id, Sources: map[string]FieldSource{}}
	var ended, erased sql.NullInt64
	var created, updated int64
	err := q.QueryRowContext(ctx, `SELECT number, kind, status, ended_at, erased_at, language, country, created_at, updated_at
		FROM customers WHERE id = $1`, id).Scan(&c.Number, &c.Kind, &c.Status, &ended, &erased, &c.Language, &c.Country, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil, ErrNotFound
	}
	if err != nil {
		return c, nil, store.Classify(err)
	}
	if erased.Valid {
		return c, nil, fmt.Errorf("%w: customer %s (%w)", ErrErased, id, security.ErrShredded)
	}
	c.CreatedAt, c.UpdatedAt = store.Time(created), store.Time(updated)
	if ended.Valid {
		t := store.Time(ended.Int64)
		c.EndedAt = &t
	}
	rows, err := q.QueryContext(ctx, `SELECT field, value, source, actor_kind, actor_id, set_at
		FROM customer_fields WHERE customer_id = $1`, id)
	if err != nil {
		return c, nil, store.Classify(err)
	}
	defer rows.Close()
	var raw []fieldRow
	for rows.Next() {
		var f fieldRow
		var at int64
		if err := rows.Scan(&f.field, &f.ct, &f.src.Source, &f.src.ActorKind, &f.src.ActorID, &at); err != nil {
			return c, nil, err
		}
		f.src.At = store.Time(at)
		raw = append(raw, f)
	}
	if err := rows.Err(); err != nil {
		return c, nil, store.Classify(err)
	}
	for _, f := range raw {
		b, err := dec(f.field, f.ct)
		if err != nil {
			return c, nil, unreadable(id, err)
		}
		if err := c.setField(f.field, b); err != nil {
			return c, nil, fmt.Errorf("customer %s, field %s: %w", id, f.field, err)
		}
		c.Sources["/"+f.field] = f.src
	}
	if c.IdentityNumber != "" {
		if pid, err := nordic.ParsePerson(c.Country, c.IdentityNumber, nordic.Options{On: s.now()}); err == nil && !pid.BirthDate.IsZero() {
			c.BirthDate = pid.BirthDate.Format(time.DateOnly)
		}
	}
	return c, raw, nil
}

// unreadable turns a keystore failure into an error that names the customer.
func unreadable(id string, err error) error {
	if errors.Is(err, security.ErrShredded) {
		return fmt.Errorf("%w: customer %s (%w)", ErrErased, id, err)
	}
	return fmt.Errorf("customer %s: personal data unreadable: %w", id, err)
}

func (c *Customer) setField(field string, b []byte) error {
	var s string
	into := func(v any) error { return json.Unmarshal(b, v) }
	switch field {
	case "name":
		return into(&c.Name)
	case "email":
		return into(&c.Email)
	case "phone":
		return into(&c.Phone)
	case "identity_number":
		return into(&c.IdentityNumber)
	case "org_number":
		return into(&c.OrgNumber)
	case "language", "status":
		return into(&s) // the columns hold the queryable copy; this row holds the source
	case "contacts":
		return into(&c.Contacts)
	}
	if role, ok := strings.CutPrefix(field, "addresses/"); ok {
		var a Address
		if err := into(&a); err != nil {
			return err
		}
		if c.Addresses == nil {
			c.Addresses = map[AddressRole]Address{}
		}
		c.Addresses[AddressRole(role)] = a
		return nil
	}
	return fmt.Errorf("unknown field %q", field)
}

// Get decrypts customer id for the reason given. A customer.read audit entry carrying
// the reason is committed before the data is returned; a read refused for want of a
// reason (ErrReasonRequired), an unknown id (ErrNotFound) or an erased customer
// (ErrErased) returns no data and writes nothing.
func (s *Service) Get(ctx context.Context, id string, why Reason) (Customer, error) {
	if err := why.valid(); err != nil {
		return Customer{}, err
	}
	c, _, err := s.load(ctx, s.st.DB(), id, func(f string, ct []byte) ([]byte, error) {
		return s.ks.Decrypt(ctx, id, f, ct)
	})
	if err != nil {
		return Customer{}, err
	}
	err = s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		return s.audit.Record(ctx, tx, security.AuditEntry{Action: "customer.read", SubjectKind: subject,
			SubjectID: id, Reason: why.String()})
	})
	if err != nil {
		return Customer{}, err
	}
	return c, nil
}

// exists checks id through the read pool before a key is asked for, so that an
// unknown id never gets a data key made for it.
func (s *Service) exists(ctx context.Context, id string) error {
	var one int
	err := s.st.DB().QueryRowContext(ctx, `SELECT 1 FROM customers WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return store.Classify(err)
}

func (s *Service) key(ctx context.Context, id string) (*security.CustomerKey, error) {
	if err := s.exists(ctx, id); err != nil {
		return nil, err
	}
	k, err := s.ks.ForCustomer(ctx, id)
	if err != nil {
		return nil, unreadable(id, err)
	}
	return k, nil
}

// ---- update ----

// Update merges p into customer id's master data. Each changed value records src and
// the actor of ctx; the value it replaces moves, still sealed, to the field's history.
// The change and its customer.update audit entry (with the reason) commit together.
// It returns the customer as stored after the change.
func (s *Service) Update(ctx context.Context, id string, p Patch, src Source, why Reason) (Customer, error) {
	if err := why.valid(); err != nil {
		return Customer{}, err
	}
	if !validSource(src) {
		return Customer{}, &ValidationError{[]FieldError{{"/source", "unknown source"}}}
	}
	key, err := s.key(ctx, id)
	if err != nil {
		return Customer{}, err
	}
	act := security.ActorFrom(ctx)
	var out Customer
	err = s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		cur, raw, err := s.load(ctx, tx, id, key.Decrypt)
		if err != nil {
			return err
		}
		at := s.now().UTC()
		next, vals, err := p.apply(cur, at)
		if err != nil {
			return err
		}
		old := map[string]fieldRow{}
		for _, r := range raw {
			old[r.field] = r
		}
		curVals := cur.values()
		var changed []string
		for f := range old {
			if _, ok := vals[f]; !ok {
				changed = append(changed, f)
			}
		}
		for f, v := range vals {
			if !sameJSON(v, curVals[f]) || old[f].ct == nil {
				changed = append(changed, f)
			}
		}
		slices.Sort(changed)
		us := store.Micros(at)
		for _, f := range changed {
			if o, ok := old[f]; ok {
				if _, err := tx.ExecContext(ctx, `INSERT INTO customer_field_history
					(id, customer_id, field, value, source, actor_kind, actor_id, set_at, replaced_at)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
					store.NewID(), id, f, o.ct, o.src.Source, o.src.ActorKind, o.src.ActorID, store.Micros(o.src.At), us); err != nil {
					return err
				}
			}
			v, ok := vals[f]
			if !ok {
				if _, err := tx.ExecContext(ctx, `DELETE FROM customer_fields WHERE customer_id = $1 AND field = $2`, id, f); err != nil {
					return err
				}
				continue
			}
			sealed, err := seal(key, values{f: v})
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO customer_fields (customer_id, field, value, source, actor_kind, actor_id, set_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT (customer_id, field) DO UPDATE SET value = excluded.value, source = excluded.source,
					actor_kind = excluded.actor_kind, actor_id = excluded.actor_id, set_at = excluded.set_at`,
				id, f, sealed[0].ct, src, act.Kind, act.ID, us); err != nil {
				return err
			}
		}
		identity, email, phone := s.blinds(next)
		var ended sql.NullInt64
		if next.EndedAt != nil {
			ended = sql.NullInt64{Int64: store.Micros(*next.EndedAt), Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE customers SET status = $1, ended_at = $2, language = $3,
			identity_bidx = $4, email_bidx = $5, phone_bidx = $6, updated_at = $7 WHERE id = $8`,
			next.Status, ended, next.Language, identity, email, phone, us, id); err != nil {
			return duplicate(err)
		}
		if err := s.audit.Record(ctx, tx, security.AuditEntry{Action: "customer.update", SubjectKind: subject,
			SubjectID: id, Reason: why.String(), Detail: detail(map[string]any{"source": src, "fields": changed})}); err != nil {
			return err
		}
		out, _, err = s.load(ctx, tx, id, key.Decrypt)
		return err
	})
	if err != nil {
		return Customer{}, err
	}
	return out, nil
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// ---- history ----

// validField reports whether f names a stored field.
func validField(f string) bool {
	switch f {
	case "name", "email", "phone", "identity_number", "org_number", "language", "status", "contacts":
		return true
	}
	role, ok := strings.CutPrefix(f, "addresses/")
	return ok && slices.Contains(AddressRoles, AddressRole(role))
}

// History returns a field's earlier values, newest first, each with the source it had.
// Like Get it needs a reason and commits a customer.history.read audit entry before
// returning anything. field is a stored field's name: "email", "addresses/invoice".
func (s *Service) History(ctx context.Context, id, field string, why Reason) ([]HistoryEntry, error) {
	if err := why.valid(); err != nil {
		return nil, err
	}
	if !validField(field) {
		return nil, &ValidationError{[]FieldError{{"field", "unknown field"}}}
	}
	if err := s.exists(ctx, id); err != nil {
		return nil, err
	}
	rows, err := s.st.DB().QueryContext(ctx, `SELECT value, source, actor_kind, actor_id, set_at, replaced_at
		FROM customer_field_history WHERE customer_id = $1 AND field = $2 ORDER BY replaced_at DESC, id DESC`, id, field)
	if err != nil {
		return nil, store.Classify(err)
	}
	defer rows.Close()
	var out []HistoryEntry
	for rows.Next() {
		var ct []byte
		var h HistoryEntry
		var set, repl int64
		if err := rows.Scan(&ct, &h.Source.Source, &h.Source.ActorKind, &h.Source.ActorID, &set, &repl); err != nil {
			return nil, err
		}
		b, err := s.ks.Decrypt(ctx, id, field, ct)
		if err != nil {
			return nil, unreadable(id, err)
		}
		h.Value, h.Source.At, h.ReplacedAt = b, store.Time(set), store.Time(repl)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, store.Classify(err)
	}
	err = s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		return s.audit.Record(ctx, tx, security.AuditEntry{Action: "customer.history.read", SubjectKind: subject,
			SubjectID: id, Reason: why.String(), Detail: detail(map[string]any{"field": field})})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ---- look-ups ----

const maxMatches = 50

func (s *Service) match(ctx context.Context, col string, keys []string) ([]Match, error) {
	if len(keys) == 0 {
		return []Match{}, nil
	}
	ph := make([]string, len(keys))
	args := make([]any, len(keys))
	for i, k := range keys {
		ph[i], args[i] = "$"+strconv.Itoa(i+1), k
	}
	rows, err := s.st.DB().QueryContext(ctx, `SELECT id, number, kind FROM customers WHERE `+col+
		` IN (`+strings.Join(ph, ", ")+`) ORDER BY number LIMIT `+strconv.Itoa(maxMatches), args...)
	if err != nil {
		return nil, store.Classify(err)
	}
	defer rows.Close()
	out := []Match{}
	for rows.Next() {
		var m Match
		if err := rows.Scan(&m.ID, &m.Number, &m.Kind); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, store.Classify(rows.Err())
}

func badQuery(field, msg string) error { return &ValidationError{[]FieldError{{field, msg}}} }

// FindByEmail finds the customer whose primary e-mail is exactly email (after
// normalisation), through its blind index. It returns no personal data.
func (s *Service) FindByEmail(ctx context.Context, email string) ([]Match, error) {
	n, err := security.NormalizeEmail(email)
	if err != nil {
		return nil, badQuery("email", "not an e-mail address")
	}
	return s.match(ctx, "email_bidx", []string{s.ks.BlindIndex(security.BlindEmail, n)})
}

// FindByPhone finds customers with this phone number. A number without a country code
// is tried as Swedish, Danish and Norwegian.
func (s *Service) FindByPhone(ctx context.Context, phone string) ([]Match, error) {
	var keys []string
	for _, c := range []nordic.Country{nordic.SE, nordic.DK, nordic.NO} {
		if n, err := security.NormalizePhone(phone, callingCode[c]); err == nil {
			if k := s.ks.BlindIndex(security.BlindPhone, n); !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return nil, badQuery("phone", "not a telephone number")
	}
	return s.match(ctx, "phone_bidx", keys)
}

// FindByIdentityNumber finds the person with this identity number, read as a number of
// each country it is valid in.
func (s *Service) FindByIdentityNumber(ctx context.Context, number string) ([]Match, error) {
	var keys []string
	for _, c := range []nordic.Country{nordic.SE, nordic.DK, nordic.NO} {
		if id, err := nordic.ParsePerson(c, number, nordic.Options{On: s.now()}); err == nil {
			keys = append(keys, s.identityIndex(c, id.Canonical))
		}
	}
	if len(keys) == 0 {
		return nil, badQuery("identity_number", "not a valid Swedish, Danish or Norwegian identity number")
	}
	return s.match(ctx, "identity_bidx", keys)
}

// FindByOrgNumber finds the company with this organisation number.
func (s *Service) FindByOrgNumber(ctx context.Context, number string) ([]Match, error) {
	var keys []string
	for _, c := range []nordic.Country{nordic.SE, nordic.DK, nordic.NO} {
		if id, err := nordic.ParseOrg(c, number); err == nil {
			keys = append(keys, s.orgIndex(c, id.Canonical))
		}
	}
	if len(keys) == 0 {
		return nil, badQuery("org_number", "not a valid Swedish, Danish or Norwegian organisation number")
	}
	return s.match(ctx, "identity_bidx", keys)
}

// FindByNumber finds the customer with this customer number.
func (s *Service) FindByNumber(ctx context.Context, number int64) ([]Match, error) {
	rows, err := s.st.DB().QueryContext(ctx, `SELECT id, number, kind FROM customers WHERE number = $1`, number)
	if err != nil {
		return nil, store.Classify(err)
	}
	defer rows.Close()
	out := []Match{}
	for rows.Next() {
		var m Match
		if err := rows.Scan(&m.ID, &m.Number, &m.Kind); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, store.Classify(rows.Err())
}

// ---- notes ----

const maxNote = 20000

type preparedNote struct {
	note  Note
	ct    []byte
	actor security.Actor
}

func (s *Service) prepareNote(ctx context.Context, id string, n Note) (*preparedNote, error) {
	var v validator
	if !slices.Contains(Channels, n.Channel) {
		v.add("/channel", "must be email, phone or meeting")
	}
	if strings.TrimSpace(n.Text) == "" {
		v.add("/text", "is required")
	} else if len([]rune(n.Text)) > maxNote {
		v.add("/text", "must be at most %d characters", maxNote)
	}
	if n.Source == "" {
		n.Source = SourceStaff
	}
	if !validSource(n.Source) {
		v.add("/source", "unknown source")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	key, err := s.key(ctx, id)
	if err != nil {
		return nil, err
	}
	n.ID, n.CustomerID, n.CreatedAt = store.NewID(), id, s.now().UTC().Truncate(time.Microsecond)
	ct, err := key.Encrypt("notes/"+n.ID, []byte(n.Text))
	if err != nil {
		return nil, unreadable(id, err)
	}
	return &preparedNote{note: n, ct: ct, actor: security.ActorFrom(ctx)}, nil
}

func (s *Service) insertNote(ctx context.Context, tx store.Tx, p *preparedNote) (Note, error) {
	n := p.note
	_, err := tx.ExecContext(ctx, `INSERT INTO customer_notes (id, customer_id, channel, body, source, actor_kind, actor_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, n.ID, n.CustomerID, n.Channel, p.ct, n.Source, p.actor.Kind, p.actor.ID, store.Micros(n.CreatedAt))
	if err != nil {
		return Note{}, store.Classify(err)
	}
	err = s.audit.Record(ctx, tx, security.AuditEntry{Action: "customer.note.add", SubjectKind: subject, SubjectID: n.CustomerID,
		Detail: detail(map[string]any{"note": n.ID, "channel": n.Channel})})
	n.Text = "" // what is returned (and, through an Idempotency-Key, stored) carries no personal data
	return n, err
}

// AddNote keeps a note from mail, a phone call or a meeting with the customer, sealed
// with their key (K6). The returned Note has no text.
func (s *Service) AddNote(ctx context.Context, id string, n Note) (Note, error) {
	p, err := s.prepareNote(ctx, id, n)
	if err != nil {
		return Note{}, err
	}
	var out Note
	err = s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		out, err = s.insertNote(ctx, tx, p)
		return err
	})
	return out, err
}

// Notes returns customer id's notes, newest first, for the reason given (audited as
// customer.notes.read before they are returned).
func (s *Service) Notes(ctx context.Context, id string, why Reason) ([]Note, error) {
	if err := why.valid(); err != nil {
		return nil, err
	}
	if err := s.exists(ctx, id); err != nil {
		return nil, err
	}
	rows, err := s.st.DB().QueryContext(ctx, `SELECT id, channel, body, source, created_at FROM customer_notes
		WHERE customer_id = $1 ORDER BY created_at DESC, id DESC`, id)
	if err != nil {
		return nil, store.Classify(err)
	}
	defer rows.Close()
	var out []Note
	for rows.Next() {
		var n Note
		var ct []byte
		var at int64
		if err := rows.Scan(&n.ID, &n.Channel, &ct, &n.Source, &at); err != nil {
			return nil, err
		}
		b, err := s.ks.Decrypt(ctx, id, "notes/"+n.ID, ct)
		if err != nil {
			return nil, unreadable(id, err)
		}
		n.CustomerID, n.Text, n.CreatedAt = id, string(b), store.Time(at)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, store.Classify(err)
	}
	err = s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		return s.audit.Record(ctx, tx, security.AuditEntry{Action: "customer.notes.read", SubjectKind: subject,
			SubjectID: id, Reason: why.String()})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
