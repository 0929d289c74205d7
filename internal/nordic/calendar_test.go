package nordic

import (
	"testing"
	"time"
)

// dd builds a Date (the package test file already has date() for time.Time).
func dd(y, m, d int) Date { return Date{y, time.Month(m), d} }

func mustCal(t testing.TB, c Country, extra ...Date) *Calendar {
	t.Helper()
	cal, err := NewCalendar(c, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

// TestH1_Easter checks the anonymous Gregorian algorithm against published
// Easter dates, including the extremes of the supported range (earliest
// possible 22 March does not occur in 1990-2100; 2008 is the earliest,
// 23 March; 2038 the latest, 25 April).
func TestH1_Easter(t *testing.T) {
	for _, c := range []struct {
		y    int
		want Date
	}{
		{1990, dd(1990, 4, 15)}, {2000, dd(2000, 4, 23)}, {2005, dd(2005, 3, 27)},
		{2008, dd(2008, 3, 23)}, {2011, dd(2011, 4, 24)}, {2019, dd(2019, 4, 21)},
		{2024, dd(2024, 3, 31)}, {2025, dd(2025, 4, 20)}, {2026, dd(2026, 4, 5)},
		{2027, dd(2027, 3, 28)}, {2038, dd(2038, 4, 25)}, {2100, dd(2100, 3, 28)},
		{1943, dd(1943, 4, 25)}, {1818, dd(1818, 3, 22)}, {2285, dd(2285, 3, 22)},
	} {
		if got := Easter(c.y); got != c.want {
			t.Errorf("Easter(%d) = %v, want %v", c.y, got, c.want)
		}
	}
}

// TestH1_Holidays checks hand-picked days per country: Easter extremes,
// Midsummer, Store Bededag 2023/2024, Norwegian 17 May, Whit Monday, the
// Swedish 2005 change, and coinciding holidays. want "" means a working day.
func TestH1_Holidays(t *testing.T) {
	type row struct {
		c      Country
		d      Date
		en     string // "" = not a holiday
		public bool
		work   bool
	}
	rows := []row{
		// Sweden
		{SE, dd(2008, 3, 21), "Good Friday", true, false},
		{SE, dd(2008, 3, 20), "", false, true}, // Maundy Thursday is not a SE holiday
		{SE, dd(2008, 3, 24), "Easter Monday", true, false},
		{SE, dd(2008, 5, 1), "May Day", true, false}, // Ascension Day coincides
		{SE, dd(2038, 4, 23), "Good Friday", true, false},
		{SE, dd(2038, 4, 26), "Easter Monday", true, false},
		{SE, dd(2038, 6, 3), "Ascension Day", true, false},
		{SE, dd(2026, 6, 19), "Midsummer Eve", false, false},
		{SE, dd(2026, 6, 20), "Midsummer Day", true, false},
		{SE, dd(2026, 6, 26), "", false, true},
		{SE, dd(2027, 6, 25), "Midsummer Eve", false, false},
		{SE, dd(2027, 6, 26), "Midsummer Day", true, false},
		{SE, dd(2027, 6, 18), "", false, true},
		{SE, dd(2025, 6, 20), "Midsummer Eve", false, false},
		{SE, dd(2004, 6, 25), "Midsummer Eve", false, false},
		{SE, dd(1990, 6, 22), "Midsummer Eve", false, false},
		{SE, dd(2004, 5, 31), "Whit Monday", true, false}, // before 2005
		{SE, dd(2004, 6, 7), "", false, true},             // 6 June 2004 was a Sunday; not yet a holiday
		{SE, dd(2005, 5, 16), "", false, true},            // Whit Monday abolished from 2005
		{SE, dd(2005, 6, 6), "National Day of Sweden", true, false},
		{SE, dd(2024, 5, 20), "", false, true},
		{SE, dd(2026, 1, 6), "Epiphany", true, false},
		{SE, dd(2026, 10, 31), "All Saints' Day", true, false},
		{SE, dd(2025, 11, 1), "All Saints' Day", true, false},
		{SE, dd(2025, 10, 31), "", false, true},
		{SE, dd(2026, 12, 24), "Christmas Eve", false, false},
		{SE, dd(2026, 12, 31), "New Year's Eve", false, false},
		{SE, dd(2100, 3, 26), "Good Friday", true, false},
		{SE, dd(2000, 6, 1), "Ascension Day", true, false},
		{SE, dd(2011, 4, 22), "Good Friday", true, false},
		// Denmark
		{DK, dd(2008, 3, 20), "Maundy Thursday", true, false},
		{DK, dd(2008, 4, 18), "General Prayer Day", true, false},
		{DK, dd(2023, 5, 5), "General Prayer Day", true, false},
		{DK, dd(2024, 4, 26), "", false, true}, // Store Bededag abolished from 2024
		{DK, dd(2026, 5, 1), "", false, true},  // would have been Store Bededag; 1 May not a DK holiday
		{DK, dd(2038, 5, 21), "", false, true},
		{DK, dd(2038, 4, 22), "Maundy Thursday", true, false},
		{DK, dd(2038, 6, 14), "Whit Monday", true, false},
		{DK, dd(2005, 5, 16), "Whit Monday", true, false},
		{DK, dd(2026, 5, 25), "Whit Monday", true, false},
		{DK, dd(2026, 6, 5), "", false, true}, // Grundlovsdag: not statutory
		{DK, dd(2026, 12, 24), "", false, true},
		{DK, dd(2026, 12, 31), "", false, true},
		{DK, dd(2026, 1, 6), "", false, true},
		{DK, dd(1990, 5, 11), "General Prayer Day", true, false},
		{DK, dd(2019, 5, 17), "General Prayer Day", true, false},
		{DK, dd(2100, 5, 17), "Whit Monday", true, false},
		// Norway
		{NO, dd(2026, 5, 17), "Constitution Day", true, false}, // a Sunday
		{NO, dd(2027, 5, 17), "Constitution Day", true, false}, // Whit Monday coincides
		{NO, dd(2025, 5, 16), "", false, true},
		{NO, dd(2019, 5, 17), "Constitution Day", true, false},
		{NO, dd(2008, 5, 1), "Labour Day", true, false}, // Ascension coincides
		{NO, dd(2008, 5, 12), "Whit Monday", true, false},
		{NO, dd(2038, 6, 14), "Whit Monday", true, false},
		{NO, dd(2038, 4, 22), "Maundy Thursday", true, false},
		{NO, dd(2008, 3, 20), "Maundy Thursday", true, false},
		{NO, dd(2023, 5, 5), "", false, true},  // no Store Bededag in NO
		{NO, dd(2026, 6, 6), "", false, false}, // a Saturday, not a holiday
		{NO, dd(2026, 12, 24), "", false, true},
		{NO, dd(2000, 6, 12), "Whit Monday", true, false},
		{NO, dd(1990, 4, 16), "Easter Monday", true, false},
		{NO, dd(2100, 5, 6), "Ascension Day", true, false},
	}
	for _, r := range rows {
		cal := mustCal(t, r.c)
		h, ok := cal.Holiday(r.d)
		if r.en == "" {
			if ok {
				t.Errorf("%s %v: holiday %q, want none", r.c, r.d, h.NameEN)
			}
		} else if !ok || h.NameEN != r.en || h.Public != r.public {
			t.Errorf("%s %v: got %+v (ok %v), want %q public %v", r.c, r.d, h, ok, r.en, r.public)
		}
		if got := cal.IsWorkingDay(r.d); got != r.work {
			t.Errorf("%s %v: IsWorkingDay = %v, want %v", r.c, r.d, got, r.work)
		}
		if got := cal.IsPublicHoliday(r.d); got != (r.en != "" && r.public) {
			t.Errorf("%s %v: IsPublicHoliday = %v", r.c, r.d, got)
		}
	}
}

// TestH1_HolidayLists checks complete lists for one year per country.
func TestH1_HolidayLists(t *testing.T) {
	want := map[Country][]string{
		SE: {"2026-01-01 Nyårsdagen", "2026-01-06 Trettondedag jul", "2026-04-03 Långfredagen",
			"2026-04-05 Påskdagen", "2026-04-06 Annandag påsk", "2026-05-01 Första maj",
			"2026-05-14 Kristi himmelsfärdsdag", "2026-05-24 Pingstdagen", "2026-06-06 Sveriges nationaldag",
			"2026-06-19 Midsommarafton", "2026-06-20 Midsommardagen", "2026-10-31 Alla helgons dag",
			"2026-12-24 Julafton", "2026-12-25 Juldagen", "2026-12-26 Annandag jul", "2026-12-31 Nyårsafton"},
		DK: {"2023-01-01 Nytårsdag", "2023-04-06 Skærtorsdag", "2023-04-07 Langfredag", "2023-04-09 Påskedag",
			"2023-04-10 2. påskedag", "2023-05-05 Store bededag", "2023-05-18 Kristi himmelfartsdag",
			"2023-05-28 Pinsedag", "2023-05-29 2. pinsedag", "2023-12-25 Juledag", "2023-12-26 2. juledag"},
		NO: {"2027-01-01 1. nyttårsdag", "2027-03-25 Skjærtorsdag", "2027-03-26 Langfredag",
			"2027-03-28 1. påskedag", "2027-03-29 2. påskedag", "2027-05-01 Arbeidernes dag",
			"2027-05-06 Kristi himmelfartsdag", "2027-05-16 1. pinsedag", "2027-05-17 Grunnlovsdag",
			"2027-12-25 1. juledag", "2027-12-26 2. juledag"},
	}
	years := map[Country]int{SE: 2026, DK: 2023, NO: 2027}
	for c, w := range want {
		hs := mustCal(t, c).Holidays(years[c])
		if len(hs) != len(w) {
			t.Errorf("%s: %d holidays, want %d: %v", c, len(hs), len(w), hs)
			continue
		}
		for i, h := range hs {
			if got := h.Date.String() + " " + h.Name; got != w[i] {
				t.Errorf("%s #%d: %q, want %q", c, i, got, w[i])
			}
		}
	}
	if n := len(mustCal(t, DK).Holidays(2024)); n != 10 {
		t.Errorf("DK 2024 has %d holidays, want 10 (no Store bededag)", n)
	}
}

// TestH1_HolidayLookupMatchesList: the allocation-free lookup used by
// IsWorkingDay agrees with Holidays for every day of 1990-2100.
func TestH1_HolidayLookupMatchesList(t *testing.T) {
	for _, c := range []Country{SE, DK, NO} {
		cal := mustCal(t, c)
		for y := 1990; y <= 2100; y++ {
			list := map[Date]Holiday{}
			for _, h := range cal.Holidays(y) {
				list[h.Date] = h
			}
			for d := dd(y, 1, 1); d.Y == y; d = d.AddDays(1) {
				h, ok := cal.Holiday(d)
				lh, lok := list[d]
				if ok != lok || h != lh {
					t.Fatalf("%s %v: lookup %+v %v, list %+v %v", c, d, h, ok, lh, lok)
				}
			}
		}
	}
}

func TestH1_MidsummerRule(t *testing.T) {
	cal := mustCal(t, SE)
	for y := 1990; y <= 2100; y++ {
		n := 0
		for day := 20; day <= 26; day++ {
			d := dd(y, 6, day)
			h, ok := cal.Holiday(d)
			if ok && h.NameEN == "Midsummer Day" {
				n++
				if d.Weekday() != time.Saturday {
					t.Errorf("%v: Midsummer Day not a Saturday", d)
				}
				if e, _ := cal.Holiday(d.AddDays(-1)); e.NameEN != "Midsummer Eve" || d.AddDays(-1).Weekday() != time.Friday {
					t.Errorf("%v: no Midsummer Eve the Friday before", d)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d: %d Midsummer Days", y, n)
		}
	}
}

func TestH1_CalendarExtraAndNext(t *testing.T) {
	cal := mustCal(t, SE, dd(2026, 12, 28), dd(2026, 12, 29))
	if cal.IsWorkingDay(dd(2026, 12, 28)) {
		t.Error("extra closed day is a working day")
	}
	if !cal.IsWorkingDay(dd(2026, 12, 30)) {
		t.Error("30 Dec 2026 should be working")
	}
	for _, c := range []struct{ in, want Date }{
		{dd(2026, 12, 23), dd(2026, 12, 30)}, // 24 eve, 25-26 holidays, 27 Sun, 28-29 company
		{dd(2026, 12, 30), dd(2027, 1, 4)},   // 31 eve, 1 Jan, weekend
		{dd(2026, 6, 18), dd(2026, 6, 22)},   // Midsummer
		{dd(2026, 4, 2), dd(2026, 4, 7)},     // Easter
		{dd(2026, 2, 27), dd(2026, 3, 2)},
	} {
		if got := cal.NextWorkingDay(c.in); got != c.want {
			t.Errorf("NextWorkingDay(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	if got := cal.ExtraClosed(); len(got) != 2 || got[0] != dd(2026, 12, 28) {
		t.Errorf("ExtraClosed = %v", got)
	}
	if _, err := NewCalendar("FI"); err == nil {
		t.Error("FI accepted")
	}
	if _, err := NewCalendar(SE, dd(2026, 2, 30)); err == nil {
		t.Error("30 February accepted")
	}
}

func TestH1_DateArithmetic(t *testing.T) {
	for d := dd(1899, 12, 1); d.Before(dd(2101, 2, 1)); d = d.AddDays(1) {
		tm := time.Date(d.Y, d.M, d.D, 0, 0, 0, 0, time.UTC)
		if tm.Weekday() != d.Weekday() || !d.Valid() {
			t.Fatalf("%v: weekday %v, want %v", d, d.Weekday(), tm.Weekday())
		}
		if n := DateOf(tm.AddDate(0, 0, 1)); n != d.AddDays(1) {
			t.Fatalf("%v + 1 = %v, want %v", d, d.AddDays(1), n)
		}
	}
	for _, c := range []struct {
		in   Date
		n    int
		want Date
	}{
		{dd(2026, 1, 31), 1, dd(2026, 2, 28)}, {dd(2024, 1, 31), 1, dd(2024, 2, 29)},
		{dd(2100, 1, 31), 1, dd(2100, 2, 28)}, {dd(2000, 1, 31), 1, dd(2000, 2, 29)},
		{dd(2026, 3, 31), 1, dd(2026, 4, 30)}, {dd(2026, 12, 15), 1, dd(2027, 1, 15)},
		{dd(2026, 3, 31), -1, dd(2026, 2, 28)}, {dd(2024, 2, 29), 12, dd(2025, 2, 28)},
		{dd(2026, 8, 31), 6, dd(2027, 2, 28)}, {dd(2026, 1, 15), -13, dd(2024, 12, 15)},
	} {
		if got := c.in.AddMonths(c.n); got != c.want {
			t.Errorf("%v.AddMonths(%d) = %v, want %v", c.in, c.n, got, c.want)
		}
	}
	if NewDate(2026, 4, 31) != dd(2026, 5, 1) || dd(2026, 1, 2).String() != "2026-01-02" {
		t.Error("NewDate/String")
	}
}
