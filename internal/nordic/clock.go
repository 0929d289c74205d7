package nordic

import (
	"errors"
	"sort"
	"time"
)

// Interval is a span of time [Start, End). A zero End in a pause means the
// pause is still running (the clock is stopped now).
type Interval struct {
	Start, End time.Time
}

// Clock computes a support-target deadline (requirement H1): the instant,
// in UTC, at which the target is missed when the clock starts at start and
// stands still during the pauses. Pauses may be unsorted and may overlap;
// their parts before start are ignored.
//
// Deadline returns the zero time when the deadline cannot be known: a pause
// without an end (still paused) is reached before the target is used up, or
// no counting time is found within ten years.
type Clock interface {
	Deadline(start time.Time, pauses []Interval) time.Time
}

// searchDays bounds the walk over a calendar (ten years).
const searchDays = 3660

// BusinessHours is the opening time of a company: the same wall-clock
// window (e.g. 09:00-17:00) on every working day of a calendar, in the
// company's time zone. Window edges are wall-clock times, so across a
// daylight-saving change a window keeps 09:00-17:00 local time; elapsed
// time is real (instant) time. Build it with NewBusinessHours.
type BusinessHours struct {
	cal         *Calendar
	loc         *time.Location
	open, close time.Duration // since local midnight
}

// NewBusinessHours returns opening hours open-close (offsets from local
// midnight, e.g. 9*time.Hour and 17*time.Hour) on the working days of cal
// in loc. It requires 0 <= open < close <= 24h.
func NewBusinessHours(cal *Calendar, loc *time.Location, open, close time.Duration) (*BusinessHours, error) {
	if cal == nil || loc == nil {
		return nil, errors.New("nordic: business hours need a calendar and a location")
	}
	if open < 0 || close > 24*time.Hour || open >= close {
		return nil, errors.New("nordic: opening hours must satisfy 0 <= open < close <= 24h")
	}
	return &BusinessHours{cal: cal, loc: loc, open: open, close: close}, nil
}

// at returns the instant of wall-clock offset off on date d in the
// location. A wall time skipped by a DST change is read as time.Date does
// (moved forward by the gap).
func (h *BusinessHours) at(d Date, off time.Duration) time.Time {
	if off == 24*time.Hour {
		n := d.AddDays(1)
		return time.Date(n.Y, n.M, n.D, 0, 0, 0, 0, h.loc)
	}
	return time.Date(d.Y, d.M, d.D, 0, 0, 0, int(off), h.loc)
}

// window returns the first opening window that ends after t, with its
// start moved up to t when t is inside it.
func (h *BusinessHours) window(t time.Time) (ws, we time.Time, ok bool) {
	d := DateOf(t.In(h.loc))
	for i := 0; i < searchDays; i++ {
		if h.cal.IsWorkingDay(d) {
			we = h.at(d, h.close)
			if we.After(t) {
				ws = h.at(d, h.open)
				if ws.Before(t) {
					ws = t
				}
				return ws, we, true
			}
		}
		d = d.AddDays(1)
	}
	return time.Time{}, time.Time{}, false
}

// WorkingTime is a target of D working time inside BusinessHours, e.g.
// "first answer within 4 hours, Mon-Fri 09:00-17:00 on the SE calendar".
// A ticket opened outside the hours starts counting at the next opening.
// A target that ends exactly at closing time is due at closing, not at the
// next opening.
type WorkingTime struct {
	Hours *BusinessHours
	D     time.Duration
}

// Deadline implements Clock.
func (w WorkingTime) Deadline(start time.Time, pauses []Interval) time.Time {
	return consume(start, w.D, w.Hours.window, pauses)
}

// SameDay is the target "answered the same working day". The rule: a
// ticket opened on a working day before closing time is due at that day's
// closing time; any other ticket (after closing, or on a weekend, holiday
// or company closed day) is due at the closing time of the next working
// day. Paused time inside opening hours extends the deadline by the same
// amount of working time (so a pause may carry it into the next working
// day); paused time outside opening hours changes nothing.
type SameDay struct {
	Hours *BusinessHours
}

// Deadline implements Clock.
func (s SameDay) Deadline(start time.Time, pauses []Interval) time.Time {
	h := s.Hours
	ws, we, ok := h.window(start)
	if !ok {
		return time.Time{}
	}
	// Budget = the working time from the first counting instant to the
	// closing time of that window, consumed with pauses.
	return consume(start, we.Sub(ws), h.window, pauses)
}

// AroundTheClock is a wall-clock target with no calendar: D of real time,
// e.g. "repair begun within 15 minutes, around the clock" (H1). Paused
// time does not count.
type AroundTheClock struct {
	D time.Duration
}

// Deadline implements Clock.
func (a AroundTheClock) Deadline(start time.Time, pauses []Interval) time.Time {
	return consume(start, a.D, always, pauses)
}

var maxTime = time.Unix(1<<62, 0)

func always(t time.Time) (time.Time, time.Time, bool) { return t, maxTime, true }

// consume walks counting time (windows minus pauses) from start until need
// is used up and returns that instant in UTC.
func consume(start time.Time, need time.Duration, window func(time.Time) (time.Time, time.Time, bool), pauses []Interval) time.Time {
	ps := normPauses(start, pauses)
	pi := 0
	cur := start
	if need < 0 {
		need = 0
	}
	for {
		ws, we, ok := window(cur)
		if !ok {
			return time.Time{}
		}
		for ws.Before(we) {
			for pi < len(ps) && !ps[pi].End.After(ws) {
				pi++
			}
			segEnd := we
			if pi < len(ps) && ps[pi].Start.Before(we) {
				if !ps[pi].Start.After(ws) { // a pause covers ws
					if ps[pi].End.Equal(maxTime) {
						return time.Time{}
					}
					ws = ps[pi].End
					continue
				}
				segEnd = ps[pi].Start
			}
			if seg := segEnd.Sub(ws); seg >= need {
				return ws.Add(need).UTC()
			} else {
				need -= seg
			}
			ws = segEnd
		}
		cur = we
	}
}

// normPauses clips pauses to start, drops empty ones, sorts and merges
// them; an open pause ends at maxTime. The input is not modified.
func normPauses(start time.Time, pauses []Interval) []Interval {
	if len(pauses) == 0 {
		return nil
	}
	ps := make([]Interval, 0, len(pauses))
	for _, p := range pauses {
		if p.End.IsZero() {
			p.End = maxTime
		}
		if p.Start.Before(start) {
			p.Start = start
		}
		if p.End.After(p.Start) {
			ps = append(ps, p)
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Start.Before(ps[j].Start) })
	w := 0
	for _, p := range ps {
		if w > 0 && !p.Start.After(ps[w-1].End) {
			if p.End.After(ps[w-1].End) {
				ps[w-1].End = p.End
			}
			continue
		}
		ps[w] = p
		w++
	}
	return ps[:w]
}
