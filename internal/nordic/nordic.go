// Package nordic holds pure Nordic rules; no I/O.
//
// It validates and normalises personal identity numbers (SE personnummer,
// samordningsnummer and interim numbers, DK CPR, NO fødselsnummer, D-nummer
// and H-nummer) and organisation numbers (SE organisationsnummer, DK CVR,
// NO organisasjonsnummer). Requirement K2 (validation) and K3 (age) use it.
//
// It also holds working-day calendars (SE, DK, NO) and business-hours clocks
// (calendar.go, clock.go; H1), GDPR, withdrawal and bookkeeping-retention
// deadlines (deadlines.go; R1, B1, M2, T3) and payment references: SE OCR,
// NO KID, DK FIK (payref.go; M5).
//
// The package never reads the clock: every function that needs "today"
// takes the reference date from the caller (Options.On, Age(on)).
//
// Identity numbers are personal data. Error values therefore do not put the
// input in their Error() text; the input is kept in Error.Input for callers
// that have a lawful reason to show it.
package nordic

import (
	"strings"
	"time"
)

// Country is an ISO 3166-1 alpha-2 code of a supported country.
type Country string

// Supported countries.
const (
	SE Country = "SE"
	DK Country = "DK"
	NO Country = "NO"
)

// Kind tells which kind of number an ID is.
type Kind string

// Kinds of numbers.
const (
	KindPersonnummer        Kind = "personnummer"        // SE
	KindSamordningsnummer   Kind = "samordningsnummer"   // SE, day + 60
	KindInterim             Kind = "interim"             // SE, letter in the first serial position
	KindCPR                 Kind = "cpr"                 // DK
	KindFodselsnummer       Kind = "fodselsnummer"       // NO
	KindDNummer             Kind = "d-nummer"            // NO, day + 40
	KindHNummer             Kind = "h-nummer"            // NO, month + 40
	KindOrganisationsnummer Kind = "organisationsnummer" // SE
	KindCVR                 Kind = "cvr"                 // DK
	KindOrganisasjonsnummer Kind = "organisasjonsnummer" // NO
)

// Sex as encoded in a personal number.
type Sex string

// Sexes; SexUnknown when the number does not encode it.
const (
	SexFemale  Sex = "female"
	SexMale    Sex = "male"
	SexUnknown Sex = ""
)

// ID is a validated, normalised identity or organisation number.
type ID struct {
	Country Country
	Kind    Kind
	// Canonical is the normalised written form:
	// SE person YYYYMMDD-NNNC (interim YYYYMMDD-LNNC); SE org NNNNNN-NNNC
	// (a sole trader's personnummer as org number: YYMMDD-NNNC);
	// DK CPR DDMMYY-SSSS; DK CVR 8 digits; NO 11 or 9 digits.
	Canonical string
	// BirthDate (UTC midnight) is zero for organisation numbers, including a
	// sole trader's personnummer parsed by ParseOrg (the century is not
	// known from an org number; use ParsePerson for the birth date).
	BirthDate time.Time
	Sex       Sex
	// Mod11 reports, for DK CPR only, whether the number passes the old
	// modulus-11 check. It is informational: CPR numbers without it have
	// been issued since 2007 and must not be rejected.
	Mod11 bool
	// AlsoOrgNumber is set for a SE personnummer or samordningsnummer
	// accepted by ParseOrg: a sole trader's personal number is also the
	// organisation number.
	AlsoOrgNumber bool
	// CenturyGuessed is set for NO numbers whose century could not be read
	// from the individual number (numbers under the 2032 rules, or outside
	// the legacy table). BirthDate is then the most recent matching date not
	// after the reference date and must be confirmed from Folkeregisteret.
	CenturyGuessed bool
}

// Options for ParsePerson.
type Options struct {
	// AllowInterim accepts SE interim numbers (Kind "interim").
	AllowInterim bool
	// On is the reference date ("today"). It is required: it decides the
	// century of 10-digit SE numbers and rejects birth dates in the future.
	On time.Time
}

