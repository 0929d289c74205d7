// Package customer is the customer register (REQUIREMENTS K1, K2, K5, K6; S2, S4 for
// its personal data): persons and companies, their addresses by role, contact persons,
// the source of every stored value and its history, and notes.
//
// Personal values are sealed with the customer's own data key (security.Keystore) and
// stored one row per field, with the field's source, actor and time (K5). Exact
// look-ups go through blind indexes. Every read of personal data needs a Reason and
// appends a customer.read audit entry that commits before the data is returned; every
// change is audited in the transaction that makes it.
package customer

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"tillit/internal/nordic"
	"tillit/internal/security"
)

// Kind is a person or a company.
type Kind string

const (
	KindPerson  Kind = "person"
	KindCompany Kind = "company"
)

// Status is where a customer is in their life with the company.
type Status string

const (
	StatusProspect Status = "prospect"
	StatusActive   Status = "active"
	StatusEnded    Status = "ended"
)

// Source is where a stored value came from (K5), so that an access request can say.
type Source string

const (
	SourcePortal         Source = "customer_portal"
	SourceStaff          Source = "staff"
	SourceImport         Source = "import"
	SourceAddressService Source = "address_service" // e.g. a SPAR address update
	SourceCreditCheck    Source = "credit_check"
	SourceProcessor      Source = "processor"
)

// Sources lists every source.
var Sources = []Source{SourcePortal, SourceStaff, SourceImport, SourceAddressService, SourceCreditCheck, SourceProcessor}

// AddressRole is what an address is for.
type AddressRole string

const (
	AddressRegistered   AddressRole = "registered" // folkbokföring, or a company's registered office
	AddressInvoice      AddressRole = "invoice"
	AddressInstallation AddressRole = "installation"
	AddressDelivery     AddressRole = "delivery"
)

// AddressRoles lists every role.
var AddressRoles = []AddressRole{AddressRegistered, AddressInvoice, AddressInstallation, AddressDelivery}

// Languages a customer can be served in.
var Languages = []string{"sv", "da", "nb", "en"}

// Address is a Nordic postal address. PostalCode is kept in the country's written form:
// SE "NNN NN", DK and NO four digits.
type Address struct {
	Street     string         `json:"street"`
	PostalCode string         `json:"postal_code"`
	City       string         `json:"city"`
	Country    nordic.Country `json:"country,omitempty"`
}

// Contact is a contact person of a company.
type Contact struct {
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
	Role  string `json:"role,omitempty"`
}

// FieldSource is where a field's current value came from and when (K5).
type FieldSource struct {
	Source    Source    `json:"source"`
	ActorKind string    `json:"actor_kind"`
	ActorID   string    `json:"actor_id"`
	At        time.Time `json:"at"`
}

// Customer is one customer with their personal data decrypted.
type Customer struct {
	ID             string                  `json:"id"`
	Number         int64                   `json:"number"`
	Kind           Kind                    `json:"kind"`
	Status         Status                  `json:"status"`
	EndedAt        *time.Time              `json:"ended_at,omitempty"`
	Language       string                  `json:"language"`
	Country        nordic.Country          `json:"country"`
	Name           string                  `json:"name"`
	Email          string                  `json:"email,omitempty"`
	Phone          string                  `json:"phone,omitempty"`
	IdentityNumber string                  `json:"identity_number,omitempty"`
	BirthDate      string                  `json:"birth_date,omitempty"` // derived from IdentityNumber, never stored
	OrgNumber      string                  `json:"org_number,omitempty"`
	Addresses      map[AddressRole]Address `json:"addresses,omitempty"`
	Contacts       []Contact               `json:"contacts,omitempty"`
	// Sources maps each stored field, as a JSON pointer into this object
	// ("/email", "/addresses/invoice"), to where its value came from.
	Sources   map[string]FieldSource `json:"sources"`
	CreatedAt time.Time              `json:"created_at"`
	UpdatedAt time.Time              `json:"updated_at"`
}

