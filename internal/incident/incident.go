// Package incident is the incident register (REQUIREMENTS B1, B2): personal data
// breaches, recorded from the moment the company becomes aware of them, with the
// GDPR Art. 33(1) 72-hour clock (nordic.Art33Deadline), reminders to the owners
// through the job queue, the Art. 33(3) notification drafted in the supervisory
// authority's language, the affected customers and their Art. 34 notices when the
// risk is high, and the documentation Art. 33(5) asks for even of breaches that are
// not reported; and customer-side incidents (B2: a customer's hacked website), which
// are recorded as such, outside the breach duty: no clock, no reminders, never
// reported.
//
// The text fields (title, likely consequences, measures) are staff-written
// descriptions kept as plain text. By instruction they hold no personal data: names
// of people must not be written there. Affected customers are ids only. Every change
// is audited as incident.* in the transaction that makes it, and recorded in the
// incident's event history.
package incident

import (
	"errors"
	"slices"
	"strings"
	"tillit/internal/validate"
	"time"
)

// Kind is what sort of incident it is.
type Kind string

const (
	KindBreach           Kind = "breach"            // B1: a personal data breach, Art. 33/34
	KindCustomerIncident Kind = "customer_incident" // B2: on the customer's side, outside the breach duty
)

// Kinds lists every kind.
var Kinds = []Kind{KindBreach, KindCustomerIncident}

// Nature is which security property the breach broke (the three kinds of breach of
// the EDPB guidelines); an incident may have several.
type Nature string

const (
	NatureConfidentiality Nature = "confidentiality"
	NatureIntegrity       Nature = "integrity"
	NatureAvailability    Nature = "availability"
)

// Natures lists every nature.
var Natures = []Nature{NatureConfidentiality, NatureIntegrity, NatureAvailability}

// Risk is the assessed risk to the rights and freedoms of the people concerned: none
// means no report is needed (Art. 33(1)), high means the people must be told (Art. 34).
type Risk string

const (
	RiskNone Risk = "none"
	RiskLow  Risk = "low"
	RiskHigh Risk = "high"
)

// Risks lists every risk level.
var Risks = []Risk{RiskNone, RiskLow, RiskHigh}

// Incident is one entry of the register.
type Incident struct {
	ID    string `json:"id"`
	Kind  Kind   `json:"kind"`
	Title string `json:"title"`
	// AwareAt is when the company became aware of it: the Art. 33 clock starts.
	AwareAt    time.Time  `json:"aware_at"`
	OccurredAt *time.Time `json:"occurred_at,omitempty"`
	// Deadline is AwareAt + 72 hours (breaches only).
	Deadline *time.Time `json:"deadline,omitempty"`
	// Overdue: a breach neither reported nor documented as not reported, not closed,
	// whose deadline has passed.
	Overdue            bool     `json:"overdue"`
	Nature             []Nature `json:"nature"`
	DataCategories     []string `json:"data_categories"` // the policy's category ids
	ApproxPeople       *int64   `json:"approx_people,omitempty"`
	ApproxRecords      *int64   `json:"approx_records,omitempty"`
	LikelyConsequences string   `json:"likely_consequences"`
	MeasuresTaken      string   `json:"measures_taken"`
	MeasuresProposed   string   `json:"measures_proposed"`
	Risk               Risk     `json:"risk,omitempty"` // "" until assessed
	// Report is set once the breach was notified to the authority.
	Report *Report `json:"report,omitempty"`
	// NoReport documents why a breach was not reported (Art. 33(5)).
	NoReport            *NoReport  `json:"no_report,omitempty"`
	AffectedCustomerIDs []string   `json:"affected_customer_ids"`
	CustomerNotifiedAt  *time.Time `json:"customer_notified_at,omitempty"`
	ClosedAt            *time.Time `json:"closed_at,omitempty"`
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
	Events              []Event    `json:"events,omitempty"` // only in Get
}

// Report is the notification to the supervisory authority.
type Report struct {
	At        time.Time `json:"at"`
	Authority string    `json:"authority"` // policy.AuthorityID: imy, datatilsynet_dk, datatilsynet_no
	Reference string    `json:"reference"` // the authority's case or receipt number
}

