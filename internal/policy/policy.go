// Package policy is the policy file: one YAML file per company that states
// its terms and privacy promises (requirement P1). The room parses and
// validates the file with line:column diagnostics (P2), renders the public
// privacy policy and terms in sv, da, nb and en as HTML or Markdown (P3),
// and is the single source the enforcing rooms read their numbers from.
//
// Publishing versions, recording acceptance (P4) and the Art. 30 record (P5)
// build on these types and are not in this file.
package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// Policy is one company's policy file. Field order follows the rendered
// documents; `yaml` tags are the keys in the file. A `policy:"required"`
// tag makes the key mandatory.
type Policy struct {
	// Format is the version of this file format; only 1 exists.
	Format     int         `yaml:"format" policy:"required"`
	Languages  []Lang      `yaml:"languages"`
	Company    Company     `yaml:"company" policy:"required"`
	Law        Law         `yaml:"law" policy:"required"`
	Authority  AuthorityID `yaml:"authority" policy:"required"`
	Categories []Category  `yaml:"categories" policy:"required"`
	Recipients []Recipient `yaml:"recipients"`
	Storage    []Storage   `yaml:"storage"`
	Cookies    []Cookie    `yaml:"cookies"`
	Privacy    Privacy     `yaml:"privacy" policy:"required"`
	Commerce   *Commerce   `yaml:"commerce"`
	Support    *Support    `yaml:"support"`
	Terms      Terms       `yaml:"terms" policy:"required"`
	Security   []Text      `yaml:"security_measures"`
	Clauses    []Clause    `yaml:"clauses"`
	pos        positions   // where each value sits in the file
	present    map[string]bool
}

// Company is the controller's identity (GDPR Art. 13(1)(a)).
type Company struct {
	Name      string  `yaml:"name" policy:"required"`
	TradeName string  `yaml:"trade_name"`
	OrgNumber string  `yaml:"org_number" policy:"required"`
	Country   Country `yaml:"country" policy:"required"`
	Address   Address `yaml:"address" policy:"required"`
	Email     string  `yaml:"email" policy:"required"`
	Phone     string  `yaml:"phone"`
	Website   string  `yaml:"website"`
	// FiscalYearEnd is MM-DD, default 12-31; bookkeeping retention is
	// counted from it.
	FiscalYearEnd string `yaml:"fiscal_year_end"`
	DPO           *DPO   `yaml:"dpo"`
}

// Address is a postal address.
type Address struct {
	Street     string `yaml:"street" policy:"required"`
	PostalCode string `yaml:"postal_code" policy:"required"`
	City       string `yaml:"city" policy:"required"`
}

// DPO is the data protection officer, where the company has one.
type DPO struct {
	Name  string `yaml:"name"`
	Email string `yaml:"email" policy:"required"`
	Phone string `yaml:"phone"`
}

// Law is the governing law and the courts for disputes. It is stated apart
// from the supervisory authority: the law of the contract is a choice, the
// authority is not.
type Law struct {
	Country Country `yaml:"country" policy:"required"`
	Courts  Text    `yaml:"courts" policy:"required"`
}

// Category is one category of personal data the company processes.
type Category struct {
	ID       string        `yaml:"id" policy:"required"`
	Name     Text          `yaml:"name" policy:"required"`
	Data     Text          `yaml:"data"`
	Purposes []PurposeKind `yaml:"purposes" policy:"required"`
	// Description adds the company's own words on the purposes.
	Description Text  `yaml:"description"`
	Basis       Basis `yaml:"basis" policy:"required"`
	// LegitimateInterest is required with basis legitimate_interests
	// (Art. 13(1)(d)).
	LegitimateInterest Text      `yaml:"legitimate_interest"`
	SpecialBasis       Art9Basis `yaml:"special_basis"`
	Sources            []Source  `yaml:"sources" policy:"required"`
	Retention          Retention `yaml:"retention" policy:"required"`
	Provision          Provision `yaml:"provision"`
	Bookkeeping        bool      `yaml:"bookkeeping"`
	Recipients         []string  `yaml:"recipients"`
}

