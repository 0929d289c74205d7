package nordic

import (
	"errors"
	"time"
)

// Day-counted legal deadlines. Every function returns the LAST day on which
// the act is still in time (the period ends at the expiry of that day,
// 23:59:59 local time), per Regulation (EEC, Euratom) No 1182/71 (legal.md
// §1.1): the day of the event is not counted (Art. 3(1)); a period in
// months ends on the same date in the last month, or on that month's last
// day when it has no such date (Art. 3(2)(c)); Saturdays, Sundays and
// public holidays count (Art. 3(3)), but a period whose last day is one of
// them ends on the following working day (Art. 3(4)).
//
// Public holidays are those of the country of the calendar passed in
// (Art. 2(1)). Company extra closed days never move a legal deadline.

// Art12Deadline is the last day for answering a data-subject request
// received on the given day: one month (GDPR Art. 12(3), counted per
// Regulation 1182/71 Art. 3(1), 3(2)(c) and 3(4)).
//
// Roll-forward is over Saturdays, Sundays and statutory public holidays
// only. Swedish Midsummer Eve, Christmas Eve and New Year's Eve are not
// public holidays in the calendar and do not move this deadline: the
// controller's deadline is never extended by a day whose status is not
// verified (legal.md does not settle it), so the result errs early.
// For Norway, 1182/71 applying via the EEA Agreement is UNVERIFIED in
// legal.md; the same rule is applied.
func Art12Deadline(received Date, cal *Calendar) Date {
	return rollForward(received.AddMonths(1), cal.publicWorkingDay)
}

// Art12Extended is the last day after the extension by "two further
// months" of GDPR Art. 12(3). The two months are counted from the end of
// the original one-month period as fixed by Regulation 1182/71 Art. 3(2)(c)
// (before the Art. 3(4) move to a working day), with the same rules, and
// the result moved to a working day per Art. 3(4).
//
// Which end the two months run from is not settled in legal.md
// (UNVERIFIED); this choice is never later than either other reading
// ("three months from receipt" or "two months from the moved deadline"),
// so it is safe for the controller. Example: received 2026-01-31, original
// end 2026-02-28, extended end 2026-04-28.
func Art12Extended(received Date, cal *Calendar) Date {
	return rollForward(received.AddMonths(1).AddMonths(2), cal.publicWorkingDay)
}

// Art12Target is the internal target for answering a data-subject request:
// receipt + 28 days, which is never after the Art. 12(3) deadline
// (legal.md §1.1 "recommended implementation"). Not a legal deadline.
func Art12Target(received Date) Date { return received.AddDays(28) }

// Art33Deadline is the latest instant (UTC) for notifying a personal data
// breach to the supervisory authority: 72 hours after becoming aware of it
// (GDPR Art. 33(1)). Hours are real elapsed hours, across daylight-saving
// changes, weekends and holidays: Regulation 1182/71 Art. 3(4) does not
// apply to periods in hours (legal.md §1.2; that reading is UNVERIFIED but
// the supervisory authorities say flatly "72 hours").
//
// Regulation 1182/71 Art. 3(1)/(2)(a) would start an hour period at the
// beginning of the hour after the event, giving up to 59 minutes more;
// awareness + 72 h exactly is never later, so it is the safe deadline.
func Art33Deadline(aware time.Time) time.Time { return aware.Add(72 * time.Hour).UTC() }

// StatutoryWithdrawalDays is the length of the right of withdrawal for
// distance and off-premises contracts (Directive 2011/83/EU art. 9(1)).
const StatutoryWithdrawalDays = 14

// WithdrawalDeadline is the last day on which a consumer can withdraw from
// a distance or off-premises contract by sending notice: the longer of the
// statutory 14 days and the policy's period (policyDays; 0 = none),
// counted from the start day (not itself counted). The start day is, for
// services, the day the contract was concluded and, for goods (including
// goods with installation, legal.md §4.1, UNVERIFIED in national wording),
// the day the consumer took possession of the (last) goods or the day of
// the installation when the policy counts from it (requirement M2).
//
// Statutes (legal.md §4.1): SE lag (2005:59) om distansavtal och avtal
// utanför affärslokaler 2 kap. 10 § (14 days) and 12 § (start);
// DK forbrugeraftaleloven § 19 stk. 1-2; NO angrerettloven § 20 (section
// number UNVERIFIED in legal.md). Counting per Directive recital 41 and
// Regulation 1182/71: when the last day is a Saturday, Sunday or holiday
// the period ends on the next working day.
//
// Roll-forward here is over every day the country calendar closes,
// including Swedish Midsummer Eve, Christmas Eve and New Year's Eve
// (treated like Sundays for statutory time limits in Swedish practice,
// legal.md §7; UNVERIFIED against lag (1930:173) om beräkning av lagstadgad
// tid). For the trader this errs late, i.e. on the consumer's side, which
// is the safe side when deciding whether a withdrawal was in time.
// The policy period is rolled forward the same way.
func WithdrawalDeadline(start Date, policyDays int, cal *Calendar) Date {
	n := StatutoryWithdrawalDays
	if policyDays > n {
		n = policyDays
	}
	return rollForward(start.AddDays(n), cal.countryWorkingDay)
}

