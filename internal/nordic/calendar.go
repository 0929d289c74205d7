package nordic

import (
	"errors"
	"fmt"
	"sort"
	"time"
)

// Date is a calendar date with no time of day and no zone. It is the day
// type of the calendars and of the day-counted legal deadlines. The zero
// value is not a valid date; build dates with NewDate or DateOf.
type Date struct {
	Y int
	M time.Month
	D int
}

// NewDate returns the date, normalising overflow as time.Date does
// (31 April becomes 1 May).
func NewDate(y int, m time.Month, d int) Date {
	return DateOf(time.Date(y, m, d, 12, 0, 0, 0, time.UTC))
}

// DateOf returns the calendar date of t in t's own location; use
// DateOf(t.In(loc)) for the date in another zone.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// Time returns midnight at the start of the date in loc.
func (d Date) Time(loc *time.Location) time.Time { return time.Date(d.Y, d.M, d.D, 0, 0, 0, 0, loc) }

// days is the number of days since 1970-01-01 (civil-from-days inverse,
// H. Hinnant's algorithm; exact for the proleptic Gregorian calendar).
func (d Date) days() int {
	y, m := d.Y, int(d.M)
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d.D - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func dateFromDays(z int) Date {
	z += 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return Date{y, time.Month(m), d}
}

// AddDays returns the date n days later (earlier for negative n).
func (d Date) AddDays(n int) Date { return dateFromDays(d.days() + n) }

// AddMonths returns the same day n months later; when that month is
// shorter the result is its last day (31 January + 1 month = 28/29
// February), as Regulation 1182/71 Art. 3(2)(c) counts months.
func (d Date) AddMonths(n int) Date {
	mi := d.Y*12 + int(d.M) - 1 + n
	y, m := mi/12, time.Month(mi%12+1)
	if mi < 0 && mi%12 != 0 {
		y, m = (mi-11)/12, time.Month((mi%12+12)%12+1)
	}
	day := d.D
	if last := lastDay(y, m); day > last {
		day = last
	}
	return Date{y, m, day}
}

// Weekday of the date.
func (d Date) Weekday() time.Weekday { return time.Weekday((d.days()%7 + 7 + 4) % 7) }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Y != e.Y:
		return sign(d.Y - e.Y)
	case d.M != e.M:
		return sign(int(d.M) - int(e.M))
	}
	return sign(d.D - e.D)
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Valid reports whether d is a real calendar date.
func (d Date) Valid() bool {
	return d.M >= time.January && d.M <= time.December && d.D >= 1 && d.D <= lastDay(d.Y, d.M)
}

// String is the ISO 8601 form, e.g. "2026-03-02".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Y, int(d.M), d.D) }

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func lastDay(y int, m time.Month) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// Easter returns Easter Sunday of the Gregorian year y (anonymous
// Gregorian algorithm, Meeus/Jones/Butcher).
func Easter(y int) Date {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return Date{y, time.Month(month), day}
}

// Holiday is a day a country calendar treats as closed.
type Holiday struct {
	Date   Date
	Name   string // local language
	NameEN string
	// Public is true for statutory public holidays (SE lag (1989:253) om
	// allmänna helgdagar; DK helligdage; NO lov om helligdager og
	// helligdagsfred § 2 and lov om 1. og 17. mai som høgtidsdager). It is
	// false for days that are closed by custom but are not public holidays:
	// in Sweden Midsummer Eve, Christmas Eve and New Year's Eve.
	Public bool
}

// Calendar is the working-day calendar of a country plus a company's own
// extra closed days. Weekends (Saturday, Sunday) and holidays are closed.
// A Calendar is immutable and safe for concurrent use.
//
// Holidays are computed, not tabulated: Easter by the anonymous Gregorian
// algorithm, the rest from fixed dates or weekday rules. The rules are
// checked for 1990-2100 (including the Swedish change of 2005, when the
// National Day replaced Whit Monday, and the end of Danish Store Bededag
// after 2023); other years get today's rules.
//
// Denmark: only the statutory helligdage are closed. Grundlovsdag (5 June),
// Christmas Eve and New Year's Eve are not statutory (legal.md §7, open
// item 5); a company closed on them adds them as extra closed days.
// Norway: Christmas Eve and New Year's Eve are likewise not closed unless
// added.
type Calendar struct {
	country Country
	extra   map[Date]struct{}
}