// Recipient is a processor or another recipient of personal data (D1).
type Recipient struct {
	ID       string        `yaml:"id" policy:"required"`
	Name     string        `yaml:"name" policy:"required"`
	Role     Role          `yaml:"role" policy:"required"`
	Purposes []PurposeKind `yaml:"purposes" policy:"required"`
	Country  Country       `yaml:"country" policy:"required"`
	// Transfer is required when Country is outside the EU/EEA.
	Transfer TransferBasis `yaml:"transfer"`
	// Fields is the allow-list of fields the recipient may receive (D2).
	Fields      []string `yaml:"fields"`
	Description Text     `yaml:"description"`
}

// Storage is a place where the company keeps personal data, backups
// included.
type Storage struct {
	Country     Country       `yaml:"country" policy:"required"`
	Description Text          `yaml:"description"`
	Transfer    TransferBasis `yaml:"transfer"`
}

// Cookie is one cookie (or similar storage) on the company's website (C1).
type Cookie struct {
	Name     string         `yaml:"name" policy:"required"`
	Category CookieCategory `yaml:"category" policy:"required"`
	Provider string         `yaml:"provider" policy:"required"`
	// Lifetime is a duration ("13m") or "session".
	Lifetime Lifetime `yaml:"lifetime" policy:"required"`
	Purpose  Text     `yaml:"purpose" policy:"required"`
}

// Privacy holds the data-subject side of the promises.
type Privacy struct {
	// DeletionDeadline is how soon after an erasure request every copy,
	// backups included, is gone (R4; 002: 30 days).
	DeletionDeadline Duration `yaml:"deletion_deadline" policy:"required"`
	// AccessReply is how an access extract is delivered (R1).
	AccessReply AccessReply `yaml:"access_reply"`
	// Portal says customers use Tillit's portal (/portal) to see their
	// data, withdraw consent and make requests.
	Portal bool `yaml:"portal"`
	// WithdrawalContact is where consent can be withdrawn besides the
	// portal (R6; Art. 7(3)).
	WithdrawalContact  string         `yaml:"withdrawal_contact"`
	StaffAccessReasons []AccessReason `yaml:"staff_access_reasons" policy:"required"`
	RuledOut           []PurposeKind  `yaml:"ruled_out"`
	// AutomatedDecisions states whether decisions with legal effect are
	// made by automated means (Art. 13(2)(f)).
	AutomatedDecisions *bool     `yaml:"automated_decisions"`
	BreachContacts     []Contact `yaml:"breach_contacts" policy:"required"`
	// MarketingObjection is where an objection to direct marketing goes
	// (R5); the portal always takes one.
	MarketingObjection string `yaml:"marketing_objection"`
	// SaleNotice is how long before a sale or merger customers are told (D4).
	SaleNotice Duration `yaml:"sale_notice"`
}

// Contact is a person or function to reach.
type Contact struct {
	Name  string `yaml:"name" policy:"required"`
	Email string `yaml:"email"`
	Phone string `yaml:"phone"`
}

// Commerce holds subscription, withdrawal, payment and price terms (M).
type Commerce struct {
	Subscription *Subscription `yaml:"subscription"`
	Withdrawal   *Withdrawal   `yaml:"withdrawal"`
	Payment      *Payment      `yaml:"payment"`
	PriceChange  *PriceChange  `yaml:"price_change"`
	// SupportIncluded is the free support window after payment (M4).
	SupportIncluded *Entitlement `yaml:"support_included"`
}

// Subscription terms (M1, M3).
type Subscription struct {
	Term    Duration    `yaml:"term" policy:"required"`
	Renewal Renewal     `yaml:"renewal" policy:"required"`
	Billing BillingTime `yaml:"billing" policy:"required"`
	Notice  Duration    `yaml:"notice"`
	// CancelBeforeExpiry is how long before the end of a term notice must
	// reach the company (002: 30 days).
	CancelBeforeExpiry Duration `yaml:"cancel_before_expiry"`
}

// Withdrawal is the right of withdrawal (M2).
type Withdrawal struct {
	Days    int           `yaml:"days" policy:"required"`
	From    WithdrawStart `yaml:"from" policy:"required"`
	Channel string        `yaml:"channel"`
	// IncludesRemoval says dismantling is part of the withdrawal (000).
	IncludesRemoval bool `yaml:"includes_removal"`
}

// Payment terms and dunning (M5-M7).
type Payment struct {
	Methods []PaymentMethod `yaml:"methods" policy:"required"`
	DueDays int             `yaml:"due_days" policy:"required"`
	Dunning []DunningStep   `yaml:"dunning"`
	// InvoiceByEmailOnly: invoices go by e-mail only (002).
	InvoiceByEmailOnly bool   `yaml:"invoice_by_email_only"`
	Provider           string `yaml:"provider"`
}

