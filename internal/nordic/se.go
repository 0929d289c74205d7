package nordic

import "strings"

// interimLetters are the letters the personnummer/meta test suite accepts in
// the first serial position of a SE interim number. The format and legal
// status of interim numbers are UNVERIFIED (legal.md §6); the Luhn check is
// computed with the letter read as 1, as that suite does.
const interimLetters = "TRSUWXJKLMN"

// parseSEPerson accepts YYMMDDNNNC, YYMMDD-NNNC, YYMMDD+NNNC, YYYYMMDDNNNC,
// YYYYMMDD-NNNC and YYYYMMDD+NNNC (surrounding space is ignored).
// sePerson is a validated Swedish personal number, not yet written out: ParsePerson
// builds the canonical string from it, ValidPerson does not need to.
type sePerson struct {
	kind         Kind
	year, mm, dd int
	body, serial string
	sex          Sex
}

func parseSEPersonParts(in string, opt Options) (sePerson, error) {
	s := strings.TrimSpace(in)
	var cc, body, serial string
	sep := byte(0)
	switch len(s) {
	case 10:
		body, serial = s[:6], s[6:]
	case 11:
		body, sep, serial = s[:6], s[6], s[7:]
	case 12:
		cc, body, serial = s[:2], s[2:8], s[8:]
	case 13:
		cc, body, sep, serial = s[:2], s[2:8], s[8], s[9:]
	default:
		return sePerson{}, failErr(in, "must have 10 or 12 digits (YYMMDD-NNNC or YYYYMMDD-NNNC)")
	}
	if sep != 0 && sep != '-' && sep != '+' {
		return sePerson{}, failErr(in, "separator must be '-' or '+'")
	}
	if !allDigits(cc) || !allDigits(body) || !allDigits(serial[1:]) {
		return sePerson{}, failErr(in, "must contain only digits and one separator")
	}
	interim := false
	first := serial[0]
	if !isDigit(first) {
		up := first &^ 0x20
		if up < 'A' || up > 'Z' {
			return sePerson{}, failErr(in, "must contain only digits and one separator")
		}
		if !opt.AllowInterim {
			return sePerson{}, failErr(in, "interim numbers are not accepted here")
		}
		if strings.IndexByte(interimLetters, up) < 0 {
			return sePerson{}, failErr(in, "letter is not a valid interim-number letter")
		}
		interim = true
		serial = string(up) + serial[1:]
	}
	luhnForm := body + serial
	if interim {
		luhnForm = body + "1" + serial[1:]
	}
	yy, mm, dd := num(body[:2]), num(body[2:4]), num(body[4:6])
	kind := KindPersonnummer
	day := dd
	if dd > 60 {
		day = dd - 60
		kind = KindSamordningsnummer
	}
	if interim {
		kind = KindInterim
	}
	if mm < 1 || mm > 12 {
		if mm >= 20 {
			return sePerson{}, failErr(in, "month is not valid (this looks like an organisation number)")
		}
		return sePerson{}, failErr(in, "month is not valid")
	}
	if day < 1 || day > 31 {
		return sePerson{}, failErr(in, "day is not valid")
	}
	if !luhn(luhnForm) {
		return sePerson{}, failErr(in, "check digit is wrong")
	}
	if serial[:3] == "000" {
		// Birth numbers run 001-999 (rule from the personnummer/meta test
		// suite; not stated in legal.md).
		return sePerson{}, failErr(in, "individual number 000 is not issued")
	}
	var year int
	if cc != "" {
		c := num(cc)
		if c < 18 || c > 20 {
			return sePerson{}, failErr(in, "century must be 18, 19 or 20")
		}
		year = c*100 + yy
		if sep == '+' && opt.On.Year()-year < 100 {
			return sePerson{}, failErr(in, "'+' separator means 100 years or older, which does not match the birth year")
		}
	} else if sep == '+' {
		// '+' from the year the person turns 100.
		oy := opt.On.Year() - 100
		year = oy - ((oy-yy)%100+100)%100
	} else {
		year = recentYear(yy, mm, day, opt.On)
	}
	if !validDate(year, mm, day) {
		return sePerson{}, failErr(in, "date is not a real calendar date")
	}
	if !notAfter(year, mm, day, opt.On) {
		return sePerson{}, failErr(in, "birth date is in the future")
	}
	sex := SexFemale
	if (serial[2]-'0')%2 == 1 {
		sex = SexMale
	}
	return sePerson{kind: kind, year: year, mm: mm, dd: day, body: body, serial: serial, sex: sex}, nil
}

func parseSEPerson(in string, opt Options) (ID, error) {
	p, err := parseSEPersonParts(in, opt)
	if err != nil {
		return ID{}, err
	}
	return ID{
		Country:   SE,
		Kind:      p.kind,
		Canonical: itoa4(p.year) + p.body[2:] + "-" + p.serial,
		BirthDate: birth(p.year, p.mm, p.dd),
		Sex:       p.sex,
	}, nil
}

func itoa4(n int) string {
	b := []byte{'0', '0', '0', '0'}
	for i := 3; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b)
}

// parseSEOrg accepts NNNNNN-NNNC, NNNNNNNNNC, the "16"-prefixed 12-digit
// form, and a sole trader's personnummer/samordningsnummer (10 or 12 digits).
// The canonical form is always the 10-digit NNNNNN-NNNC.
func parseSEOrg(in string) (ID, error) {
	s := strings.TrimSpace(in)
	var prefix, body, serial string
	switch len(s) {
	case 10:
		body, serial = s[:6], s[6:]
	case 11:
		if s[6] != '-' {
			return fail(in, "separator must be '-'")
		}
		body, serial = s[:6], s[7:]
	case 12:
		prefix, body, serial = s[:2], s[2:8], s[8:]
	case 13:
		if s[8] != '-' {
			return fail(in, "separator must be '-'")
		}
		prefix, body, serial = s[:2], s[2:8], s[9:]
	default:
		return fail(in, "must have 10 digits (NNNNNN-NNNC)")
	}
	if !allDigits(prefix) || !allDigits(body) || !allDigits(serial) {
		return fail(in, "must contain only digits and one separator")
	}
	ten := body + serial
	if !luhn(ten) {
		return fail(in, "check digit is wrong")
	}
	canonical := body + "-" + serial
	if ten[2] < '2' && serial[:3] == "000" {
		return fail(in, "individual number 000 is not issued")
	}
	if ten[2] >= '2' {
		if prefix != "" && prefix != "16" {
			return fail(in, "12-digit organisation number must start with 16")
		}
		return ID{Country: SE, Kind: KindOrganisationsnummer, Canonical: canonical}, nil
	}
	// Sole trader: the owner's personnummer (or samordningsnummer).
	mm, dd := num(body[2:4]), num(body[4:6])
	kind := KindPersonnummer
	if dd > 60 {
		dd -= 60
		kind = KindSamordningsnummer
	}
	year := 2000 + num(body[:2]) // any leap-year-compatible century
	if prefix != "" && prefix != "16" {
		c := num(prefix)
		if c < 18 || c > 20 {
			return fail(in, "12-digit number must start with 16, 18, 19 or 20")
		}
		year = c*100 + num(body[:2])
	}
	if !validDate(year, mm, dd) {
		return fail(in, "neither an organisation number (third digit must be 2 or more) nor a personnummer with a real date")
	}
	sex := SexFemale
	if (serial[2]-'0')%2 == 1 {
		sex = SexMale
	}
	return ID{Country: SE, Kind: kind, Canonical: canonical, Sex: sex, AlsoOrgNumber: true}, nil
}