// Error is returned for every rejected input. Reason is human-readable
// English. Error() deliberately leaves out the input (personal data).
type Error struct {
	Input  string
	Reason string
}

func (e *Error) Error() string { return "nordic: " + e.Reason }

func fail(in, reason string) (ID, error) { return ID{}, &Error{Input: in, Reason: reason} }

func failErr(in, reason string) error { return &Error{Input: in, Reason: reason} }

// ValidPerson reports whether s is a valid personal number of country, like
// ParsePerson but without building the ID: for a valid Swedish number it allocates
// nothing, for checking large files.
func ValidPerson(country Country, s string, opt Options) error {
	if country == SE {
		if opt.On.IsZero() {
			return failErr(s, "reference date (Options.On) is required")
		}
		_, err := parseSEPersonParts(s, opt)
		return err
	}
	_, err := ParsePerson(country, s, opt)
	return err
}

// ParsePerson validates and normalises a personal identity number of the
// given country.
func ParsePerson(country Country, s string, opt Options) (ID, error) {
	if opt.On.IsZero() {
		return fail(s, "reference date (Options.On) is required")
	}
	switch country {
	case SE:
		return parseSEPerson(s, opt)
	case DK:
		return parseCPR(s, opt)
	case NO:
		return parseFNR(s, opt)
	}
	return fail(s, "unsupported country")
}

// ParseOrg validates and normalises an organisation number of the given
// country. For SE a sole trader's personnummer is accepted as well and
// reported with AlsoOrgNumber.
func ParseOrg(country Country, s string) (ID, error) {
	switch country {
	case SE:
		return parseSEOrg(s)
	case DK:
		return parseCVR(s)
	case NO:
		return parseNOOrg(s)
	}
	return fail(s, "unsupported country")
}

// Age is the completed years on the given date, or -1 when the birth date
// is unknown or after on. A person born on 29 February has a birthday on
// 1 March in common years (convention; the statutory rule is not verified).
func (id ID) Age(on time.Time) int {
	if id.BirthDate.IsZero() {
		return -1
	}
	by, bm, bd := id.BirthDate.Date()
	y, m, d := on.Date()
	age := y - by
	if m < bm || (m == bm && d < bd) {
		age--
	}
	if age < 0 {
		return -1
	}
	return age
}

// Masked hides the serial part of a personal number: SE "19811218-****",
// DK "181281-****", NO "181281*****". Organisation numbers are not personal
// data and are returned unchanged, except a sole trader's personnummer.
func (id ID) Masked() string {
	c := id.Canonical
	switch id.Kind {
	case KindPersonnummer, KindSamordningsnummer, KindInterim, KindCPR:
		if i := strings.IndexByte(c, '-'); i >= 0 {
			return c[:i+1] + "****"
		}
	case KindFodselsnummer, KindDNummer, KindHNummer:
		if len(c) == 11 {
			return c[:6] + "*****"
		}
	default:
		return c
	}
	return strings.Repeat("*", len(c))
}

// ---- helpers ----

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func num(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func validDate(year, month, day int) bool {
	return month >= 1 && month <= 12 && day >= 1 && day <= daysIn(year, month)
}

// notAfter reports whether (y,m,d) is on or before the reference date.
func notAfter(y, m, d int, on time.Time) bool {
	oy, om, od := on.Date()
	if y != oy {
		return y < oy
	}
	if m != int(om) {
		return m < int(om)
	}
	return d <= od
}

// recentYear returns the latest year Y with Y%100 == yy such that
// (Y, m, d) is not after on.
func recentYear(yy, m, d int, on time.Time) int {
	oy := on.Year()
	y := oy - ((oy-yy)%100+100)%100
	if !notAfter(y, m, d, on) {
		y -= 100
	}
	return y
}

func birth(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

// luhn reports whether the digit string passes the Luhn check (last digit
// is the check digit).
func luhn(s string) bool {
	sum := 0
	for i := 0; i < len(s); i++ {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func weighted(s string, w []int) int {
	sum := 0
	for i, x := range w {
		sum += int(s[i]-'0') * x
	}
	return sum
}
