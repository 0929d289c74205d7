package policy

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"tillit/internal/security"
	"tillit/internal/store"
)

// Method is how a customer accepted a policy version (P4).
type Method string

// Acceptance methods.
const (
	MethodPortalClick    Method = "portal_click"
	MethodSignedContract Method = "signed_contract"
	MethodStaffPhone     Method = "staff_phone"
	MethodEmail          Method = "email"
	MethodAPI            Method = "api"
)

// Methods lists the acceptance methods.
var Methods = []Method{MethodPortalClick, MethodSignedContract, MethodStaffPhone, MethodEmail, MethodAPI}

// Acceptance records that a customer accepted document Doc of policy version
// Version at AcceptedAt, by Method, with a reference to the evidence (P4). It holds
// the customer's id only, no personal data.
type Acceptance struct {
	ID          string    `json:"id"`
	CustomerID  string    `json:"customer_id"`
	Version     int       `json:"version"`
	Doc         DocKind   `json:"doc"`
	AcceptedAt  time.Time `json:"accepted_at"`
	Method      Method    `json:"method"`
	EvidenceRef string    `json:"evidence_ref,omitempty"`
	// RecordedBy is the actor that recorded the acceptance, "kind:id" (e.g.
	// "staff:…", "token:…"); set by Record.
	RecordedBy string    `json:"recorded_by"`
	RecordedAt time.Time `json:"recorded_at"`
}

// AcceptanceError is an invalid acceptance; Field names the member (customer_id,
// version, doc, method, evidence_ref, accepted_at).
type AcceptanceError struct {
	Field   string
	Message string
}

func (e *AcceptanceError) Error() string { return "acceptance: " + e.Field + ": " + e.Message }

// ErrNoAcceptance means the customer has accepted no version of the document (by
// the time asked about), so no version governs under "governs_existing: accepted".
var ErrNoAcceptance = errors.New("the customer has accepted no version of this document")

// maxEvidenceRef bounds evidence_ref: a reference, not the evidence itself.
const maxEvidenceRef = 200

// Acceptances records and reads acceptances of policy versions.
type Acceptances struct {
	st       *store.Store
	audit    *security.Audit
	versions *Versions
	now      func() time.Time
}

// NewAcceptances returns the acceptance register; audit may be nil in tests, now nil
// for time.Now.
func NewAcceptances(st *store.Store, audit *security.Audit, versions *Versions, now func() time.Time) *Acceptances {
	if now == nil {
		now = time.Now
	}
	return &Acceptances{st: st, audit: audit, versions: versions, now: now}
}

// prepare validates a and fills in its id, times and recorder; the version is
// checked in the transaction (insert).
func (s *Acceptances) prepare(ctx context.Context, a Acceptance) (Acceptance, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	a.CustomerID = strings.TrimSpace(a.CustomerID)
	a.EvidenceRef = strings.TrimSpace(a.EvidenceRef)
	switch {
	case a.CustomerID == "" || len(a.CustomerID) > 100:
		return a, &AcceptanceError{"customer_id", "a customer id is required (at most 100 characters)"}
	case a.Version < 1:
		return a, &AcceptanceError{"version", "a published version number (1 or more) is required"}
	case a.Doc != DocTerms && a.Doc != DocPrivacy:
		return a, &AcceptanceError{"doc", "must be terms or privacy"}
	case !slices.Contains(Methods, a.Method):
		return a, &AcceptanceError{"method", "must be portal_click, signed_contract, staff_phone, email or api"}
	case !utf8.ValidString(a.EvidenceRef) || utf8.RuneCountInString(a.EvidenceRef) > maxEvidenceRef:
		return a, &AcceptanceError{"evidence_ref", fmt.Sprintf("at most %d characters", maxEvidenceRef)}
	case a.AcceptedAt.After(now.Add(5 * time.Minute)):
		return a, &AcceptanceError{"accepted_at", "lies in the future"}
	}
	if a.AcceptedAt.IsZero() {
		a.AcceptedAt = now
	}
	a.AcceptedAt = a.AcceptedAt.UTC().Truncate(time.Microsecond)
	act := security.ActorFrom(ctx)
	a.ID, a.RecordedAt, a.RecordedBy = store.NewID(), now, act.Kind+":"+act.ID
	return a, nil
}