// DunningStep is one step after the due date.
type DunningStep struct {
	After  Duration      `yaml:"after" policy:"required"`
	Action DunningAction `yaml:"action" policy:"required"`
}

// PriceChange caps price rises (M8).
type PriceChange struct {
	CapPercentPerYear float64  `yaml:"cap_percent_per_year" policy:"required"`
	Notice            Duration `yaml:"notice" policy:"required"`
}

// Entitlement is a window counted from an event (M4).
type Entitlement struct {
	Period Duration    `yaml:"period" policy:"required"`
	From   EntitleFrom `yaml:"from" policy:"required"`
}

// Support hours and targets (H1, H3).
type Support struct {
	Channels []Channel `yaml:"channels" policy:"required"`
	Hours    *Hours    `yaml:"hours"`
	Targets  []Target  `yaml:"targets"`
	Uptime   float64   `yaml:"uptime_percent"`
}

// Hours are opening hours on working days of the company's calendar.
type Hours struct {
	Open  string `yaml:"open" policy:"required"`
	Close string `yaml:"close" policy:"required"`
}

// Target is one support target: e.g. a first answer within 4h of business
// hours.
type Target struct {
	Kind   TargetKind `yaml:"kind" policy:"required"`
	Within Duration   `yaml:"within"`
	Clock  ClockKind  `yaml:"clock" policy:"required"`
	// Scope narrows the target (e.g. "own systems"); free text.
	Scope Text `yaml:"scope"`
}

// Terms are the contract-side rules.
type Terms struct {
	// GovernsExisting says which terms version governs an existing
	// contract (P4): the one accepted, or the latest published.
	GovernsExisting Governs  `yaml:"governs_existing" policy:"required"`
	ChangeNotice    Duration `yaml:"change_notice"`
	MinimumAge      int      `yaml:"minimum_age"`
	Service         Text     `yaml:"service" policy:"required"`
}

// Clause is a free-text clause with a stable ID that incidents and
// sanctions cite.
type Clause struct {
	ID    string `yaml:"id" policy:"required"`
	Title Text   `yaml:"title" policy:"required"`
	Text  Text   `yaml:"text" policy:"required"`
	// In says which document shows the clause: terms (default) or privacy.
	In DocKind `yaml:"in"`
}

// Lang is a language the documents are rendered in.
type Lang string

// The four languages.
const (
	SV Lang = "sv"
	DA Lang = "da"
	NB Lang = "nb"
	EN Lang = "en"
)

// AllLangs lists the languages in render order.
var AllLangs = []Lang{SV, DA, NB, EN}

// Text is a text in one or more languages. In the file it is either one
// string (the same text for every language) or a map from language to text.
type Text map[Lang]string

// In returns the text in lang, else in English, else in any language in
// AllLangs order.
func (t Text) In(lang Lang) string {
	if s, ok := t[lang]; ok {
		return s
	}
	if s, ok := t[""]; ok {
		return s
	}
	if s, ok := t[EN]; ok {
		return s
	}
	for _, l := range AllLangs {
		if s, ok := t[l]; ok {
			return s
		}
	}
	return ""
}

// Empty reports whether no language has text.
func (t Text) Empty() bool {
	for _, s := range t {
		if strings.TrimSpace(s) != "" {
			return false
		}
	}
	return true
}

// Duration is a calendar duration written as one or more number-unit pairs
// from largest to smallest unit: "7y", "1y6m", "30d", "2w", "4h", "15min".
// Retention periods take y, m, w, d; support targets also h and min.
type Duration struct {
	Years, Months, Days, Hours, Minutes int
	set                                 bool
}

// IsZero reports whether the duration was not given.
func (d Duration) IsZero() bool { return !d.set }

// Calendar reports whether the duration has only years, months and days.
func (d Duration) Calendar() bool { return d.Hours == 0 && d.Minutes == 0 }

// ApproxDays is a rough length used for ordering checks only.
func (d Duration) ApproxDays() float64 {
	return float64(d.Years)*365.25 + float64(d.Months)*30.44 + float64(d.Days) +
		float64(d.Hours)/24 + float64(d.Minutes)/1440
}