// FiscalYearEnd returns the last day of the fiscal year that contains doc,
// for a fiscal year ending each year on endMonth/endDay. An endDay past the
// month's length means the month's last day (endDay 29 in February is the
// last day of February in every year).
func FiscalYearEnd(doc Date, endMonth time.Month, endDay int) (Date, error) {
	if endMonth < time.January || endMonth > time.December || endDay < 1 || endDay > 31 {
		return Date{}, errors.New("nordic: fiscal-year end must be a month 1-12 and a day 1-31")
	}
	if !doc.Valid() {
		return Date{}, errors.New("nordic: document date is not a real date")
	}
	fy := func(y int) Date {
		d := endDay
		if l := lastDay(y, endMonth); d > l {
			d = l
		}
		return Date{y, endMonth, d}
	}
	if e := fy(doc.Y); !e.Before(doc) {
		return e, nil
	}
	return fy(doc.Y + 1), nil
}

// RetentionEndSE is the last day Swedish räkenskapsinformation dated doc
// must be kept: until the end of the seventh year after the calendar year
// in which the fiscal year ended (bokföringslagen (1999:1078) 7 kap. 2 §).
// It may be deleted from the next day (requirement T3).
func RetentionEndSE(doc Date, endMonth time.Month, endDay int) (Date, error) {
	fy, err := FiscalYearEnd(doc, endMonth, endDay)
	if err != nil {
		return Date{}, err
	}
	return Date{fy.Y + 7, time.December, 31}, nil
}

// RetentionEndDK is the last day Danish regnskabsmateriale dated doc must
// be kept: five years from the end of the fiscal year the material
// concerns (bogføringsloven, lov nr. 700 af 24/05/2022; the section is
// § 10 stk. 1 in the old LBK nr. 648 af 15/06/2006, verified; its number in
// the 2022 act is UNVERIFIED in legal.md). A fiscal year ending 29 February
// is kept to 28 February five years on.
func RetentionEndDK(doc Date, endMonth time.Month, endDay int) (Date, error) {
	fy, err := FiscalYearEnd(doc, endMonth, endDay)
	if err != nil {
		return Date{}, err
	}
	return fy.AddMonths(60), nil
}

// RetentionEndNO is the last day Norwegian regnskapsmateriale dated doc
// must be kept. Primary documentation (bokføringsloven (2004) § 13 annet
// ledd; bilag, specifications, annual accounts): five years after the end
// of the fiscal year. Secondary documentation (secondary = true; e.g.
// contracts of significance, correspondence, order and packing slips):
// three years and six months after the end of the fiscal year, a
// month-end giving a month-end (30 June -> 31 December) (legal.md §3; the
// ledd of § 13 / bokføringsforskriften for the 3.5 years is UNVERIFIED).
func RetentionEndNO(doc Date, endMonth time.Month, endDay int, secondary bool) (Date, error) {
	fy, err := FiscalYearEnd(doc, endMonth, endDay)
	if err != nil {
		return Date{}, err
	}
	if !secondary {
		return fy.AddMonths(60), nil
	}
	out := fy.AddMonths(42)
	if fy.D == lastDay(fy.Y, fy.M) {
		out.D = lastDay(out.Y, out.M)
	}
	return out, nil
}

// RetentionEnd dispatches to RetentionEndSE, RetentionEndDK or
// RetentionEndNO; secondary only matters for NO. Retention is a floor: a
// customer may keep longer, never shorter (legal.md §3).
func RetentionEnd(c Country, doc Date, endMonth time.Month, endDay int, secondary bool) (Date, error) {
	switch c {
	case SE:
		return RetentionEndSE(doc, endMonth, endDay)
	case DK:
		return RetentionEndDK(doc, endMonth, endDay)
	case NO:
		return RetentionEndNO(doc, endMonth, endDay, secondary)
	}
	return Date{}, ErrCountry
}
