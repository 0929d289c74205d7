package nordic

import (
	"testing"
	"time"
	_ "time/tzdata" // the zone database, so the tests never depend on the host's
)

func stockholm(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal("no tzdata:", err)
	}
	return loc
}

func seHours(t testing.TB, extra ...Date) *BusinessHours {
	t.Helper()
	h, err := NewBusinessHours(mustCal(t, SE, extra...), stockholm(t), 9*time.Hour, 17*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestH1_WorkingTime: "first answer within N working hours, Mon-Fri
// 09-17 on the SE calendar" across weekends, holidays, DST and pauses.
func TestH1_WorkingTime(t *testing.T) {
	loc := stockholm(t)
	h := seHours(t, dd(2026, 11, 2))
	at := func(y, m, d, hh, mm int) time.Time { return time.Date(y, time.Month(m), d, hh, mm, 0, 0, loc) }
	for _, c := range []struct {
		name   string
		start  time.Time
		d      time.Duration
		pauses []Interval
		want   time.Time
	}{
		{"inside one day", at(2026, 3, 10, 10, 0), 4 * time.Hour, nil, at(2026, 3, 10, 14, 0)},
		{"ends exactly at closing", at(2026, 3, 10, 13, 0), 4 * time.Hour, nil, at(2026, 3, 10, 17, 0)},
		{"overnight", at(2026, 3, 10, 15, 0), 4 * time.Hour, nil, at(2026, 3, 11, 11, 0)},
		{"before opening", at(2026, 3, 10, 6, 0), 4 * time.Hour, nil, at(2026, 3, 10, 13, 0)},
		{"after closing", at(2026, 3, 10, 20, 0), 4 * time.Hour, nil, at(2026, 3, 11, 13, 0)},
		{"weekend start", at(2026, 3, 7, 12, 0), 4 * time.Hour, nil, at(2026, 3, 9, 13, 0)},
		{"across weekend", at(2026, 3, 13, 16, 0), 4 * time.Hour, nil, at(2026, 3, 16, 12, 0)},
		// Spring DST: Sunday 29 March 2026; Monday is 09-17 local summer time.
		{"across spring DST", at(2026, 3, 27, 15, 0), 4 * time.Hour, nil, at(2026, 3, 30, 11, 0)},
		// Autumn DST: Sunday 25 October 2026.
		{"across autumn DST", at(2026, 10, 23, 15, 0), 4 * time.Hour, nil, at(2026, 10, 26, 11, 0)},
		// Easter 2026: Good Friday 3 April to Easter Monday 6 April.
		{"across Easter", at(2026, 4, 2, 16, 0), 6 * time.Hour, nil, at(2026, 4, 7, 14, 0)},
		// Midsummer Eve 19 June 2026 is closed.
		{"across Midsummer", at(2026, 6, 18, 16, 30), time.Hour, nil, at(2026, 6, 22, 9, 30)},
		// Christmas: 24 eve, 25, 26 (Sat), 27 Sun; 31 eve, 1 Jan.
		{"across Christmas", at(2026, 12, 23, 16, 0), 2 * time.Hour, nil, at(2026, 12, 28, 10, 0)},
		{"across New Year", at(2026, 12, 30, 12, 0), 8 * time.Hour, nil, at(2027, 1, 4, 12, 0)},
		// Company closed day Monday 2 November 2026 (All Saints' Day is Sat 31 Oct).
		{"company closed day", at(2026, 10, 30, 16, 0), 2 * time.Hour, nil, at(2026, 11, 3, 10, 0)},
		{"pause inside hours", at(2026, 3, 10, 10, 0), 4 * time.Hour,
			[]Interval{{at(2026, 3, 10, 11, 0), at(2026, 3, 10, 12, 30)}}, at(2026, 3, 10, 15, 30)},
		{"pause over closing", at(2026, 3, 10, 10, 0), 4 * time.Hour,
			[]Interval{{at(2026, 3, 10, 12, 0), at(2026, 3, 11, 10, 0)}}, at(2026, 3, 11, 12, 0)},
		{"pause outside hours only", at(2026, 3, 10, 15, 0), 4 * time.Hour,
			[]Interval{{at(2026, 3, 10, 18, 0), at(2026, 3, 11, 8, 0)}}, at(2026, 3, 11, 11, 0)},
		{"overlapping unsorted pauses", at(2026, 3, 10, 9, 0), 4 * time.Hour,
			[]Interval{{at(2026, 3, 10, 11, 0), at(2026, 3, 10, 12, 0)}, {at(2026, 3, 10, 10, 0), at(2026, 3, 10, 11, 30)}, {at(2026, 3, 9, 10, 0), at(2026, 3, 10, 9, 30)}},
			at(2026, 3, 10, 15, 30)}, // counts 09:30-10:00 and 12:00-15:30
		{"zero target", at(2026, 3, 10, 10, 0), 0, nil, at(2026, 3, 10, 10, 0)},
		{"open pause reached", at(2026, 3, 10, 10, 0), 4 * time.Hour,
			[]Interval{{Start: at(2026, 3, 10, 11, 0)}}, time.Time{}},
		{"open pause after deadline", at(2026, 3, 10, 10, 0), time.Hour,
			[]Interval{{Start: at(2026, 3, 10, 11, 30)}}, at(2026, 3, 10, 11, 0)},
	} {
		got := WorkingTime{h, c.d}.Deadline(c.start, c.pauses)
		if !got.Equal(c.want) || (!got.IsZero() && got.Location() != time.UTC) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want.UTC())
		}
	}
}

