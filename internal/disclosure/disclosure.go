// Package disclosure is the recipient register (REQUIREMENTS D1) and the disclosure
// log (D2).
//
// The register lists who customer data may be disclosed to: processors, other
// recipients and authorities, their country and, outside the EU/EEA, the Chapter V
// transfer basis, the date of the agreement, the fields they may receive (the
// allow-list) and the purposes they may receive them for. Every change is audited as
// disclosure.recipient-create / disclosure.recipient-update.
//
// The log is written by one function, (*Service).Disclose, which every room that
// sends customer data to a third party calls before sending: it refuses a recipient
// not in the register, a field off its allow-list, a purpose it is not registered for
// and a disclosure without a basis; otherwise it records the field NAMES (never the
// values), the recipient, the purpose, the basis and the time, audited as
// disclosure.send, and hands back the fields to send. ForCustomer lists a customer's
// disclosures (the portal and the access extract, Art. 15(1)(c)).
package disclosure

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"tillit/internal/validate"
	"time"
)

// Role is what the recipient is to the company.
type Role string

const (
	RoleProcessor Role = "processor" // processes on the company's behalf (Art. 28)
	RoleRecipient Role = "recipient" // an independent controller receiving data
	RoleAuthority Role = "authority" // a public authority
)

// Roles lists every role.
var Roles = []Role{RoleProcessor, RoleRecipient, RoleAuthority}

// TransferBasis is the GDPR Chapter V basis of a transfer outside the EU/EEA.
type TransferBasis string

const (
	TransferAdequacy   TransferBasis = "adequacy"   // Art. 45 adequacy decision
	TransferSCC        TransferBasis = "scc"        // Art. 46(2)(c) standard contractual clauses
	TransferBCR        TransferBasis = "bcr"        // Art. 47 binding corporate rules
	TransferDerogation TransferBasis = "derogation" // Art. 49
	TransferNone       TransferBasis = "none"       // no transfer: the recipient is in the EU/EEA
)

// TransferBases lists every basis.
var TransferBases = []TransferBasis{TransferAdequacy, TransferSCC, TransferBCR, TransferDerogation, TransferNone}

// Recipient is one entry of the register.
type Recipient struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Role    Role   `json:"role"`
	Country string `json:"country"` // ISO 3166-1 alpha-2
	// TransferBasis is none for a recipient in the EU/EEA and one of the others outside.
	TransferBasis TransferBasis `json:"transfer_basis"`
	AgreementDate string        `json:"agreement_date,omitempty"` // YYYY-MM-DD
	AllowedFields []string      `json:"allowed_fields"`           // the allow-list of field names
	Purposes      []string      `json:"purposes"`
	CreatedAt     time.Time     `json:"created_at"`
	UpdatedAt     time.Time     `json:"updated_at"`
}

// NewRecipient is what Register takes.
type NewRecipient struct {
	Name          string        `json:"name"`
	Role          Role          `json:"role"`
	Country       string        `json:"country"`
	TransferBasis TransferBasis `json:"transfer_basis,omitempty"` // default none; required outside the EU/EEA
	AgreementDate string        `json:"agreement_date,omitempty"`
	AllowedFields []string      `json:"allowed_fields,omitempty"`
	Purposes      []string      `json:"purposes,omitempty"`
}

// Patch changes a recipient (a JSON merge patch: an absent member is left as it is;
// agreement_date is cleared with "", a list with []).
type Patch struct {
	Name          *string        `json:"name,omitempty"`
	Role          *Role          `json:"role,omitempty"`
	Country       *string        `json:"country,omitempty"`
	TransferBasis *TransferBasis `json:"transfer_basis,omitempty"`
	AgreementDate *string        `json:"agreement_date,omitempty"`
	AllowedFields []string       `json:"allowed_fields,omitempty"`
	Purposes      []string       `json:"purposes,omitempty"`
}

// BasisKind is why a disclosure is made.
type BasisKind string