func (d Duration) String() string {
	if !d.set {
		return ""
	}
	var b strings.Builder
	add := func(n int, u string) {
		if n != 0 {
			b.WriteString(strconv.Itoa(n) + u)
		}
	}
	add(d.Years, "y")
	add(d.Months, "m")
	add(d.Days, "d")
	add(d.Hours, "h")
	add(d.Minutes, "min")
	if b.Len() == 0 {
		return "0d"
	}
	return b.String()
}

// maxDurationYears bounds durations: nothing in a policy runs a century.
const maxDurationYears = 100

// ParseDuration parses the duration syntax of the policy file.
func ParseDuration(s string) (Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return Duration{}, fmt.Errorf("empty duration; write e.g. 30d, 6m, 1y, 4h")
	}
	units := []string{"y", "m", "w", "d", "h", "min"}
	last := -1
	var d Duration
	rest := in
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			if rest[0] == '-' {
				return Duration{}, fmt.Errorf("duration %q is negative", in)
			}
			return Duration{}, fmt.Errorf("duration %q: expected a number at %q", in, rest)
		}
		if i > 6 {
			return Duration{}, fmt.Errorf("duration %q is too long", in)
		}
		n, _ := strconv.Atoi(rest[:i])
		rest = rest[i:]
		j := 0
		for j < len(rest) && rest[j] >= 'a' && rest[j] <= 'z' {
			j++
		}
		u := rest[:j]
		rest = rest[j:]
		k := -1
		for x, v := range units {
			if v == u {
				k = x
			}
		}
		if k < 0 {
			if u == "" {
				return Duration{}, fmt.Errorf("duration %q: number without a unit (y, m, w, d, h, min)", in)
			}
			return Duration{}, fmt.Errorf("duration %q: unknown unit %q (use y, m, w, d, h, min)", in, u)
		}
		if k <= last {
			return Duration{}, fmt.Errorf("duration %q: units must appear once, largest first", in)
		}
		last = k
		switch u {
		case "y":
			d.Years = n
		case "m":
			d.Months = n
		case "w":
			d.Days += 7 * n
		case "d":
			d.Days += n
		case "h":
			d.Hours = n
		case "min":
			d.Minutes = n
		}
	}
	d.set = true
	if d.ApproxDays() > maxDurationYears*365.25 {
		return Duration{}, fmt.Errorf("duration %q is longer than %d years", in, maxDurationYears)
	}
	return d, nil
}

// Lifetime is a cookie lifetime: a duration or the end of the session.
type Lifetime struct {
	Session bool
	Duration
}

// Retention is a retention rule: a period after an event, or the
// country's statutory bookkeeping retention.
type Retention struct {
	// BookkeepingLaw means "as long as the country's bookkeeping law
	// requires" (T3); Period and After are then empty.
	BookkeepingLaw bool
	Period         Duration `yaml:"period"`
	After          Event    `yaml:"after"`
}

// RetentionBookkeepingLaw is the scalar form of a statutory rule.
const RetentionBookkeepingLaw = "bookkeeping_law"

// Event starts a retention period.
type Event string

// Retention events.
const (
	EventContractEnd       Event = "contract_end"
	EventLastPurchase      Event = "last_purchase"
	EventFiscalYearEnd     Event = "fiscal_year_end"
	EventCollection        Event = "collection"
	EventConsentWithdrawal Event = "consent_withdrawal"
	EventRequestClosed     Event = "request_closed"
)

// Country is an ISO 3166-1 alpha-2 code. The company and the law must be
// SE, DK or NO; recipients and storage may be anywhere.
type Country string

// Basis is the lawful basis of GDPR Art. 6(1).
type Basis string

// Art. 6(1)(a)-(f).
const (
	BasisConsent             Basis = "consent"              // (a)
	BasisContract            Basis = "contract"             // (b)
	BasisLegalObligation     Basis = "legal_obligation"     // (c)
	BasisVitalInterests      Basis = "vital_interests"      // (d)
	BasisPublicTask          Basis = "public_task"          // (e)
	BasisLegitimateInterests Basis = "legitimate_interests" // (f)
)

// Art9Basis is the condition of GDPR Art. 9(2) for special categories.
type Art9Basis string

// Source is where the data comes from (K5; Art. 14(2)(f)).
type Source string

