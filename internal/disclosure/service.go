package disclosure

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

	"tillit/internal/policy"
	"tillit/internal/security"
	"tillit/internal/store"
)

// Options tune NewService; the zero value is sensible.
type Options struct {
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Service is the recipient register and the disclosure log.
type Service struct {
	st    *store.Store
	audit *security.Audit
	now   func() time.Time
}

// NewService returns the register over st; audit records every change and disclosure.
func NewService(st *store.Store, audit *security.Audit, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{st: st, audit: audit, now: opt.Now}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// ---- the register (D1) ----

// check validates the whole recipient r in place (after a create or a patch): the
// transfer basis is required outside the EU/EEA and is none inside it.
func (v *validator) check(r *Recipient) {
	r.Name = v.text("/name", r.Name, 200, true)
	oneOf(v, "/role", r.Role, Roles)
	r.Country = v.country("/country", r.Country)
	r.AgreementDate = v.date("/agreement_date", r.AgreementDate)
	r.AllowedFields = v.idents("/allowed_fields", r.AllowedFields)
	r.Purposes = v.idents("/purposes", r.Purposes)
	if r.TransferBasis != "" {
		oneOf(v, "/transfer_basis", r.TransferBasis, TransferBases)
	}
	if countryRE.MatchString(r.Country) {
		if policy.InEEA(policy.Country(r.Country)) {
			r.TransferBasis = TransferNone // no Chapter V transfer
		} else if r.TransferBasis == "" || r.TransferBasis == TransferNone {
			v.Add("/transfer_basis", "is required for a recipient outside the EU/EEA: adequacy, scc, bcr or derogation")
		}
	}
}

func (s *Service) prepare(n NewRecipient) (Recipient, error) {
	now := s.clock()
	r := Recipient{ID: store.NewID(), Name: n.Name, Role: n.Role, Country: n.Country, TransferBasis: n.TransferBasis,
		AgreementDate: n.AgreementDate, AllowedFields: n.AllowedFields, Purposes: n.Purposes, CreatedAt: now, UpdatedAt: now}
	var v validator
	v.check(&r)
	if err := v.Err(); err != nil {
		return Recipient{}, err
	}
	return r, nil
}

// Register adds a recipient. Invalid input is a *ValidationError and nothing is
// written. Audited as disclosure.recipient-create.
func (s *Service) Register(ctx context.Context, n NewRecipient) (Recipient, error) {
	r, err := s.prepare(n)
	if err != nil {
		return Recipient{}, err
	}
	if err := s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error { return s.insert(ctx, tx, &r) }); err != nil {
		return Recipient{}, err
	}
	return r, nil
}

func (s *Service) insert(ctx context.Context, tx store.Tx, r *Recipient) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO recipients (id, name, role, country, transfer_basis, agreement_date,
		allowed_fields, purposes, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
		r.ID, r.Name, string(r.Role), r.Country, string(r.TransferBasis), r.AgreementDate,
		strings.Join(r.AllowedFields, ","), strings.Join(r.Purposes, ","), store.Micros(r.CreatedAt))
	if err != nil {
		return store.Classify(err)
	}
	return s.record(ctx, tx, "recipient", r.ID, "recipient-create", "recipient:"+r.ID, map[string]any{
		"name": r.Name, "role": r.Role, "country": r.Country, "transfer_basis": r.TransferBasis,
		"allowed_fields": r.AllowedFields, "purposes": r.Purposes})
}

// record writes the audit entry of action (prefixed disclosure.) in tx.
func (s *Service) record(ctx context.Context, tx store.Tx, kind, id, action, reason string, d map[string]any) error {
	det := ""
	if len(d) > 0 {
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		det = string(b)
	}
	return s.audit.Record(ctx, tx, security.AuditEntry{Action: "disclosure." + action, SubjectKind: kind,
		SubjectID: id, Reason: reason, Detail: det})
}

const cols = `id, name, role, country, transfer_basis, agreement_date, allowed_fields, purposes, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func split(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func scan(row scanner) (Recipient, error) {
	var r Recipient
	var fields, purposes string
	var created, updated int64
	err := row.Scan(&r.ID, &r.Name, &r.Role, &r.Country, &r.TransferBasis, &r.AgreementDate, &fields, &purposes, &created, &updated)
	if err != nil {
		return r, err
	}
	r.AllowedFields, r.Purposes = split(fields), split(purposes)
	r.CreatedAt, r.UpdatedAt = store.Time(created), store.Time(updated)
	return r, nil
}

func load(ctx context.Context, q store.Querier, id string) (Recipient, error) {
	r, err := scan(q.QueryRowContext(ctx, `SELECT `+cols+` FROM recipients WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, store.Classify(err)
}