// Ref is a customer without personal data: what a look-up or a create returns.
type Ref struct {
	ID        string         `json:"id"`
	Number    int64          `json:"number"`
	Kind      Kind           `json:"kind"`
	Status    Status         `json:"status"`
	Country   nordic.Country `json:"country"`
	Language  string         `json:"language"`
	CreatedAt time.Time      `json:"created_at"`
}

// NewCustomer is what Create takes.
type NewCustomer struct {
	Kind           Kind                    `json:"kind"`
	Country        nordic.Country          `json:"country"`
	Language       string                  `json:"language,omitempty"` // default by country
	Status         Status                  `json:"status,omitempty"`   // default prospect
	Name           string                  `json:"name"`
	Email          string                  `json:"email,omitempty"`
	Phone          string                  `json:"phone,omitempty"`
	IdentityNumber string                  `json:"identity_number,omitempty"` // persons
	OrgNumber      string                  `json:"org_number,omitempty"`      // companies
	Addresses      map[AddressRole]Address `json:"addresses,omitempty"`
	Contacts       []Contact               `json:"contacts,omitempty"` // companies
	Source         Source                  `json:"-"`                  // default staff
}

// ReasonKind is what kind of thing justifies a read of personal data (S3).
type ReasonKind string

const (
	ReasonTicket   ReasonKind = "ticket"
	ReasonRequest  ReasonKind = "request" // the customer's own request
	ReasonContract ReasonKind = "contract"
	ReasonFreeText ReasonKind = "free_text"
)

// Reason is why personal data is read; it goes into the audit log as "kind:ref".
type Reason struct {
	Kind ReasonKind
	Ref  string
}

const maxReasonRef = 180

// String is the reason as the audit log keeps it.
func (r Reason) String() string {
	k := string(r.Kind)
	if r.Kind == ReasonFreeText {
		k = "free"
	}
	return k + ":" + r.Ref
}

func (r Reason) valid() error {
	switch r.Kind {
	case ReasonTicket, ReasonRequest, ReasonContract, ReasonFreeText:
	case "":
		return ErrReasonRequired
	default:
		return fmt.Errorf("%w: unknown reason kind %q", ErrReasonRequired, r.Kind)
	}
	ref := strings.TrimSpace(r.Ref)
	if ref == "" {
		return fmt.Errorf("%w: the reason has no reference", ErrReasonRequired)
	}
	if utf8.RuneCountInString(ref) > maxReasonRef || !utf8.ValidString(ref) || strings.IndexFunc(ref, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: the reference must be at most %d printable characters", ErrReasonRequired, maxReasonRef)
	}
	return nil
}

// ParseReason reads "ticket:T-123", "request:R-1", "contract:C-9" or "free:text".
func ParseReason(s string) (Reason, error) {
	k, ref, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return Reason{}, ErrReasonRequired
	}
	r := Reason{Kind: ReasonKind(k), Ref: strings.TrimSpace(ref)}
	switch k {
	case "free", "free_text":
		r.Kind = ReasonFreeText
	case "ticket", "request", "contract":
	default:
		return Reason{}, fmt.Errorf("%w: unknown reason kind %q", ErrReasonRequired, k)
	}
	return r, r.valid()
}