// Data sources.
const (
	SourceDataSubject    Source = "data_subject"
	SourceStaff          Source = "staff"
	SourcePublicRegister Source = "public_register"
	SourceCreditBureau   Source = "credit_bureau"
	SourceProcessor      Source = "processor"
	SourceThirdParty     Source = "third_party"
	SourceGenerated      Source = "generated"
)

// PurposeKind is a purpose of processing, typed so that ruled-out
// purposes can be checked.
type PurposeKind string

// Purposes.
const (
	PurposeContract            PurposeKind = "contract"
	PurposeBilling             PurposeKind = "billing"
	PurposeBookkeeping         PurposeKind = "bookkeeping"
	PurposeSupport             PurposeKind = "support"
	PurposeSecurity            PurposeKind = "security"
	PurposeFraudPrevention     PurposeKind = "fraud_prevention"
	PurposeServiceImprovement  PurposeKind = "service_improvement"
	PurposeStatistics          PurposeKind = "statistics"
	PurposeOwnMarketing        PurposeKind = "own_marketing"
	PurposeNewsletter          PurposeKind = "newsletter"
	PurposeCreditCheck         PurposeKind = "credit_check"
	PurposeAddressUpdate       PurposeKind = "address_update"
	PurposeLegalObligation     PurposeKind = "legal_obligation"
	PurposeDomainRegistration  PurposeKind = "domain_registration"
	PurposePayment             PurposeKind = "payment"
	PurposeHosting             PurposeKind = "hosting"
	PurposeProcurement         PurposeKind = "procurement"
	PurposeThirdPartyMarketing PurposeKind = "third_party_marketing"
	PurposeProfiling           PurposeKind = "profiling"
	PurposeSaleOfData          PurposeKind = "sale_of_data"
	PurposeTargetedAds         PurposeKind = "targeted_advertising"
)

// Role of a recipient.
type Role string

// Recipient roles.
const (
	RoleProcessor       Role = "processor"
	RoleController      Role = "controller"
	RoleJointController Role = "joint_controller"
)

// TransferBasis is the GDPR Chapter V basis for a transfer outside the
// EU/EEA. "Safe third country" is not one.
type TransferBasis string

// Transfer bases.
const (
	TransferAdequacy   TransferBasis = "adequacy"   // Art. 45
	TransferSCC        TransferBasis = "scc"        // Art. 46(2)(c)
	TransferBCR        TransferBasis = "bcr"        // Art. 47
	TransferDerogation TransferBasis = "derogation" // Art. 49
)

// CookieCategory is a cookie banner category (C1).
type CookieCategory string

// Cookie categories.
const (
	CookieNecessary   CookieCategory = "necessary"
	CookiePreferences CookieCategory = "preferences"
	CookieStatistics  CookieCategory = "statistics"
	CookieMarketing   CookieCategory = "marketing"
)

// AccessReason is a reason that lets staff open a customer's data (S3).
type AccessReason string

// Staff access reasons.
const (
	ReasonTicket   AccessReason = "ticket"
	ReasonRequest  AccessReason = "request"
	ReasonContract AccessReason = "contract"
	ReasonFreeText AccessReason = "free_text"
)

// AccessReply is how an access extract reaches the data subject (R1).
type AccessReply string

// Access reply channels.
const (
	ReplyPortal           AccessReply = "portal"
	ReplyEmail            AccessReply = "email"
	ReplyPostToRegistered AccessReply = "post_to_registered_address"
)

// Provision says whether giving the data is a statutory or contractual
// requirement (Art. 13(2)(e)).
type Provision string

// Provision kinds.
const (
	ProvisionContractual Provision = "contractual"
	ProvisionStatutory   Provision = "statutory"
	ProvisionVoluntary   Provision = "voluntary"
)

// Renewal of a subscription.
type Renewal string

// Renewal kinds.
const (
	RenewalAutomatic Renewal = "automatic"
	RenewalNone      Renewal = "none"
)

// BillingTime says when a subscription is paid.
type BillingTime string

// Billing times.
const (
	BillingInAdvance BillingTime = "in_advance"
	BillingInArrears BillingTime = "in_arrears"
)

// WithdrawStart is the event the withdrawal period runs from.
type WithdrawStart string

// Withdrawal starts.
const (
	WithdrawFromContract     WithdrawStart = "contract"
	WithdrawFromDelivery     WithdrawStart = "delivery"
	WithdrawFromInstallation WithdrawStart = "installation"
)

