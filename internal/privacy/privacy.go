// Package privacy keeps the data subject's rights (REQUIREMENTS R1-R7): requests of
// each kind (access, rectification, erasure, restriction, portability, objection,
// consent withdrawal), their identity verification (R2), their GDPR Art. 12(3)
// deadline on the company's national calendar, its extension, reminders before it
// runs out and the overdue view, and the access extract (R1, R7 portability) gathered
// from every room that holds personal data.
//
// Rooms do not import privacy: privacy defines small interfaces (Extractor) and the
// composition root hands it each room's implementation (NewExtractor adapts a func).
//
// A request row holds no personal data in the clear. The customer is an id; the
// reference names where the request came in (a ticket, a mail message id, a scanned
// letter's document id); the identity verification note is sealed with the
// customer's own data key. Every change is audited as privacy.request.* in the
// transaction that makes it, and recorded in the request's event history.
package privacy

import (
	"errors"
	"slices"
	"strings"
	"tillit/internal/validate"
	"time"

	"tillit/internal/nordic"
)

// Kind is what the data subject asks for.
type Kind string

const (
	KindAccess            Kind = "access"        // Art. 15, R1
	KindRectification     Kind = "rectification" // Art. 16, R3
	KindErasure           Kind = "erasure"       // Art. 17, R4
	KindRestriction       Kind = "restriction"   // Art. 18, R7
	KindPortability       Kind = "portability"   // Art. 20, R7
	KindObjection         Kind = "objection"     // Art. 21, R5
	KindConsentWithdrawal Kind = "consent_withdrawal"
)

// Kinds lists every kind.
var Kinds = []Kind{KindAccess, KindRectification, KindErasure, KindRestriction, KindPortability, KindObjection, KindConsentWithdrawal}

// needsIdentity reports whether a request of kind k may be acted on only after the
// requester's identity is verified (R2): everything that releases or changes data.
// An objection to marketing or a withdrawal of consent only stops processing, which
// is harmless whoever asks, and must take effect at once (R5, R6).
func (k Kind) needsIdentity() bool { return k != KindObjection && k != KindConsentWithdrawal }

// releasesData reports whether the answer to k is an extract of the subject's data.
func (k Kind) releasesData() bool { return k == KindAccess || k == KindPortability }

// Channel is how a request arrived.
type Channel string

const (
	ChannelPortal Channel = "portal"
	ChannelEmail  Channel = "email"
	ChannelPost   Channel = "post" // registered by staff; received_on is the letter's date of receipt
	ChannelAPI    Channel = "api"
	ChannelPhone  Channel = "phone"
)

// Channels lists every channel.
var Channels = []Channel{ChannelPortal, ChannelEmail, ChannelPost, ChannelAPI, ChannelPhone}

// State is where a request is.
type State string

const (
	StateReceived         State = "received"
	StateIdentityVerified State = "identity_verified"
	StateInProgress       State = "in_progress"
	StateCompleted        State = "completed"
	StateRefused          State = "refused"
)

// States lists every state.
var States = []State{StateReceived, StateIdentityVerified, StateInProgress, StateCompleted, StateRefused}

// Final reports whether nothing more happens to a request in state s.
func (s State) Final() bool { return s == StateCompleted || s == StateRefused }

// Method is how the requester's identity was verified (R2).
type Method string

const (
	MethodPortalSession Method = "portal_session" // a logged-in portal session
	MethodSignedLetter  Method = "signed_letter"  // a signed letter with the identity number (003)
	MethodInPerson      Method = "in_person"
	MethodOther         Method = "other" // the note says how
)

// Methods lists every method.
var Methods = []Method{MethodPortalSession, MethodSignedLetter, MethodInPerson, MethodOther}

// Date is a calendar day written as "YYYY-MM-DD" in JSON.
type Date = string

// Verification is how and by whom the requester's identity was verified.
type Verification struct {
	Method Method    `json:"method"`
	Note   string    `json:"note,omitempty"` // only in Get; sealed at rest
	ByKind string    `json:"by_kind"`
	ByID   string    `json:"by_id"`
	At     time.Time `json:"at"`
}