// ErrCountry is returned for a country without a calendar.
var ErrCountry = errors.New("nordic: unsupported country")

// NewCalendar returns the calendar of c (SE, DK or NO) with the company's
// extra closed days on top of weekends and holidays.
func NewCalendar(c Country, extraClosed ...Date) (*Calendar, error) {
	switch c {
	case SE, DK, NO:
	default:
		return nil, ErrCountry
	}
	cal := &Calendar{country: c}
	if len(extraClosed) > 0 {
		cal.extra = make(map[Date]struct{}, len(extraClosed))
		for _, d := range extraClosed {
			if !d.Valid() {
				return nil, fmt.Errorf("nordic: extra closed day %v is not a real date", d)
			}
			cal.extra[d] = struct{}{}
		}
	}
	return cal, nil
}

// Country of the calendar.
func (c *Calendar) Country() Country { return c.country }

// ExtraClosed returns the company's extra closed days, sorted.
func (c *Calendar) ExtraClosed() []Date {
	out := make([]Date, 0, len(c.extra))
	for d := range c.extra {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// IsWorkingDay reports whether d is Monday-Friday, not a holiday (public or
// customary, see Holiday.Public) and not one of the company's extra closed
// days.
func (c *Calendar) IsWorkingDay(d Date) bool {
	if _, closed := c.extra[d]; closed {
		return false
	}
	return c.countryWorkingDay(d)
}

// countryWorkingDay ignores the company's extra closed days.
func (c *Calendar) countryWorkingDay(d Date) bool {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	_, ok := c.holiday(d)
	return !ok
}

// publicWorkingDay is Monday-Friday and not a statutory public holiday:
// the days Regulation 1182/71 Art. 3(4) does not move a deadline from.
func (c *Calendar) publicWorkingDay(d Date) bool {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	h, ok := c.holiday(d)
	return !ok || !h.Public
}

// IsPublicHoliday reports whether d is a statutory public holiday of the
// calendar's country (customary closed days and company days excluded).
func (c *Calendar) IsPublicHoliday(d Date) bool {
	h, ok := c.holiday(d)
	return ok && h.Public
}

// Holiday returns the holiday on d, if any (company days excluded).
func (c *Calendar) Holiday(d Date) (Holiday, bool) { return c.holiday(d) }

// NextWorkingDay returns the first working day strictly after d.
func (c *Calendar) NextWorkingDay(d Date) Date {
	for {
		d = d.AddDays(1)
		if c.IsWorkingDay(d) {
			return d
		}
	}
}

// rollForward returns d when ok(d), else the first later day with ok.
func rollForward(d Date, ok func(Date) bool) Date {
	for !ok(d) {
		d = d.AddDays(1)
	}
	return d
}

// Holidays returns the country's holidays of the year in date order,
// including those that fall on a Sunday (Easter Day, Whit Sunday) or are
// always on a Saturday (SE Midsummer Day, All Saints' Day). Company extra
// closed days are not included (see ExtraClosed).
func (c *Calendar) Holidays(year int) []Holiday {
	var out []Holiday
	e := Easter(year)
	add := func(d Date, name, en string, public bool) {
		out = append(out, Holiday{d, name, en, public})
	}
	switch c.country {
	case SE:
		add(Date{year, time.January, 1}, "Nyårsdagen", "New Year's Day", true)
		add(Date{year, time.January, 6}, "Trettondedag jul", "Epiphany", true)
		add(e.AddDays(-2), "Långfredagen", "Good Friday", true)
		add(e, "Påskdagen", "Easter Day", true)
		add(e.AddDays(1), "Annandag påsk", "Easter Monday", true)
		add(Date{year, time.May, 1}, "Första maj", "May Day", true)
		add(e.AddDays(39), "Kristi himmelsfärdsdag", "Ascension Day", true)
		if year >= 2005 { // fixed date first: Whit Sunday is 6 June in 2049
			add(Date{year, time.June, 6}, "Sveriges nationaldag", "National Day of Sweden", true)
		}
		add(e.AddDays(49), "Pingstdagen", "Whit Sunday", true)
		if year < 2005 {
			add(e.AddDays(50), "Annandag pingst", "Whit Monday", true)
		}
		md := seMidsummerDay(year)
		add(md.AddDays(-1), "Midsommarafton", "Midsummer Eve", false)
		add(md, "Midsommardagen", "Midsummer Day", true)
		add(seAllSaints(year), "Alla helgons dag", "All Saints' Day", true)
		add(Date{year, time.December, 24}, "Julafton", "Christmas Eve", false)
		add(Date{year, time.December, 25}, "Juldagen", "Christmas Day", true)
		add(Date{year, time.December, 26}, "Annandag jul", "Boxing Day", true)
		add(Date{year, time.December, 31}, "Nyårsafton", "New Year's Eve", false)
	case DK:
		add(Date{year, time.January, 1}, "Nytårsdag", "New Year's Day", true)
		add(e.AddDays(-3), "Skærtorsdag", "Maundy Thursday", true)
		add(e.AddDays(-2), "Langfredag", "Good Friday", true)
		add(e, "Påskedag", "Easter Day", true)
		add(e.AddDays(1), "2. påskedag", "Easter Monday", true)
		if year <= 2023 {
			add(e.AddDays(26), "Store bededag", "General Prayer Day", true)
		}
		add(e.AddDays(39), "Kristi himmelfartsdag", "Ascension Day", true)
		add(e.AddDays(49), "Pinsedag", "Whit Sunday", true)
		add(e.AddDays(50), "2. pinsedag", "Whit Monday", true)
		add(Date{year, time.December, 25}, "Juledag", "Christmas Day", true)
		add(Date{year, time.December, 26}, "2. juledag", "Boxing Day", true)
	case NO:
		add(Date{year, time.January, 1}, "1. nyttårsdag", "New Year's Day", true)
		add(e.AddDays(-3), "Skjærtorsdag", "Maundy Thursday", true)
		add(e.AddDays(-2), "Langfredag", "Good Friday", true)
		add(e, "1. påskedag", "Easter Day", true)
		add(e.AddDays(1), "2. påskedag", "Easter Monday", true)
		add(Date{year, time.May, 1}, "Arbeidernes dag", "Labour Day", true)
		add(Date{year, time.May, 17}, "Grunnlovsdag", "Constitution Day", true)
		add(e.AddDays(39), "Kristi himmelfartsdag", "Ascension Day", true)
		add(e.AddDays(49), "1. pinsedag", "Whit Sunday", true)
		add(e.AddDays(50), "2. pinsedag", "Whit Monday", true)
		add(Date{year, time.December, 25}, "1. juledag", "Christmas Day", true)
		add(Date{year, time.December, 26}, "2. juledag", "Boxing Day", true)
	}
	// Easter-based days can coincide with fixed ones (NO: Ascension Day on
	// 1 or 17 May, Whit Monday on 17 May); keep date order and one entry
	// per day, the fixed-date holiday first.
	sort.SliceStable(out, func(i, j int) bool { return out[i].Date.Before(out[j].Date) })
	w := 0
	for i := range out {
		if w > 0 && out[w-1].Date == out[i].Date {
			out[w-1].Public = out[w-1].Public || out[i].Public
			continue
		}
		out[w] = out[i]
		w++
	}
	return out[:w]
}

// holiday looks d up without building the year's list (no allocation).
// Where a fixed-date holiday and an Easter-based one fall on the same day
// (Ascension Day on 1 May 2008 in SE and NO, Whit Sunday on 6 June 2049
// in SE), the fixed-date one is
// returned, as in Holidays.
func (c *Calendar) holiday(d Date) (Holiday, bool) {
	y, m, day := d.Y, d.M, d.D
	switch c.country {
	case SE:
		switch {
		case m == time.January && day == 1:
			return Holiday{d, "Nyårsdagen", "New Year's Day", true}, true
		case m == time.January && day == 6:
			return Holiday{d, "Trettondedag jul", "Epiphany", true}, true
		case m == time.May && day == 1:
			return Holiday{d, "Första maj", "May Day", true}, true
		case m == time.June && day == 6 && y >= 2005:
			return Holiday{d, "Sveriges nationaldag", "National Day of Sweden", true}, true
		case m == time.June && day >= 19 && day <= 26:
			if md := seMidsummerDay(y); d == md {
				return Holiday{d, "Midsommardagen", "Midsummer Day", true}, true
			} else if d == md.AddDays(-1) {
				return Holiday{d, "Midsommarafton", "Midsummer Eve", false}, true
			}
		case (m == time.October && day == 31) || (m == time.November && day <= 6):
			if d == seAllSaints(y) {
				return Holiday{d, "Alla helgons dag", "All Saints' Day", true}, true
			}
			return Holiday{}, false
		case m == time.December && day == 24:
			return Holiday{d, "Julafton", "Christmas Eve", false}, true
		case m == time.December && day == 25:
			return Holiday{d, "Juldagen", "Christmas Day", true}, true
		case m == time.December && day == 26:
			return Holiday{d, "Annandag jul", "Boxing Day", true}, true
		case m == time.December && day == 31:
			return Holiday{d, "Nyårsafton", "New Year's Eve", false}, true
		}
	case DK:
		switch {
		case m == time.January && day == 1:
			return Holiday{d, "Nytårsdag", "New Year's Day", true}, true
		case m == time.December && day == 25:
			return Holiday{d, "Juledag", "Christmas Day", true}, true
		case m == time.December && day == 26:
			return Holiday{d, "2. juledag", "Boxing Day", true}, true
		}
	case NO:
		switch {
		case m == time.January && day == 1:
			return Holiday{d, "1. nyttårsdag", "New Year's Day", true}, true
		case m == time.May && day == 1:
			return Holiday{d, "Arbeidernes dag", "Labour Day", true}, true
		case m == time.May && day == 17:
			return Holiday{d, "Grunnlovsdag", "Constitution Day", true}, true
		case m == time.December && day == 25:
			return Holiday{d, "1. juledag", "Christmas Day", true}, true
		case m == time.December && day == 26:
			return Holiday{d, "2. juledag", "Boxing Day", true}, true
		}
	}
	// Easter-based holidays lie between Easter-3 (earliest 19 March) and
	// Easter+50 (latest 14 June).
	if m < time.March || m > time.June {
		return Holiday{}, false
	}
	switch off := d.days() - Easter(y).days(); off {
	case -3:
		if c.country == DK {
			return Holiday{d, "Skærtorsdag", "Maundy Thursday", true}, true
		}
		if c.country == NO {
			return Holiday{d, "Skjærtorsdag", "Maundy Thursday", true}, true
		}
	case -2:
		if c.country == SE {
			return Holiday{d, "Långfredagen", "Good Friday", true}, true
		}
		return Holiday{d, "Langfredag", "Good Friday", true}, true
	case 0:
		switch c.country {
		case SE:
			return Holiday{d, "Påskdagen", "Easter Day", true}, true
		case DK:
			return Holiday{d, "Påskedag", "Easter Day", true}, true
		}
		return Holiday{d, "1. påskedag", "Easter Day", true}, true
	case 1:
		if c.country == SE {
			return Holiday{d, "Annandag påsk", "Easter Monday", true}, true
		}
		return Holiday{d, "2. påskedag", "Easter Monday", true}, true
	case 26:
		if c.country == DK && y <= 2023 {
			return Holiday{d, "Store bededag", "General Prayer Day", true}, true
		}
	case 39:
		switch c.country {
		case SE:
			return Holiday{d, "Kristi himmelsfärdsdag", "Ascension Day", true}, true
		}
		return Holiday{d, "Kristi himmelfartsdag", "Ascension Day", true}, true
	case 49:
		switch c.country {
		case SE:
			return Holiday{d, "Pingstdagen", "Whit Sunday", true}, true
		case DK:
			return Holiday{d, "Pinsedag", "Whit Sunday", true}, true
		}
		return Holiday{d, "1. pinsedag", "Whit Sunday", true}, true
	case 50:
		switch c.country {
		case SE:
			if y < 2005 {
				return Holiday{d, "Annandag pingst", "Whit Monday", true}, true
			}
		default:
			return Holiday{d, "2. pinsedag", "Whit Monday", true}, true
		}
	}
	return Holiday{}, false
}

// seMidsummerDay is the Saturday between 20 and 26 June.
func seMidsummerDay(y int) Date { return saturdayFrom(Date{y, time.June, 20}) }

// seAllSaints is the Saturday between 31 October and 6 November.
func seAllSaints(y int) Date { return saturdayFrom(Date{y, time.October, 31}) }

func saturdayFrom(d Date) Date {
	return d.AddDays((int(time.Saturday) - int(d.Weekday()) + 7) % 7)
}