// TestH1_SameDay documents the same-day rule.
func TestH1_SameDay(t *testing.T) {
	loc := stockholm(t)
	h := seHours(t)
	at := func(y, m, d, hh, mm int) time.Time { return time.Date(y, time.Month(m), d, hh, mm, 0, 0, loc) }
	for _, c := range []struct {
		name   string
		start  time.Time
		pauses []Interval
		want   time.Time
	}{
		{"morning", at(2026, 3, 10, 8, 0), nil, at(2026, 3, 10, 17, 0)},
		{"afternoon", at(2026, 3, 10, 16, 59), nil, at(2026, 3, 10, 17, 0)},
		{"at closing", at(2026, 3, 10, 17, 0), nil, at(2026, 3, 11, 17, 0)},
		{"evening", at(2026, 3, 10, 22, 0), nil, at(2026, 3, 11, 17, 0)},
		{"Saturday", at(2026, 3, 14, 10, 0), nil, at(2026, 3, 16, 17, 0)},
		{"Midsummer Eve", at(2026, 6, 19, 10, 0), nil, at(2026, 6, 22, 17, 0)},
		{"Friday evening before DST", at(2026, 3, 27, 18, 0), nil, at(2026, 3, 30, 17, 0)},
		{"pause of one hour", at(2026, 3, 10, 10, 0), []Interval{{at(2026, 3, 10, 12, 0), at(2026, 3, 10, 13, 0)}}, at(2026, 3, 11, 10, 0)},
		{"pause outside hours", at(2026, 3, 10, 10, 0), []Interval{{at(2026, 3, 10, 18, 0), at(2026, 3, 10, 19, 0)}}, at(2026, 3, 10, 17, 0)},
	} {
		if got := (SameDay{h}).Deadline(c.start, c.pauses); !got.Equal(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want.UTC())
		}
	}
}

// TestH1_AroundTheClock: wall-clock minutes, no calendar, pauses excluded.
func TestH1_AroundTheClock(t *testing.T) {
	loc := stockholm(t)
	start := time.Date(2026, 3, 29, 1, 50, 0, 0, loc) // 10 min before the spring gap
	if got := (AroundTheClock{15 * time.Minute}).Deadline(start, nil); !got.Equal(start.Add(15 * time.Minute)) {
		t.Errorf("got %v", got)
	}
	if got := (AroundTheClock{15 * time.Minute}).Deadline(start, nil); got.In(loc).Hour() != 3 || got.In(loc).Minute() != 5 {
		t.Errorf("15 min after 01:50 on DST night should be 03:05 local, got %v", got.In(loc))
	}
	p := []Interval{{start.Add(5 * time.Minute), start.Add(65 * time.Minute)}}
	if got := (AroundTheClock{15 * time.Minute}).Deadline(start, p); !got.Equal(start.Add(75 * time.Minute)) {
		t.Errorf("paused: got %v", got)
	}
	if got := (AroundTheClock{15 * time.Minute}).Deadline(start, []Interval{{Start: start}}); !got.IsZero() {
		t.Errorf("open pause: got %v", got)
	}
}

func TestH1_NewBusinessHours(t *testing.T) {
	cal := mustCal(t, SE)
	for _, c := range []struct{ open, close time.Duration }{{-1, 5}, {17 * time.Hour, 9 * time.Hour}, {0, 25 * time.Hour}, {9, 9}} {
		if _, err := NewBusinessHours(cal, time.UTC, c.open, c.close); err == nil {
			t.Errorf("%v-%v accepted", c.open, c.close)
		}
	}
	if _, err := NewBusinessHours(nil, time.UTC, 0, time.Hour); err == nil {
		t.Error("nil calendar accepted")
	}
	h, err := NewBusinessHours(cal, time.UTC, 0, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 13, 23, 0, 0, 0, time.UTC) // Friday
	if got := (WorkingTime{h, 2 * time.Hour}).Deadline(start, nil); !got.Equal(time.Date(2026, 3, 16, 1, 0, 0, 0, time.UTC)) {
		t.Errorf("24h window: %v", got)
	}
}