// NoReport is the documented decision not to report a breach.
type NoReport struct {
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// undecided reports whether the breach still waits for a report or a decision.
func (i Incident) undecided() bool {
	return i.Kind == KindBreach && i.Report == nil && i.NoReport == nil && i.ClosedAt == nil
}

// Event is one step in an incident's history.
type Event struct {
	At        time.Time `json:"at"`
	Action    string    `json:"action"`
	ActorKind string    `json:"actor_kind"`
	ActorID   string    `json:"actor_id"`
	Detail    string    `json:"detail,omitempty"`
}

// NewIncident is what Record takes. The text fields must name no person.
type NewIncident struct {
	Kind  Kind   `json:"kind"`
	Title string `json:"title"`
	// AwareAt is when the company became aware; default now, never in the future.
	AwareAt            *time.Time `json:"aware_at,omitempty"`
	OccurredAt         *time.Time `json:"occurred_at,omitempty"`
	Nature             []Nature   `json:"nature,omitempty"`
	DataCategories     []string   `json:"data_categories,omitempty"`
	ApproxPeople       *int64     `json:"approx_people,omitempty"`
	ApproxRecords      *int64     `json:"approx_records,omitempty"`
	LikelyConsequences string     `json:"likely_consequences,omitempty"`
	MeasuresTaken      string     `json:"measures_taken,omitempty"`
	MeasuresProposed   string     `json:"measures_proposed,omitempty"`
	Risk               Risk       `json:"risk,omitempty"`
}

// Patch changes the descriptive fields (a JSON merge patch: an absent member is left
// as it is; a text is cleared with ""; a list is cleared with []).
type Patch struct {
	Title              *string    `json:"title,omitempty"`
	OccurredAt         *time.Time `json:"occurred_at,omitempty"`
	Nature             []Nature   `json:"nature,omitempty"`
	DataCategories     []string   `json:"data_categories,omitempty"`
	ApproxPeople       *int64     `json:"approx_people,omitempty"`
	ApproxRecords      *int64     `json:"approx_records,omitempty"`
	LikelyConsequences *string    `json:"likely_consequences,omitempty"`
	MeasuresTaken      *string    `json:"measures_taken,omitempty"`
	MeasuresProposed   *string    `json:"measures_proposed,omitempty"`
	Risk               *Risk      `json:"risk,omitempty"`
}

// Filter selects incidents for List.
type Filter struct {
	Open    bool   // only not closed
	Overdue bool   // only breaches past their deadline, neither reported nor decided, not closed
	Kind    Kind   // "" for all
	After   string // cursor: the id after which to continue
	Limit   int    // default 50, at most 500
}

// Errors callers test for.
var (
	ErrNotFound = errors.New("incident not found")
	// ErrNotBreach means the step belongs to the breach duty (Art. 33), which a
	// customer-side incident (B2) is outside of: it has no clock and is never reported.
	ErrNotBreach = errors.New("a customer-side incident is outside the breach duty: it has no deadline and is not reported to the authority")
	// ErrUndocumented means a breach cannot be closed before it is either reported or
	// documented as not reported, with the reason (Art. 33(5)).
	ErrUndocumented = errors.New("a breach can be closed only once it is reported or its non-reporting is documented with the reason")
	// ErrClosed means the incident is closed and cannot change.
	ErrClosed = errors.New("the incident is closed")
	// ErrAlreadyReported means the breach was reported to the authority already.
	ErrAlreadyReported = errors.New("the breach is already reported")
)

// FieldError names one invalid field by JSON pointer.
type FieldError = validate.FieldError

// ValidationError lists every invalid field; nothing was written.
type ValidationError = validate.Error

// validator is the shared checker with this room's own checks added.
type validator struct{ validate.Checker }

func (v *validator) count(field string, n *int64) {
	if n != nil && *n < 0 {
		v.Add(field, "must not be negative")
	}
}

func (v *validator) natures(field string, ns []Nature) []Nature {
	out := []Nature{}
	for _, n := range ns {
		if !slices.Contains(Natures, n) {
			v.Add(field, "must hold only confidentiality, integrity, availability")
			return out
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func (v *validator) categories(field string, cs []string) []string {
	out := []string{}
	for _, c := range cs {
		c = strings.TrimSpace(c)
		ok := c != "" && len(c) <= 100 && strings.IndexFunc(c, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.')
		}) < 0
		if !ok {
			v.Add(field, "must hold category ids (letters, digits, _ - .)")
			return out
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func oneOf[T ~string](v *validator, field string, x T, all []T) {
	if !slices.Contains(all, x) {
		names := make([]string, len(all))
		for i, a := range all {
			names[i] = string(a)
		}
		v.Add(field, "must be one of %s", strings.Join(names, ", "))
	}
}