// Get returns recipient id.
func (s *Service) Get(ctx context.Context, id string) (Recipient, error) {
	return load(ctx, s.st.DB(), id)
}

const maxList = 500

// List returns recipients by id after the cursor after; it returns up to limit+1 rows
// (default 50, at most 500) so the caller can tell whether there is a next page.
func (s *Service) List(ctx context.Context, after string, limit int) ([]Recipient, error) {
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, maxList)
	rows, err := s.st.DB().QueryContext(ctx, `SELECT `+cols+` FROM recipients WHERE id > $1 ORDER BY id LIMIT `+
		strconv.Itoa(limit+1), after)
	if err != nil {
		return nil, store.Classify(err)
	}
	defer rows.Close()
	out := []Recipient{}
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, store.Classify(rows.Err())
}

// Update applies p to recipient id and validates the result as a whole (changing the
// country to one outside the EU/EEA needs a transfer basis). Audited as
// disclosure.recipient-update with the names of the changed fields and the new lists.
func (s *Service) Update(ctx context.Context, id string, p Patch) (Recipient, error) {
	var out Recipient
	err := s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		r, err := load(ctx, tx, id)
		if err != nil {
			return err
		}
		old := r
		if p.Name != nil {
			r.Name = *p.Name
		}
		if p.Role != nil {
			r.Role = *p.Role
		}
		if p.Country != nil {
			r.Country = *p.Country
		}
		if p.TransferBasis != nil {
			r.TransferBasis = *p.TransferBasis
		}
		if p.AgreementDate != nil {
			r.AgreementDate = *p.AgreementDate
		}
		if p.AllowedFields != nil {
			r.AllowedFields = p.AllowedFields
		}
		if p.Purposes != nil {
			r.Purposes = p.Purposes
		}
		var v validator
		v.check(&r)
		if err := v.Err(); err != nil {
			return err
		}
		var changed []string
		for _, c := range []struct {
			name string
			same bool
		}{{"name", r.Name == old.Name}, {"role", r.Role == old.Role}, {"country", r.Country == old.Country},
			{"transfer_basis", r.TransferBasis == old.TransferBasis}, {"agreement_date", r.AgreementDate == old.AgreementDate},
			{"allowed_fields", slices.Equal(r.AllowedFields, old.AllowedFields)}, {"purposes", slices.Equal(r.Purposes, old.Purposes)}} {
			if !c.same {
				changed = append(changed, c.name)
			}
		}
		if len(changed) == 0 {
			out = old
			return nil
		}
		r.UpdatedAt = s.clock()
		if _, err := tx.ExecContext(ctx, `UPDATE recipients SET name = $1, role = $2, country = $3, transfer_basis = $4,
			agreement_date = $5, allowed_fields = $6, purposes = $7, updated_at = $8 WHERE id = $9`,
			r.Name, string(r.Role), r.Country, string(r.TransferBasis), r.AgreementDate, strings.Join(r.AllowedFields, ","),
			strings.Join(r.Purposes, ","), store.Micros(r.UpdatedAt), r.ID); err != nil {
			return store.Classify(err)
		}
		out = r
		return s.record(ctx, tx, "recipient", r.ID, "recipient-update", "recipient:"+r.ID, map[string]any{
			"fields": changed, "country": r.Country, "transfer_basis": r.TransferBasis,
			"allowed_fields": r.AllowedFields, "purposes": r.Purposes})
	})
	if err != nil {
		return Recipient{}, err
	}
	return out, nil
}

// ---- the disclosure log (D2) ----