// Authority is the supervisory authority the requester may complain to (Art. 12(4),
// 77): every refusal carries it.
type Authority struct {
	Code string `json:"code"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

// authorities by the company's country.
var authorities = map[nordic.Country]Authority{
	nordic.SE: {Code: "IMY", Name: "Integritetsskyddsmyndigheten (IMY)", URL: "https://www.imy.se"},
	nordic.DK: {Code: "DATATILSYNET_DK", Name: "Datatilsynet", URL: "https://www.datatilsynet.dk"},
	nordic.NO: {Code: "DATATILSYNET_NO", Name: "Datatilsynet", URL: "https://www.datatilsynet.no"},
}

func authorityByCode(code string) Authority {
	for _, a := range authorities {
		if a.Code == code {
			return a
		}
	}
	return Authority{Code: code}
}

// ComplaintTextKey is the message key of the sentence every refusal must carry: the
// requester's right to complain to the supervisory authority and to seek a judicial
// remedy (Art. 12(4)). The mail and portal templates render it with the Authority.
const ComplaintTextKey = "privacy.refusal.right_to_complain"

// Refusal is why a request was refused, with the authority to complain to.
type Refusal struct {
	Reason          string    `json:"reason"`
	RightToComplain Authority `json:"right_to_complain"`
	TextKey         string    `json:"text_key"`
}

// Extension is the Art. 12(3) extension by two further months.
type Extension struct {
	Reason     string     `json:"reason"`
	Deadline   Date       `json:"deadline"`
	At         time.Time  `json:"at"`
	NotifiedAt *time.Time `json:"notified_at,omitempty"` // when the requester was told
}

// Request is one data-subject request.
type Request struct {
	ID           string        `json:"id"`
	Kind         Kind          `json:"kind"`
	CustomerID   string        `json:"customer_id,omitempty"`
	Channel      Channel       `json:"channel"`
	Reference    string        `json:"reference,omitempty"`
	ReceivedOn   Date          `json:"received_on"`
	State        State         `json:"state"`
	Deadline     Date          `json:"deadline"` // Art. 12(3): one month
	Target       Date          `json:"target"`   // internal target, receipt + 28 days
	DueOn        Date          `json:"due_on"`   // the extended deadline if extended, else Deadline
	Overdue      bool          `json:"overdue"`  // not answered and DueOn has passed
	Extension    *Extension    `json:"extension,omitempty"`
	Verification *Verification `json:"verification,omitempty"`
	Refusal      *Refusal      `json:"refusal,omitempty"`
	CompletedAt  *time.Time    `json:"completed_at,omitempty"`
	CreatedAt    time.Time     `json:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
	Events       []Event       `json:"events,omitempty"` // only in Get
}

// Event is one step in a request's history.
type Event struct {
	At        time.Time `json:"at"`
	Action    string    `json:"action"`
	ActorKind string    `json:"actor_kind"`
	ActorID   string    `json:"actor_id"`
	Detail    string    `json:"detail,omitempty"`
}

// NewRequest is what Receive takes.
type NewRequest struct {
	Kind       Kind    `json:"kind"`
	Channel    Channel `json:"channel"`
	CustomerID string  `json:"customer_id,omitempty"`
	// ReceivedOn is the day the request reached the company, "YYYY-MM-DD"; for post the
	// letter's date of receipt. It starts the clock. Default today; never in the future.
	ReceivedOn Date `json:"received_on,omitempty"`
	// Reference names where the request is kept (ticket, mail message id, scanned
	// letter's document id). It must hold no personal data.
	Reference string `json:"reference,omitempty"`
}

// Filter selects requests for List.
type Filter struct {
	State      State  // "" for all
	Kind       Kind   // "" for all
	CustomerID string // "" for all
	Overdue    bool   // only open requests whose due day has passed
	After      string // cursor: the id after which to continue
	Limit      int    // default 50, at most 500
}

// Errors callers test for.
var (
	ErrNotFound = errors.New("privacy request not found")
	// ErrIdentityNotVerified means the step needs the requester's identity verified
	// first (R2): no extract is released and nothing is changed for an unverified
	// requester.
	ErrIdentityNotVerified = errors.New("the requester's identity is not verified")
	// ErrWrongState means the request's state does not allow the step.
	ErrWrongState = errors.New("the request's state does not allow this")
	// ErrExtensionTooLate means the first month has passed: Art. 12(3) lets the
	// controller extend only by telling the requester within one month of receipt.
	ErrExtensionTooLate = errors.New("the deadline can be extended only within the first month")
	// ErrAlreadyExtended means the request was extended before.
	ErrAlreadyExtended = errors.New("the deadline is already extended")
	// ErrNoExtract means the request's kind is not answered with an extract.
	ErrNoExtract = errors.New("only access and portability requests are answered with an extract")
)

// FieldError names one invalid field by JSON pointer.
type FieldError = validate.FieldError

// ValidationError lists every invalid field; nothing was written.
type ValidationError = validate.Error

// validator is the shared checker with this room's own checks added.
type validator struct{ validate.Checker }

func oneOf[T ~string](v *validator, field string, x T, all []T) {
	if !slices.Contains(all, x) {
		names := make([]string, len(all))
		for i, a := range all {
			names[i] = string(a)
		}
		v.Add(field, "must be one of %s", strings.Join(names, ", "))
	}
}

// parseDate reads "YYYY-MM-DD".
func parseDate(s string) (nordic.Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nordic.Date{}, err
	}
	return nordic.DateOf(t), nil
}
