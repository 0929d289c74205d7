package nordic

import (
	"strconv"
	"strings"
)

// Payment references printed on invoices and matched on incoming payments
// (requirement M5), per billing.md §1. Errors are *Error values with a
// specific reason ("check digit should be 4").

// Limits of the reference schemes (billing.md §1.1, §1.2).
const (
	refMinLen = 2
	refMaxLen = 25
)

// luhnDigit is the Luhn ("10-modul", modulus 10) check digit of a digit
// payload: weights 2,1,2,1,... from the rightmost payload digit, products
// over 9 reduced by 9, check = (10 - sum mod 10) mod 10 (billing.md §1.0).
func luhnDigit(payload string) byte {
	sum := 0
	for i := 0; i < len(payload); i++ {
		d := int(payload[len(payload)-1-i] - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// joinParts concatenates digit strings and rejects anything else.
func joinParts(parts []string) (string, error) {
	var b strings.Builder
	for _, p := range parts {
		if p == "" || !allDigits(p) {
			return "", &Error{Input: p, Reason: "every part must be a non-empty string of digits"}
		}
		b.WriteString(p)
	}
	if b.Len() == 0 {
		return "", &Error{Reason: "no digits to build a reference from"}
	}
	return b.String(), nil
}

func refErr(in, reason string) error { return &Error{Input: in, Reason: reason} }

// ---- SE OCR ----

// GenerateOCR builds a Swedish OCR reference (Bankgirot/Plusgirot) from the
// digit strings in parts, concatenated in order (for example a customer
// number and an invoice number). Give the parts fixed widths (zero-padded)
// so that different pairs never give the same digits. With withLength the
// length digit (total length mod 10) is appended before the Luhn check
// digit; billing.md recommends it, as it passes every control level.
// The result has 2-25 digits.
func GenerateOCR(withLength bool, parts ...string) (string, error) {
	p, err := joinParts(parts)
	if err != nil {
		return "", err
	}
	extra := 1
	if withLength {
		extra = 2
	}
	if len(p)+extra > refMaxLen {
		return "", refErr(p, "reference would be longer than 25 digits")
	}
	if withLength {
		p += strconv.Itoa((len(p) + 2) % 10)
	}
	return p + string(luhnDigit(p)), nil
}

// ValidateOCR checks an incoming Swedish OCR reference: 2-25 digits, last
// digit the Luhn check digit over all preceding digits, and with withLength
// the second-to-last digit the total length mod 10 (billing.md §1.1).
// Spaces are not accepted (strip them before calling).
func ValidateOCR(s string, withLength bool) error {
	if len(s) < refMinLen || len(s) > refMaxLen {
		return refErr(s, "must have 2 to 25 digits")
	}
	if !allDigits(s) {
		return refErr(s, "must contain only digits")
	}
	if withLength && len(s) < 3 {
		return refErr(s, "with a length digit it must have 3 to 25 digits")
	}
	if c := luhnDigit(s[:len(s)-1]); c != s[len(s)-1] {
		return refErr(s, "check digit should be "+string(c))
	}
	if withLength {
		if l := byte('0' + len(s)%10); s[len(s)-2] != l {
			return refErr(s, "length digit should be "+string(l))
		}
	}
	return nil
}

// ---- NO KID ----

// KIDMod chooses the KID check-digit algorithm; the bank's KID agreement
// fixes it per account (billing.md §1.2).
type KIDMod int

// KID algorithms.
const (
	KIDMod10 KIDMod = 10 // Luhn
	KIDMod11 KIDMod = 11 // weights 2,3,4,5,6,7,... from the right; '-' for 10
)

// kidMod11Digit: r = sum mod 11; r=0 -> '0'; r=1 -> '-'; else 11-r.
func kidMod11Digit(payload string) byte {
	sum := 0
	for i := 0; i < len(payload); i++ {
		sum += int(payload[len(payload)-1-i]-'0') * (2 + i%6)
	}
	switch r := sum % 11; r {
	case 0:
		return '0'
	case 1:
		return '-'
	default:
		return byte('0' + 11 - r)
	}
}

func kidDigit(mod KIDMod, payload string) (byte, bool) {
	switch mod {
	case KIDMod10:
		return luhnDigit(payload), true
	case KIDMod11:
		return kidMod11Digit(payload), true
	}
	return 0, false
}

// GenerateKID builds a Norwegian KID from the digit strings in parts
// (concatenated; give them fixed widths) and the check digit of mod. With
// KIDMod11 the check character is '-' when the remainder gives 10
// (billing.md §1.2; the payer must type it). The result has 2-25
// characters.
func GenerateKID(mod KIDMod, parts ...string) (string, error) {
	p, err := joinParts(parts)
	if err != nil {
		return "", err
	}
	if len(p)+1 > refMaxLen {
		return "", refErr(p, "KID would be longer than 25 characters")
	}
	c, ok := kidDigit(mod, p)
	if !ok {
		return "", refErr(p, "KID algorithm must be MOD10 or MOD11")
	}
	return p + string(c), nil
}

// ValidateKID checks an incoming KID: 2-25 characters, digits with the last
// one the check character of mod ('-' allowed only as MOD11 check
// character).
func ValidateKID(s string, mod KIDMod) error {
	if mod != KIDMod10 && mod != KIDMod11 {
		return refErr(s, "KID algorithm must be MOD10 or MOD11")
	}
	if len(s) < refMinLen || len(s) > refMaxLen {
		return refErr(s, "must have 2 to 25 characters")
	}
	body, last := s[:len(s)-1], s[len(s)-1]
	if !allDigits(body) {
		return refErr(s, "must contain only digits (and '-' as a MOD11 check character)")
	}
	if !isDigit(last) && !(last == '-' && mod == KIDMod11) {
		if last == '-' {
			return refErr(s, "'-' is only a MOD11 check character")
		}
		return refErr(s, "must contain only digits (and '-' as a MOD11 check character)")
	}
	if c, _ := kidDigit(mod, body); c != last {
		return refErr(s, "check digit should be "+string(c))
	}
	return nil
}

// ---- DK FIK ----

// FIK is a Danish Fælles Indbetalingskort payment line (billing.md §1.3):
// kortart (Type) 71 with a 15-digit betalings-ID, 73 without one, or 75
// with a 16-digit betalings-ID; and the 8-digit FI creditor number.
type FIK struct {
	Type           int
	Reference      string // betalings-ID incl. check digit; "" for +73
	CreditorNumber string
}

// fikRefLen is the betalings-ID length (check digit included) per type.
func fikRefLen(t int) (int, bool) {
	switch t {
	case 71:
		return 15, true
	case 73:
		return 0, true
	case 75:
		return 16, true
	}
	return 0, false
}

// NewFIK builds a FIK line of type 71 or 75 from a payload of digits
// (zero-padded on the left to 14 resp. 15 digits, then the check digit) or
// of type 73 (payload must be empty).
//
// Check digit: modulus 10 with weights 1,2,1,2,... from the left over the
// 14 payload digits (for +71 identical to Luhn), per billing.md §1.3
// (Business-DK-FI; the Nets "FI-kort" specification itself was not found,
// UNVERIFIED). For +75 the same Luhn over 15 digits is assumed
// (UNVERIFIED in billing.md).
//
// The creditor number must be 8 digits. billing.md says FI creditor numbers
// start with 8, but its only source is a printer's FAQ and its own examples
// use 12345678, so the first digit is not checked.
func NewFIK(typ int, payload, creditor string) (FIK, error) {
	n, ok := fikRefLen(typ)
	if !ok {
		return FIK{}, refErr(payload, "FIK type must be 71, 73 or 75")
	}
	if err := checkCreditor(creditor); err != nil {
		return FIK{}, err
	}
	if n == 0 {
		if payload != "" {
			return FIK{}, refErr(payload, "FIK +73 has no payment ID")
		}
		return FIK{Type: typ, CreditorNumber: creditor}, nil
	}
	if payload == "" || !allDigits(payload) {
		return FIK{}, refErr(payload, "payment ID payload must be digits")
	}
	if len(payload) > n-1 {
		return FIK{}, refErr(payload, "payment ID payload must have at most "+strconv.Itoa(n-1)+" digits")
	}
	p := strings.Repeat("0", n-1-len(payload)) + payload
	return FIK{Type: typ, Reference: p + string(luhnDigit(p)), CreditorNumber: creditor}, nil
}

func checkCreditor(c string) error {
	if len(c) != 8 || !allDigits(c) {
		return refErr(c, "creditor number must have 8 digits")
	}
	return nil
}

// Validate checks the type, the payment ID length and check digit, and the
// creditor number.
func (f FIK) Validate() error {
	n, ok := fikRefLen(f.Type)
	if !ok {
		return refErr(f.Reference, "FIK type must be 71, 73 or 75")
	}
	if err := checkCreditor(f.CreditorNumber); err != nil {
		return err
	}
	if n == 0 {
		if f.Reference != "" {
			return refErr(f.Reference, "FIK +73 has no payment ID")
		}
		return nil
	}
	if len(f.Reference) != n || !allDigits(f.Reference) {
		return refErr(f.Reference, "payment ID of FIK +"+strconv.Itoa(f.Type)+" must have "+strconv.Itoa(n)+" digits")
	}
	if c := luhnDigit(f.Reference[:n-1]); c != f.Reference[n-1] {
		return refErr(f.Reference, "check digit should be "+string(c))
	}
	return nil
}

// String is the payment line as printed: "+71<000000000123455+12345678<",
// "+73<+12345678<", "+75<0000000000001236+12345678<".
func (f FIK) String() string {
	return "+" + strconv.Itoa(f.Type) + "<" + f.Reference + "+" + f.CreditorNumber + "<"
}

// ParseFIK reads a FIK payment line as String writes it. Spaces anywhere
// are ignored ("+71< 004040400000669+12345678<" as printed by some
// systems). The result is validated.
func ParseFIK(line string) (FIK, error) {
	s := strings.ReplaceAll(line, " ", "")
	if len(s) < 4 || s[0] != '+' || s[3] != '<' || !isDigit(s[1]) || !isDigit(s[2]) {
		return FIK{}, refErr(line, "FIK line must start with +71<, +73< or +75<")
	}
	typ := int(s[1]-'0')*10 + int(s[2]-'0')
	if _, ok := fikRefLen(typ); !ok {
		return FIK{}, refErr(line, "FIK type must be 71, 73 or 75")
	}
	rest := s[4:]
	plus := strings.IndexByte(rest, '+')
	if plus < 0 || !strings.HasSuffix(rest, "<") || len(rest) < plus+2 {
		return FIK{}, refErr(line, "FIK line must have the form +TT<ID+CREDITOR<")
	}
	f := FIK{Type: typ, Reference: rest[:plus], CreditorNumber: rest[plus+1 : len(rest)-1]}
	if err := f.Validate(); err != nil {
		return FIK{}, err
	}
	return f, nil
}
