package security

import (
	"errors"
	"strings"
	"unicode"
)

// Normalisation before a blind index: the index is an exact match, so values that
// mean the same must be written the same before they are hashed, both when stored and
// when searched for.

var (
	// ErrBadEmail means the value is not an e-mail address.
	ErrBadEmail = errors.New("not an e-mail address")
	// ErrBadPhone means the value is not a telephone number.
	ErrBadPhone = errors.New("not a telephone number")
)

// NormalizeEmail trims and lowercases an address. The local part is case-sensitive in
// theory but not at any provider a Nordic customer uses, and a lookup that misses
// because of a capital letter is worse than that theory. Unicode is kept as given
// (no IDNA conversion).
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.Count(s, "@") != 1 || strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return "", ErrBadEmail
	}
	domain := strings.TrimSuffix(s[at+1:], ".")
	if domain == "" || strings.HasPrefix(domain, ".") || strings.Contains(domain, "..") {
		return "", ErrBadEmail
	}
	return s[:at+1] + domain, nil
}

// NormalizePhone returns a number as + country code and digits (E.164), e.g.
// "070-123 45 67" with defaultCountry "+46" gives "+46701234567". A number starting
// with + or 00 carries its own country code; one starting with a single 0 (the trunk
// prefix) or with no prefix is national and gets defaultCountry ("+46", "46", "+45",
// "+47"). Spaces, dashes, dots, slashes, brackets and the "(0)" some write after the
// country code are dropped.
func NormalizePhone(s, defaultCountry string) (string, error) {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "(0)", "")
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '/' || r == '(' || r == ')' || r == '\u00a0':
		default:
			return "", ErrBadPhone
		}
	}
	d := b.String()
	cc := strings.TrimPrefix(strings.TrimSpace(defaultCountry), "+")
	if len(cc) > 3 || strings.Trim(cc, "0123456789") != "" {
		return "", errors.New("default country code must be like +46")
	}
	switch {
	case strings.HasPrefix(d, "+"):
		d = d[1:]
	case strings.HasPrefix(d, "00"):
		d = d[2:]
	case strings.HasPrefix(d, "0"):
		d = cc + d[1:]
	default:
		d = cc + d
	}
	if cc == "" && !strings.HasPrefix(s, "+") && !strings.HasPrefix(s, "00") {
		return "", ErrBadPhone
	}
	// E.164 allows at most 15 digits; fewer than 8 is no subscriber number anywhere
	// in the Nordics.
	if len(d) < 8 || len(d) > 15 || d[0] == '0' {
		return "", ErrBadPhone
	}
	return "+" + d, nil
}