const (
	BasisOrder            BasisKind = "order"             // to perform the customer's order
	BasisRequest          BasisKind = "request"           // the customer asked for it
	BasisAuthorityRequest BasisKind = "authority_request" // an authority demanded it
)

// BasisKinds lists every basis kind.
var BasisKinds = []BasisKind{BasisOrder, BasisRequest, BasisAuthorityRequest}

// Basis is the ground of one disclosure: its kind and a reference (order number,
// ticket, the authority's case number).
type Basis struct {
	Kind BasisKind `json:"kind"`
	Ref  string    `json:"ref,omitempty"`
}

// Disclosure is what a room passes to Disclose: the customer's fields by name with
// their values, to send to RecipientID for Purpose on Basis.
type Disclosure struct {
	RecipientID string
	CustomerID  string
	Fields      map[string]string // field name -> value
	Purpose     string
	Basis       Basis
}

// Record is one logged disclosure: field names only, never the values.
type Record struct {
	ID            string    `json:"id"`
	RecipientID   string    `json:"recipient_id"`
	RecipientName string    `json:"recipient_name"`
	CustomerID    string    `json:"customer_id"`
	Fields        []string  `json:"fields"` // names, sorted
	Purpose       string    `json:"purpose"`
	Basis         Basis     `json:"basis"`
	ActorKind     string    `json:"actor_kind"`
	ActorID       string    `json:"actor_id"`
	At            time.Time `json:"at"`
	// Send is what the caller may send: the given fields filtered to the recipient's
	// allow-list. Only set by Disclose; never serialized nor stored.
	Send map[string]string `json:"-"`
}

// Errors callers test for. Disclose wraps the refusals with the offending name.
var (
	ErrNotFound          = errors.New("recipient not found")
	ErrUnknownRecipient  = errors.New("disclosure refused: the recipient is not in the register")
	ErrUnknownCustomer   = errors.New("disclosure refused: no such customer")
	ErrFieldNotAllowed   = errors.New("disclosure refused: field not on the recipient's allow-list")
	ErrPurposeNotAllowed = errors.New("disclosure refused: purpose not registered for the recipient")
	ErrNoBasis           = errors.New("disclosure refused: no basis (order, request or authority_request) given")
	ErrNoFields          = errors.New("disclosure refused: no fields given")
)

// FieldError names one invalid field by JSON pointer.
type FieldError = validate.FieldError

// ValidationError lists every invalid field; nothing was written.
type ValidationError = validate.Error

// validator is the shared checker with this room's own checks added.
type validator struct{ validate.Checker }

// text is the shared check, and a recipient's values are single lines.
func (v *validator) text(field, s string, max int, required bool) string {
	if strings.Contains(strings.TrimSpace(s), "\n") {
		v.Add(field, "must be printable text")
		return strings.TrimSpace(s)
	}
	return v.Text(field, s, max, required)
}

// isIdent reports whether s is a field or purpose identifier.
func isIdent(s string) bool {
	return s != "" && len(s) <= 100 && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.')
	}) < 0
}

// idents checks a list of identifiers, dedupes and sorts it.
func (v *validator) idents(field string, xs []string) []string {
	out := []string{}
	for _, x := range xs {
		x = strings.TrimSpace(x)
		if !isIdent(x) {
			v.Add(field, "must hold identifiers (letters, digits, _ - .)")
			return []string{}
		}
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

var countryRE = regexp.MustCompile(`^[A-Z]{2}$`)

func (v *validator) country(field, c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	if !countryRE.MatchString(c) {
		v.Add(field, "must be an ISO 3166-1 alpha-2 country code")
	}
	return c
}

func (v *validator) date(field, d string) string {
	d = strings.TrimSpace(d)
	if d == "" {
		return ""
	}
	if _, err := time.Parse(time.DateOnly, d); err != nil {
		v.Add(field, "must be a date YYYY-MM-DD")
	}
	return d
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