// Disclose is the one way customer data leaves for a third party: call it before
// sending d.Fields to the recipient. It refuses, writing nothing, a recipient not in
// the register (ErrUnknownRecipient), an unknown customer (ErrUnknownCustomer), no
// fields (ErrNoFields), any field not on the recipient's allow-list
// (ErrFieldNotAllowed, naming the fields), a purpose the recipient is not registered
// for (ErrPurposeNotAllowed) and a missing or unknown basis (ErrNoBasis); the errors
// wrap these sentinels. Otherwise it logs the field names (never the values), the
// recipient, purpose, basis, actor (from ctx, security.WithActor) and time, audited
// as disclosure.send on the customer, and returns the record with Send: the fields,
// filtered to the allow-list, for the caller to send.
func (s *Service) Disclose(ctx context.Context, d Disclosure) (Record, error) {
	if d.Basis.Kind == "" {
		return Record{}, ErrNoBasis
	}
	if !slices.Contains(BasisKinds, d.Basis.Kind) {
		return Record{}, fmt.Errorf("%w: unknown basis kind %q", ErrNoBasis, d.Basis.Kind)
	}
	var v validator
	ref := v.text("/basis/ref", d.Basis.Ref, 200, false)
	if err := v.Err(); err != nil {
		return Record{}, err
	}
	if len(d.Fields) == 0 {
		return Record{}, ErrNoFields
	}
	purpose := strings.TrimSpace(d.Purpose)
	act := security.ActorFrom(ctx)
	rec := Record{ID: store.NewID(), RecipientID: d.RecipientID, CustomerID: d.CustomerID, Purpose: purpose,
		Basis: Basis{Kind: d.Basis.Kind, Ref: ref}, ActorKind: act.Kind, ActorID: act.ID, At: s.clock()}
	err := s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		r, err := load(ctx, tx, d.RecipientID)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: %q", ErrUnknownRecipient, d.RecipientID)
		} else if err != nil {
			return err
		}
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM customers WHERE id = $1`, d.CustomerID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %q", ErrUnknownCustomer, d.CustomerID)
		} else if err != nil {
			return store.Classify(err)
		}
		var names, refused []string
		send := make(map[string]string, len(d.Fields))
		for name, val := range d.Fields {
			if !slices.Contains(r.AllowedFields, name) {
				refused = append(refused, name)
				continue
			}
			names = append(names, name)
			send[name] = val
		}
		if len(refused) > 0 {
			slices.Sort(refused)
			return fmt.Errorf("%w: %s may not receive %s", ErrFieldNotAllowed, r.Name, strings.Join(quote(refused), ", "))
		}
		if !slices.Contains(r.Purposes, purpose) {
			return fmt.Errorf("%w: %s is not registered for purpose %q", ErrPurposeNotAllowed, r.Name, purpose)
		}
		slices.Sort(names)
		rec.RecipientName, rec.Fields, rec.Send = r.Name, names, send
		if _, err := tx.ExecContext(ctx, `INSERT INTO disclosures (id, recipient_id, customer_id, fields, purpose, basis_kind,
			basis_ref, actor_kind, actor_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			rec.ID, r.ID, d.CustomerID, strings.Join(names, ","), purpose, string(rec.Basis.Kind), rec.Basis.Ref,
			rec.ActorKind, rec.ActorID, store.Micros(rec.At)); err != nil {
			return store.Classify(err)
		}
		return s.record(ctx, tx, "customer", d.CustomerID, "send", purpose, map[string]any{
			"disclosure_id": rec.ID, "recipient_id": r.ID, "fields": names, "purpose": purpose,
			"basis": rec.Basis.Kind, "basis_ref": rec.Basis.Ref})
	})
	if err != nil {
		return Record{}, err
	}
	return rec, nil
}

func quote(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strconv.Quote(x)
	}
	return out
}

// ForCustomer lists the disclosures of customer customerID, oldest first, with the
// recipient's current name; field names only. An unknown customer is
// ErrUnknownCustomer.
func (s *Service) ForCustomer(ctx context.Context, customerID string) ([]Record, error) {
	var one int
	err := s.st.DB().QueryRowContext(ctx, `SELECT 1 FROM customers WHERE id = $1`, customerID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUnknownCustomer
	} else if err != nil {
		return nil, store.Classify(err)
	}
	rows, err := s.st.DB().QueryContext(ctx, `SELECT d.id, d.recipient_id, r.name, d.customer_id, d.fields, d.purpose,
		d.basis_kind, d.basis_ref, d.actor_kind, d.actor_id, d.at FROM disclosures d JOIN recipients r ON r.id = d.recipient_id
		WHERE d.customer_id = $1 ORDER BY d.at, d.id`, customerID)
	if err != nil {
		return nil, store.Classify(err)
	}
	defer rows.Close()
	out := []Record{}
	for rows.Next() {
		var x Record
		var fields string
		var at int64
		if err := rows.Scan(&x.ID, &x.RecipientID, &x.RecipientName, &x.CustomerID, &fields, &x.Purpose, &x.Basis.Kind,
			&x.Basis.Ref, &x.ActorKind, &x.ActorID, &at); err != nil {
			return nil, err
		}
		x.Fields, x.At = split(fields), store.Time(at)
		out = append(out, x)
	}
	return out, store.Classify(rows.Err())
}