// Note is a note from mail, a phone call or a meeting (K6).
type Note struct {
	ID         string    `json:"id,omitempty"`
	CustomerID string    `json:"customer_id,omitempty"`
	Channel    string    `json:"channel"`
	Text       string    `json:"text,omitempty"`
	Source     Source    `json:"source,omitempty"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
}

// Channels a note can come from.
var Channels = []string{"email", "phone", "meeting"}

// HistoryEntry is a field's earlier value with the source it had.
type HistoryEntry struct {
	Value      json.RawMessage `json:"value"`
	Source     FieldSource     `json:"source"`
	ReplacedAt time.Time       `json:"replaced_at"`
}

// Match is a look-up hit: no personal data.
type Match struct {
	ID     string `json:"id"`
	Number int64  `json:"number"`
	Kind   Kind   `json:"kind"`
}

// Errors callers test for.
var (
	ErrNotFound       = errors.New("customer not found")
	ErrReasonRequired = errors.New("a reason is required to read personal data")
	// ErrErased means the customer's data key was shredded: their personal data can
	// never be read again.
	ErrErased = errors.New("customer's personal data is erased (data key shredded)")
)

// FieldError names one invalid field by JSON pointer.
type FieldError struct {
	Field   string
	Message string
}

// ValidationError lists every invalid field; nothing was written.
type ValidationError struct{ Fields []FieldError }

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid customer:")
	for _, f := range e.Fields {
		fmt.Fprintf(&b, " %s: %s;", f.Field, f.Message)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// DuplicateError means another customer already has this identity number, org number
// or primary e-mail.
type DuplicateError struct{ Field string }

func (e *DuplicateError) Error() string {
	return "another customer already has this " + strings.TrimPrefix(e.Field, "/")
}

// ---- validation ----

type validator struct{ errs []FieldError }

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, FieldError{field, fmt.Sprintf(format, args...)})
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return &ValidationError{Fields: v.errs}
}

// text checks a free-text value: trimmed, printable, 1..max characters.
func (v *validator) text(field, s string, max int, required bool) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && required:
		v.add(field, "is required")
	case !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0:
		v.add(field, "must be printable text")
	case utf8.RuneCountInString(s) > max:
		v.add(field, "must be at most %d characters", max)
	}
	return s
}

func (v *validator) email(field, s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	n, err := security.NormalizeEmail(s)
	if err != nil || len(n) > 254 {
		v.add(field, "is not an e-mail address")
		return ""
	}
	return n
}

func (v *validator) phone(field, s string, c nordic.Country) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	n, err := security.NormalizePhone(s, callingCode[c])
	if err != nil {
		v.add(field, "is not a telephone number")
		return ""
	}
	return n
}

var callingCode = map[nordic.Country]string{nordic.SE: "+46", nordic.DK: "+45", nordic.NO: "+47"}

var defaultLanguage = map[nordic.Country]string{nordic.SE: "sv", nordic.DK: "da", nordic.NO: "nb"}

func validCountry(c nordic.Country) bool { return c == nordic.SE || c == nordic.DK || c == nordic.NO }

var (
	seZip = regexp.MustCompile(`^([0-9]{3}) ?([0-9]{2})$`)
	dkNo  = regexp.MustCompile(`^[0-9]{4}$`)
)

// PostalCode validates and normalises a postal code of country: SE five digits written
// "NNN NN", DK and NO four digits.
func PostalCode(c nordic.Country, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch c {
	case nordic.SE:
		if m := seZip.FindStringSubmatch(s); m != nil && m[1][0] != '0' {
			return m[1] + " " + m[2], nil
		}
		return "", errors.New("must be a Swedish postal code, five digits as NNN NN")
	case nordic.DK, nordic.NO:
		if dkNo.MatchString(s) && (c == nordic.NO || s[0] != '0') {
			return s, nil
		}
		return "", fmt.Errorf("must be a %s postal code of four digits", countryName[c])
	}
	return "", errors.New("unsupported country")
}

var countryName = map[nordic.Country]string{nordic.SE: "Swedish", nordic.DK: "Danish", nordic.NO: "Norwegian"}

func (v *validator) address(field string, a Address, def nordic.Country) Address {
	a.Street = v.text(field+"/street", a.Street, 200, true)
	a.City = v.text(field+"/city", a.City, 100, true)
	if a.Country == "" {
		a.Country = def
	}
	if !validCountry(a.Country) {
		v.add(field+"/country", "must be SE, DK or NO")
		return a
	}
	pc, err := PostalCode(a.Country, a.PostalCode)
	if err != nil {
		v.add(field+"/postal_code", "%s", err.Error())
	}
	a.PostalCode = pc
	return a
}

func (v *validator) contacts(cs []Contact, c nordic.Country) []Contact {
	if len(cs) > 50 {
		v.add("/contacts", "at most 50 contact persons")
		return nil
	}
	out := make([]Contact, len(cs))
	for i, ct := range cs {
		p := fmt.Sprintf("/contacts/%d", i)
		out[i] = Contact{
			Name:  v.text(p+"/name", ct.Name, 200, true),
			Email: v.email(p+"/email", ct.Email),
			Phone: v.phone(p+"/phone", ct.Phone, c),
			Role:  v.text(p+"/role", ct.Role, 100, false),
		}
	}
	return out
}

func (v *validator) identity(c nordic.Country, s string, on time.Time) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	id, err := nordic.ParsePerson(c, s, nordic.Options{On: on})
	if err != nil {
		v.add("/identity_number", "is not a valid %s personal identity number: %s", countryName[c], reasonOf(err))
		return ""
	}
	return id.Canonical
}

func (v *validator) org(c nordic.Country, s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	id, err := nordic.ParseOrg(c, s)
	if err != nil {
		v.add("/org_number", "is not a valid %s organisation number: %s", countryName[c], reasonOf(err))
		return ""
	}
	return id.Canonical
}

// reasonOf keeps nordic's reason, which never holds the input.
func reasonOf(err error) string {
	var ne *nordic.Error
	if errors.As(err, &ne) {
		return ne.Reason
	}
	return "invalid"
}

func validSource(s Source) bool { return slices.Contains(Sources, s) }

// values is a customer's stored fields by name (the JSON pointer without its slash),
// each as the JSON that is sealed.
type values map[string]any

// validate checks n and returns its normalised field values.
func (n NewCustomer) validate(on time.Time) (NewCustomer, values, error) {
	var v validator
	if n.Kind != KindPerson && n.Kind != KindCompany {
		v.add("/kind", "must be person or company")
	}
	if !validCountry(n.Country) {
		v.add("/country", "must be SE, DK or NO")
		return n, nil, v.err() // everything below depends on the country
	}
	if n.Language == "" {
		n.Language = defaultLanguage[n.Country]
	}
	if !slices.Contains(Languages, n.Language) {
		v.add("/language", "must be one of sv, da, nb, en")
	}
	if n.Status == "" {
		n.Status = StatusProspect
	}
	if n.Status != StatusProspect && n.Status != StatusActive {
		v.add("/status", "a new customer is prospect or active")
	}
	if n.Source == "" {
		n.Source = SourceStaff
	}
	if !validSource(n.Source) {
		v.add("/source", "unknown source")
	}
	n.Name = v.text("/name", n.Name, 200, true)
	n.Email = v.email("/email", n.Email)
	n.Phone = v.phone("/phone", n.Phone, n.Country)
	switch n.Kind {
	case KindPerson:
		n.IdentityNumber = v.identity(n.Country, n.IdentityNumber, on)
		if n.OrgNumber != "" {
			v.add("/org_number", "only companies have an organisation number")
		}
		if len(n.Contacts) > 0 {
			v.add("/contacts", "only companies have contact persons")
		}
	case KindCompany:
		n.OrgNumber = v.org(n.Country, n.OrgNumber)
		if n.IdentityNumber != "" {
			v.add("/identity_number", "companies have an org_number instead")
		}
		n.Contacts = v.contacts(n.Contacts, n.Country)
	}
	addrs := map[AddressRole]Address{}
	for _, role := range sortedRoles(n.Addresses) {
		if !slices.Contains(AddressRoles, role) {
			v.add("/addresses/"+string(role), "unknown role; use registered, invoice, installation or delivery")
			continue
		}
		addrs[role] = v.address("/addresses/"+string(role), n.Addresses[role], n.Country)
	}
	n.Addresses = addrs
	if err := v.err(); err != nil {
		return n, nil, err
	}
	c := Customer{Kind: n.Kind, Status: n.Status, Language: n.Language, Country: n.Country, Name: n.Name,
		Email: n.Email, Phone: n.Phone, IdentityNumber: n.IdentityNumber, OrgNumber: n.OrgNumber,
		Addresses: n.Addresses, Contacts: n.Contacts}
	vals := c.values()
	return n, vals, nil
}

func sortedRoles[T any](m map[AddressRole]T) []AddressRole {
	roles := make([]AddressRole, 0, len(m))
	for r := range m {
		roles = append(roles, r)
	}
	slices.Sort(roles)
	return roles
}

func countryOf(s string) nordic.Country { return nordic.Country(s) }