// insert stores a prepared acceptance in tx, refusing a version that is not
// published, and audits it as policy.accept.
func (s *Acceptances) insert(ctx context.Context, tx store.Tx, a Acceptance) (Acceptance, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT n FROM policy_versions WHERE n = $1`, a.Version).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return a, &AcceptanceError{"version", fmt.Sprintf("version %d is not published", a.Version)}
	}
	if err != nil {
		return a, err
	}
	kind, by, _ := strings.Cut(a.RecordedBy, ":")
	if _, err := tx.ExecContext(ctx, `INSERT INTO policy_acceptances
		(id, customer_id, version, doc, accepted_at, method, evidence_ref, recorded_kind, recorded_by, recorded_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		a.ID, a.CustomerID, a.Version, string(a.Doc), store.Micros(a.AcceptedAt), string(a.Method), a.EvidenceRef,
		kind, by, store.Micros(a.RecordedAt)); err != nil {
		return a, err
	}
	detail, _ := json.Marshal(map[string]any{"acceptance_id": a.ID, "version": a.Version, "doc": a.Doc, "method": a.Method})
	return a, s.audit.Record(ctx, tx, security.AuditEntry{Action: "policy.accept", SubjectKind: "customer",
		SubjectID: a.CustomerID, Detail: string(detail)})
}

// Record stores that a customer accepted a version (P4). The version must be
// published; AcceptedAt defaults to now and may not lie in the future; the actor of
// ctx is recorded as RecordedBy. An invalid acceptance is an *AcceptanceError.
func (s *Acceptances) Record(ctx context.Context, a Acceptance) (Acceptance, error) {
	a, err := s.prepare(ctx, a)
	if err != nil {
		return Acceptance{}, err
	}
	var out Acceptance
	err = s.st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		out, err = s.insert(ctx, tx, a)
		return err
	})
	if err != nil {
		return Acceptance{}, err
	}
	return out, nil
}

// ForCustomer lists the customer's acceptances, newest acceptance first.
func (s *Acceptances) ForCustomer(ctx context.Context, customerID string) ([]Acceptance, error) {
	rows, err := s.st.DB().QueryContext(ctx, `SELECT id, customer_id, version, doc, accepted_at, method, evidence_ref,
		recorded_kind, recorded_by, recorded_at FROM policy_acceptances WHERE customer_id = $1
		ORDER BY accepted_at DESC, id DESC`, customerID)
	if err != nil {
		return nil, store.Classify(err)
	}
	defer rows.Close()
	out := []Acceptance{}
	for rows.Next() {
		var a Acceptance
		var acc, rec int64
		var kind, by string
		if err := rows.Scan(&a.ID, &a.CustomerID, &a.Version, &a.Doc, &acc, &a.Method, &a.EvidenceRef, &kind, &by, &rec); err != nil {
			return nil, err
		}
		a.AcceptedAt, a.RecordedAt, a.RecordedBy = store.Time(acc), store.Time(rec), kind+":"+by
		out = append(out, a)
	}
	return out, store.Classify(rows.Err())
}

// Governing is the version of doc that governs the customer's contract at time at,
// by the rule of the policy in effect at at (terms.governs_existing, P4):
//
//   - accepted: the highest version of doc the customer had accepted by at
//     (ErrNoAcceptance when none);
//   - latest: the version in effect at at (Versions.Current).
//
// The rule is about the contract, so it decides for doc terms; the privacy policy is
// information, not a contract term, and for doc privacy the version in effect at at
// always applies. ErrNoVersion: nothing was in effect at at.
func (s *Acceptances) Governing(ctx context.Context, customerID string, doc DocKind, at time.Time) (int, error) {
	if doc != DocTerms && doc != DocPrivacy {
		return 0, fmt.Errorf("policy: governing: unknown document %q", doc)
	}
	cur, err := s.versions.Current(ctx, at)
	if err != nil {
		return 0, err
	}
	if doc == DocPrivacy {
		return cur, nil
	}
	p, err := s.versions.Policy(ctx, cur)
	if err != nil {
		return 0, err
	}
	if p.Terms.GovernsExisting != GovernsAccepted {
		return cur, nil
	}
	var n sql.NullInt64
	err = s.st.DB().QueryRowContext(ctx, `SELECT MAX(version) FROM policy_acceptances
		WHERE customer_id = $1 AND doc = $2 AND accepted_at <= $3`, customerID, string(doc), store.Micros(at)).Scan(&n)
	if err != nil {
		return 0, store.Classify(err)
	}
	if !n.Valid {
		return 0, ErrNoAcceptance
	}
	return int(n.Int64), nil
}

// Policy is the parsed policy of published version n (cached, as versions never
// change).
func (v *Versions) Policy(ctx context.Context, n int) (*Policy, error) {
	v.mu.Lock()
	p := v.parsed[n]
	v.mu.Unlock()
	if p != nil {
		return p, nil
	}
	var src []byte
	var filename string
	err := v.st.DB().QueryRowContext(ctx, `SELECT source, filename FROM policy_versions WHERE n = $1`, n).Scan(&src, &filename)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoVersion
	}
	if err != nil {
		return nil, store.Classify(err)
	}
	p, ds := Parse(filename, src)
	if ds.HasErrors() {
		return nil, fmt.Errorf("published version %d no longer parses: %s", n, ds.String())
	}
	v.mu.Lock()
	v.parsed[n] = p
	v.mu.Unlock()
	return p, nil
}