// PaymentMethod is an accepted way to pay.
type PaymentMethod string

// Payment methods.
const (
	PayCard    PaymentMethod = "card"
	PayInvoice PaymentMethod = "invoice"
	PayOnSite  PaymentMethod = "on_site"
)

// DunningAction is what a dunning step does (M7).
type DunningAction string

// Dunning actions.
const (
	DunReminder   DunningAction = "reminder"
	DunSuspend    DunningAction = "suspend_access"
	DunCollection DunningAction = "debt_collection"
)

// EntitleFrom is the event a support entitlement runs from.
type EntitleFrom string

// Entitlement starts.
const (
	EntitleFromPayment  EntitleFrom = "payment"
	EntitleFromDelivery EntitleFrom = "delivery"
)

// Channel is a support channel.
type Channel string

// Support channels.
const (
	ChannelEmail  Channel = "email"
	ChannelPhone  Channel = "phone"
	ChannelPortal Channel = "portal"
)

// TargetKind is what a support target measures.
type TargetKind string

// Target kinds.
const (
	TargetFirstAnswer TargetKind = "first_answer"
	TargetResolution  TargetKind = "resolution"
	TargetRepairStart TargetKind = "repair_start"
)

// ClockKind is the clock a support target runs on (nordic clocks).
type ClockKind string

// Clocks.
const (
	ClockBusinessHours  ClockKind = "business_hours"
	ClockAroundTheClock ClockKind = "around_the_clock"
	ClockSameDay        ClockKind = "same_day"
)

// Governs is which terms version governs an existing contract (P4).
type Governs string

// Governing versions.
const (
	GovernsAccepted Governs = "accepted"
	GovernsLatest   Governs = "latest"
)

// DocKind is one of the two rendered documents.
type DocKind string

// Documents.
const (
	DocPrivacy DocKind = "privacy"
	DocTerms   DocKind = "terms"
)

// Format is an output format of Render.
type Format string

// Formats.
const (
	HTML     Format = "html"
	Markdown Format = "md"
)

// enums lists every enum's allowed values; the decoder, the checks and the
// JSON Schema all read it, so the three cannot drift.
var enums = map[string][]string{
	"Lang":           {"sv", "da", "nb", "en"},
	"Event":          {"contract_end", "last_purchase", "fiscal_year_end", "collection", "consent_withdrawal", "request_closed"},
	"Basis":          {"consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests"},
	"Art9Basis":      {"explicit_consent", "employment", "vital_interests", "not_for_profit", "made_public", "legal_claims", "substantial_public_interest", "health_care", "public_health", "archiving"},
	"Source":         {"data_subject", "staff", "public_register", "credit_bureau", "processor", "third_party", "generated"},
	"PurposeKind":    {"contract", "billing", "bookkeeping", "support", "security", "fraud_prevention", "service_improvement", "statistics", "own_marketing", "newsletter", "credit_check", "address_update", "legal_obligation", "domain_registration", "payment", "hosting", "procurement", "third_party_marketing", "profiling", "sale_of_data", "targeted_advertising"},
	"Role":           {"processor", "controller", "joint_controller"},
	"TransferBasis":  {"adequacy", "scc", "bcr", "derogation"},
	"CookieCategory": {"necessary", "preferences", "statistics", "marketing"},
	"AccessReason":   {"ticket", "request", "contract", "free_text"},
	"AccessReply":    {"portal", "email", "post_to_registered_address"},
	"Provision":      {"contractual", "statutory", "voluntary"},
	"Renewal":        {"automatic", "none"},
	"BillingTime":    {"in_advance", "in_arrears"},
	"WithdrawStart":  {"contract", "delivery", "installation"},
	"PaymentMethod":  {"card", "invoice", "on_site"},
	"DunningAction":  {"reminder", "suspend_access", "debt_collection"},
	"EntitleFrom":    {"payment", "delivery"},
	"Channel":        {"email", "phone", "portal"},
	"TargetKind":     {"first_answer", "resolution", "repair_start"},
	"ClockKind":      {"business_hours", "around_the_clock", "same_day"},
	"Governs":        {"accepted", "latest"},
	"DocKind":        {"privacy", "terms"},
	"AuthorityID":    {"imy", "datatilsynet_dk", "datatilsynet_no"},
}
