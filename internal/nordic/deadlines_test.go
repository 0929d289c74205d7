package nordic

import (
	"testing"
	"time"
	_ "time/tzdata" // the zone database, so the tests never depend on the host's
)

// Expected values below were worked out from the rules in legal.md §1.1
// and §4.1 and cross-checked with an independent Python implementation
// (dateutil's Easter, not this package); rows were spot-checked by hand,
// the legal.md worked examples are the first two rows.

// TestR1_Art12Deadline: GDPR Art. 12(3) one month and the two-month
// extension per Regulation 1182/71, per country (R1). Columns: received;
// deadline SE, DK, NO; extended SE, DK, NO.
func TestR1_Art12Deadline(t *testing.T) {
	rows := [][7]Date{
		{dd(2026, 1, 31), dd(2026, 3, 2), dd(2026, 3, 2), dd(2026, 3, 2), dd(2026, 4, 28), dd(2026, 4, 28), dd(2026, 4, 28)},
		{dd(2026, 3, 5), dd(2026, 4, 7), dd(2026, 4, 7), dd(2026, 4, 7), dd(2026, 6, 5), dd(2026, 6, 5), dd(2026, 6, 5)},
		{dd(2024, 1, 31), dd(2024, 2, 29), dd(2024, 2, 29), dd(2024, 2, 29), dd(2024, 4, 29), dd(2024, 4, 29), dd(2024, 4, 29)},
		{dd(2023, 1, 31), dd(2023, 2, 28), dd(2023, 2, 28), dd(2023, 2, 28), dd(2023, 4, 28), dd(2023, 4, 28), dd(2023, 4, 28)},
		{dd(2100, 1, 31), dd(2100, 3, 1), dd(2100, 3, 1), dd(2100, 3, 1), dd(2100, 4, 28), dd(2100, 4, 28), dd(2100, 4, 28)},
		{dd(2026, 1, 30), dd(2026, 3, 2), dd(2026, 3, 2), dd(2026, 3, 2), dd(2026, 4, 28), dd(2026, 4, 28), dd(2026, 4, 28)},
		{dd(2026, 1, 29), dd(2026, 3, 2), dd(2026, 3, 2), dd(2026, 3, 2), dd(2026, 4, 28), dd(2026, 4, 28), dd(2026, 4, 28)},
		{dd(2026, 2, 28), dd(2026, 3, 30), dd(2026, 3, 30), dd(2026, 3, 30), dd(2026, 5, 28), dd(2026, 5, 28), dd(2026, 5, 28)},
		{dd(2025, 12, 31), dd(2026, 2, 2), dd(2026, 2, 2), dd(2026, 2, 2), dd(2026, 3, 31), dd(2026, 3, 31), dd(2026, 3, 31)},
		{dd(2026, 5, 31), dd(2026, 6, 30), dd(2026, 6, 30), dd(2026, 6, 30), dd(2026, 8, 31), dd(2026, 8, 31), dd(2026, 8, 31)},
		{dd(2008, 2, 21), dd(2008, 3, 25), dd(2008, 3, 25), dd(2008, 3, 25), dd(2008, 5, 21), dd(2008, 5, 21), dd(2008, 5, 21)},
		{dd(2008, 2, 20), dd(2008, 3, 20), dd(2008, 3, 25), dd(2008, 3, 25), dd(2008, 5, 20), dd(2008, 5, 20), dd(2008, 5, 20)},
		{dd(2008, 3, 31), dd(2008, 4, 30), dd(2008, 4, 30), dd(2008, 4, 30), dd(2008, 6, 30), dd(2008, 6, 30), dd(2008, 6, 30)},
		{dd(2008, 4, 1), dd(2008, 5, 2), dd(2008, 5, 2), dd(2008, 5, 2), dd(2008, 7, 1), dd(2008, 7, 1), dd(2008, 7, 1)},
		{dd(2038, 3, 23), dd(2038, 4, 27), dd(2038, 4, 27), dd(2038, 4, 27), dd(2038, 6, 23), dd(2038, 6, 23), dd(2038, 6, 23)},
		{dd(2038, 3, 25), dd(2038, 4, 27), dd(2038, 4, 27), dd(2038, 4, 27), dd(2038, 6, 25), dd(2038, 6, 25), dd(2038, 6, 25)},
		{dd(2038, 4, 26), dd(2038, 5, 26), dd(2038, 5, 26), dd(2038, 5, 26), dd(2038, 7, 26), dd(2038, 7, 26), dd(2038, 7, 26)},
		{dd(2038, 5, 3), dd(2038, 6, 4), dd(2038, 6, 4), dd(2038, 6, 4), dd(2038, 8, 3), dd(2038, 8, 3), dd(2038, 8, 3)},
		{dd(2024, 2, 29), dd(2024, 4, 2), dd(2024, 4, 2), dd(2024, 4, 2), dd(2024, 5, 29), dd(2024, 5, 29), dd(2024, 5, 29)},
		{dd(2024, 4, 30), dd(2024, 5, 30), dd(2024, 5, 30), dd(2024, 5, 30), dd(2024, 7, 30), dd(2024, 7, 30), dd(2024, 7, 30)},
		{dd(2026, 5, 19), dd(2026, 6, 19), dd(2026, 6, 19), dd(2026, 6, 19), dd(2026, 8, 19), dd(2026, 8, 19), dd(2026, 8, 19)},
		{dd(2026, 5, 20), dd(2026, 6, 22), dd(2026, 6, 22), dd(2026, 6, 22), dd(2026, 8, 20), dd(2026, 8, 20), dd(2026, 8, 20)},
		{dd(2026, 4, 14), dd(2026, 5, 15), dd(2026, 5, 15), dd(2026, 5, 15), dd(2026, 7, 14), dd(2026, 7, 14), dd(2026, 7, 14)},
		{dd(2026, 5, 6), dd(2026, 6, 8), dd(2026, 6, 8), dd(2026, 6, 8), dd(2026, 8, 6), dd(2026, 8, 6), dd(2026, 8, 6)},
		{dd(2026, 11, 24), dd(2026, 12, 24), dd(2026, 12, 24), dd(2026, 12, 24), dd(2027, 2, 24), dd(2027, 2, 24), dd(2027, 2, 24)},
		{dd(2026, 11, 26), dd(2026, 12, 28), dd(2026, 12, 28), dd(2026, 12, 28), dd(2027, 2, 26), dd(2027, 2, 26), dd(2027, 2, 26)},
		{dd(2026, 11, 30), dd(2026, 12, 30), dd(2026, 12, 30), dd(2026, 12, 30), dd(2027, 3, 1), dd(2027, 3, 1), dd(2027, 3, 1)},
		{dd(2026, 12, 1), dd(2027, 1, 4), dd(2027, 1, 4), dd(2027, 1, 4), dd(2027, 3, 1), dd(2027, 3, 1), dd(2027, 3, 1)},
		{dd(2025, 11, 26), dd(2025, 12, 29), dd(2025, 12, 29), dd(2025, 12, 29), dd(2026, 2, 26), dd(2026, 2, 26), dd(2026, 2, 26)},
		{dd(2027, 5, 17), dd(2027, 6, 17), dd(2027, 6, 17), dd(2027, 6, 17), dd(2027, 8, 17), dd(2027, 8, 17), dd(2027, 8, 17)},
		{dd(2027, 4, 6), dd(2027, 5, 7), dd(2027, 5, 7), dd(2027, 5, 7), dd(2027, 7, 6), dd(2027, 7, 6), dd(2027, 7, 6)},
		{dd(2027, 5, 26), dd(2027, 6, 28), dd(2027, 6, 28), dd(2027, 6, 28), dd(2027, 8, 26), dd(2027, 8, 26), dd(2027, 8, 26)},
		{dd(2025, 5, 17), dd(2025, 6, 17), dd(2025, 6, 17), dd(2025, 6, 17), dd(2025, 8, 18), dd(2025, 8, 18), dd(2025, 8, 18)},
		{dd(2025, 5, 19), dd(2025, 6, 19), dd(2025, 6, 19), dd(2025, 6, 19), dd(2025, 8, 19), dd(2025, 8, 19), dd(2025, 8, 19)},
		{dd(2025, 5, 21), dd(2025, 6, 23), dd(2025, 6, 23), dd(2025, 6, 23), dd(2025, 8, 21), dd(2025, 8, 21), dd(2025, 8, 21)},
		{dd(2019, 5, 19), dd(2019, 6, 19), dd(2019, 6, 19), dd(2019, 6, 19), dd(2019, 8, 19), dd(2019, 8, 19), dd(2019, 8, 19)},
		{dd(2023, 4, 5), dd(2023, 5, 5), dd(2023, 5, 8), dd(2023, 5, 5), dd(2023, 7, 5), dd(2023, 7, 5), dd(2023, 7, 5)},
		{dd(2024, 4, 26), dd(2024, 5, 27), dd(2024, 5, 27), dd(2024, 5, 27), dd(2024, 7, 26), dd(2024, 7, 26), dd(2024, 7, 26)},
		{dd(2023, 9, 30), dd(2023, 10, 30), dd(2023, 10, 30), dd(2023, 10, 30), dd(2024, 1, 2), dd(2024, 1, 2), dd(2024, 1, 2)},
		{dd(2026, 10, 24), dd(2026, 11, 24), dd(2026, 11, 24), dd(2026, 11, 24), dd(2027, 1, 25), dd(2027, 1, 25), dd(2027, 1, 25)},
		{dd(2026, 9, 29), dd(2026, 10, 29), dd(2026, 10, 29), dd(2026, 10, 29), dd(2026, 12, 29), dd(2026, 12, 29), dd(2026, 12, 29)},
		{dd(2027, 2, 28), dd(2027, 3, 30), dd(2027, 3, 30), dd(2027, 3, 30), dd(2027, 5, 28), dd(2027, 5, 28), dd(2027, 5, 28)},
		{dd(2024, 12, 31), dd(2025, 1, 31), dd(2025, 1, 31), dd(2025, 1, 31), dd(2025, 3, 31), dd(2025, 3, 31), dd(2025, 3, 31)},
		{dd(2004, 5, 31), dd(2004, 6, 30), dd(2004, 6, 30), dd(2004, 6, 30), dd(2004, 8, 30), dd(2004, 8, 30), dd(2004, 8, 30)},
		{dd(2005, 4, 16), dd(2005, 5, 16), dd(2005, 5, 17), dd(2005, 5, 18), dd(2005, 7, 18), dd(2005, 7, 18), dd(2005, 7, 18)},
	}
	cals := [3]*Calendar{mustCal(t, SE), mustCal(t, DK), mustCal(t, NO)}
	if len(rows) < 40 {
		t.Fatalf("only %d rows", len(rows))
	}
	for _, r := range rows {
		for i, cal := range cals {
			if got := Art12Deadline(r[0], cal); got != r[1+i] {
				t.Errorf("%s Art12Deadline(%v) = %v, want %v", cal.Country(), r[0], got, r[1+i])
			}
			if got := Art12Extended(r[0], cal); got != r[4+i] {
				t.Errorf("%s Art12Extended(%v) = %v, want %v", cal.Country(), r[0], got, r[4+i])
			}
		}
	}
}

// TestR1_Art12Rules pins the choices documented on Art12Deadline: company
// closed days and Swedish eves do not move the legal deadline; the
// internal target is 28 days.
func TestR1_Art12Rules(t *testing.T) {
	se := mustCal(t, SE, dd(2026, 3, 2))
	if got := Art12Deadline(dd(2026, 1, 31), se); got != dd(2026, 3, 2) {
		t.Errorf("company closed day moved the deadline to %v", got)
	}
	if got := Art12Deadline(dd(2026, 11, 24), mustCal(t, SE)); got != dd(2026, 12, 24) {
		t.Errorf("Christmas Eve moved the deadline to %v", got)
	}
	if got := Art12Target(dd(2026, 1, 31)); got != dd(2026, 2, 28) {
		t.Errorf("target %v", got)
	}
	for d := dd(2024, 1, 1); d.Y < 2027; d = d.AddDays(1) {
		for _, c := range []Country{SE, DK, NO} {
			cal := mustCal(t, c)
			dl, ext := Art12Deadline(d, cal), Art12Extended(d, cal)
			if Art12Target(d).After(dl) || !dl.After(d) || !ext.After(dl) {
				t.Fatalf("%s %v: target %v deadline %v extended %v", c, d, Art12Target(d), dl, ext)
			}
			// Never later than either other reading of the extension.
			three := rollForward(d.AddMonths(3), cal.publicWorkingDay)
			fromMoved := rollForward(dl.AddMonths(2), cal.publicWorkingDay)
			if ext.After(three) || ext.After(fromMoved) {
				t.Fatalf("%s %v: extension %v after %v or %v", c, d, ext, three, fromMoved)
			}
		}
	}
}

// TestM2_Withdrawal: 14 days (law) and 30 days (policy, day 30 included)
// from the contract or installation day, rolled to the next working day of
// the country (SE eves included). Columns: start; 14 days SE, DK, NO;
// 30 days SE, DK, NO.
func TestM2_Withdrawal(t *testing.T) {
	rows := [][7]Date{
		{dd(2026, 6, 5), dd(2026, 6, 22), dd(2026, 6, 19), dd(2026, 6, 19), dd(2026, 7, 6), dd(2026, 7, 6), dd(2026, 7, 6)},
		{dd(2026, 6, 6), dd(2026, 6, 22), dd(2026, 6, 22), dd(2026, 6, 22), dd(2026, 7, 6), dd(2026, 7, 6), dd(2026, 7, 6)},
		{dd(2026, 12, 10), dd(2026, 12, 28), dd(2026, 12, 24), dd(2026, 12, 24), dd(2027, 1, 11), dd(2027, 1, 11), dd(2027, 1, 11)},
		{dd(2026, 12, 17), dd(2027, 1, 4), dd(2026, 12, 31), dd(2026, 12, 31), dd(2027, 1, 18), dd(2027, 1, 18), dd(2027, 1, 18)},
		{dd(2026, 12, 12), dd(2026, 12, 28), dd(2026, 12, 28), dd(2026, 12, 28), dd(2027, 1, 11), dd(2027, 1, 11), dd(2027, 1, 11)},
		{dd(2026, 12, 11), dd(2026, 12, 28), dd(2026, 12, 28), dd(2026, 12, 28), dd(2027, 1, 11), dd(2027, 1, 11), dd(2027, 1, 11)},
		{dd(2026, 12, 18), dd(2027, 1, 4), dd(2027, 1, 4), dd(2027, 1, 4), dd(2027, 1, 18), dd(2027, 1, 18), dd(2027, 1, 18)},
		{dd(2027, 3, 11), dd(2027, 3, 25), dd(2027, 3, 30), dd(2027, 3, 30), dd(2027, 4, 12), dd(2027, 4, 12), dd(2027, 4, 12)},
		{dd(2027, 3, 14), dd(2027, 3, 30), dd(2027, 3, 30), dd(2027, 3, 30), dd(2027, 4, 13), dd(2027, 4, 13), dd(2027, 4, 13)},
		{dd(2027, 3, 15), dd(2027, 3, 30), dd(2027, 3, 30), dd(2027, 3, 30), dd(2027, 4, 14), dd(2027, 4, 14), dd(2027, 4, 14)},
		{dd(2027, 3, 12), dd(2027, 3, 30), dd(2027, 3, 30), dd(2027, 3, 30), dd(2027, 4, 12), dd(2027, 4, 12), dd(2027, 4, 12)},
		{dd(2027, 4, 23), dd(2027, 5, 7), dd(2027, 5, 7), dd(2027, 5, 7), dd(2027, 5, 24), dd(2027, 5, 24), dd(2027, 5, 24)},
		{dd(2027, 5, 3), dd(2027, 5, 17), dd(2027, 5, 18), dd(2027, 5, 18), dd(2027, 6, 2), dd(2027, 6, 2), dd(2027, 6, 2)},
		{dd(2027, 5, 2), dd(2027, 5, 17), dd(2027, 5, 18), dd(2027, 5, 18), dd(2027, 6, 1), dd(2027, 6, 1), dd(2027, 6, 1)},
		{dd(2026, 3, 20), dd(2026, 4, 7), dd(2026, 4, 7), dd(2026, 4, 7), dd(2026, 4, 20), dd(2026, 4, 20), dd(2026, 4, 20)},
		{dd(2026, 3, 22), dd(2026, 4, 7), dd(2026, 4, 7), dd(2026, 4, 7), dd(2026, 4, 21), dd(2026, 4, 21), dd(2026, 4, 21)},
		{dd(2026, 3, 23), dd(2026, 4, 7), dd(2026, 4, 7), dd(2026, 4, 7), dd(2026, 4, 22), dd(2026, 4, 22), dd(2026, 4, 22)},
		{dd(2026, 4, 17), dd(2026, 5, 4), dd(2026, 5, 1), dd(2026, 5, 4), dd(2026, 5, 18), dd(2026, 5, 18), dd(2026, 5, 18)},
		{dd(2026, 4, 30), dd(2026, 5, 15), dd(2026, 5, 15), dd(2026, 5, 15), dd(2026, 6, 1), dd(2026, 6, 1), dd(2026, 6, 1)},
		{dd(2026, 5, 3), dd(2026, 5, 18), dd(2026, 5, 18), dd(2026, 5, 18), dd(2026, 6, 2), dd(2026, 6, 2), dd(2026, 6, 2)},
		{dd(2026, 5, 11), dd(2026, 5, 25), dd(2026, 5, 26), dd(2026, 5, 26), dd(2026, 6, 10), dd(2026, 6, 10), dd(2026, 6, 10)},
		{dd(2026, 10, 17), dd(2026, 11, 2), dd(2026, 11, 2), dd(2026, 11, 2), dd(2026, 11, 16), dd(2026, 11, 16), dd(2026, 11, 16)},
		{dd(2026, 10, 25), dd(2026, 11, 9), dd(2026, 11, 9), dd(2026, 11, 9), dd(2026, 11, 24), dd(2026, 11, 24), dd(2026, 11, 24)},
		{dd(2027, 12, 10), dd(2027, 12, 27), dd(2027, 12, 24), dd(2027, 12, 24), dd(2028, 1, 10), dd(2028, 1, 10), dd(2028, 1, 10)},
		{dd(2024, 2, 15), dd(2024, 2, 29), dd(2024, 2, 29), dd(2024, 2, 29), dd(2024, 3, 18), dd(2024, 3, 18), dd(2024, 3, 18)},
		{dd(2024, 2, 16), dd(2024, 3, 1), dd(2024, 3, 1), dd(2024, 3, 1), dd(2024, 3, 18), dd(2024, 3, 18), dd(2024, 3, 18)},
		{dd(2028, 2, 15), dd(2028, 2, 29), dd(2028, 2, 29), dd(2028, 2, 29), dd(2028, 3, 16), dd(2028, 3, 16), dd(2028, 3, 16)},
		{dd(2023, 4, 21), dd(2023, 5, 5), dd(2023, 5, 8), dd(2023, 5, 5), dd(2023, 5, 22), dd(2023, 5, 22), dd(2023, 5, 22)},
		{dd(2023, 4, 22), dd(2023, 5, 8), dd(2023, 5, 8), dd(2023, 5, 8), dd(2023, 5, 22), dd(2023, 5, 22), dd(2023, 5, 22)},
		{dd(2024, 4, 12), dd(2024, 4, 26), dd(2024, 4, 26), dd(2024, 4, 26), dd(2024, 5, 13), dd(2024, 5, 13), dd(2024, 5, 13)},
		{dd(2025, 6, 6), dd(2025, 6, 23), dd(2025, 6, 20), dd(2025, 6, 20), dd(2025, 7, 7), dd(2025, 7, 7), dd(2025, 7, 7)},
		{dd(2025, 6, 7), dd(2025, 6, 23), dd(2025, 6, 23), dd(2025, 6, 23), dd(2025, 7, 7), dd(2025, 7, 7), dd(2025, 7, 7)},
		{dd(2008, 3, 7), dd(2008, 3, 25), dd(2008, 3, 25), dd(2008, 3, 25), dd(2008, 4, 7), dd(2008, 4, 7), dd(2008, 4, 7)},
		{dd(2008, 3, 9), dd(2008, 3, 25), dd(2008, 3, 25), dd(2008, 3, 25), dd(2008, 4, 8), dd(2008, 4, 8), dd(2008, 4, 8)},
		{dd(2008, 4, 17), dd(2008, 5, 2), dd(2008, 5, 2), dd(2008, 5, 2), dd(2008, 5, 19), dd(2008, 5, 19), dd(2008, 5, 19)},
		{dd(2038, 4, 8), dd(2038, 4, 22), dd(2038, 4, 27), dd(2038, 4, 27), dd(2038, 5, 10), dd(2038, 5, 10), dd(2038, 5, 10)},
		{dd(2038, 4, 9), dd(2038, 4, 27), dd(2038, 4, 27), dd(2038, 4, 27), dd(2038, 5, 10), dd(2038, 5, 10), dd(2038, 5, 10)},
		{dd(2038, 5, 20), dd(2038, 6, 4), dd(2038, 6, 4), dd(2038, 6, 4), dd(2038, 6, 21), dd(2038, 6, 21), dd(2038, 6, 21)},
		{dd(2025, 12, 17), dd(2026, 1, 2), dd(2025, 12, 31), dd(2025, 12, 31), dd(2026, 1, 16), dd(2026, 1, 16), dd(2026, 1, 16)},
		{dd(2026, 11, 21), dd(2026, 12, 7), dd(2026, 12, 7), dd(2026, 12, 7), dd(2026, 12, 21), dd(2026, 12, 21), dd(2026, 12, 21)},
		{dd(2026, 5, 30), dd(2026, 6, 15), dd(2026, 6, 15), dd(2026, 6, 15), dd(2026, 6, 29), dd(2026, 6, 29), dd(2026, 6, 29)},
		{dd(2026, 5, 23), dd(2026, 6, 8), dd(2026, 6, 8), dd(2026, 6, 8), dd(2026, 6, 22), dd(2026, 6, 22), dd(2026, 6, 22)},
	}
	if len(rows) < 40 {
		t.Fatalf("only %d rows", len(rows))
	}
	cals := [3]*Calendar{mustCal(t, SE, dd(2026, 12, 28)), mustCal(t, DK), mustCal(t, NO)}
	for _, r := range rows {
		for i, cal := range cals {
			if got := WithdrawalDeadline(r[0], 0, cal); got != r[1+i] {
				t.Errorf("%s 14 days from %v = %v, want %v", cal.Country(), r[0], got, r[1+i])
			}
			if got := WithdrawalDeadline(r[0], 10, cal); got != r[1+i] {
				t.Errorf("%s policy shorter than the law: %v, want %v", cal.Country(), got, r[1+i])
			}
			if got := WithdrawalDeadline(r[0], 30, cal); got != r[4+i] {
				t.Errorf("%s 30 days from %v = %v, want %v", cal.Country(), r[0], got, r[4+i])
			}
		}
	}
}

// TestB1_Art33: 72 real hours from awareness, across weekends, holidays
// and both DST changes in Europe/Stockholm (B1).
func TestB1_Art33(t *testing.T) {
	sto, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal("no tzdata:", err)
	}
	osl, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal("no tzdata:", err)
	}
	for _, c := range []struct {
		aware time.Time
		want  time.Time // UTC
	}{
		// Friday before the spring change (29 March 2026): 72 h later is
		// Monday 11:00 local summer time (09:00 UTC).
		{time.Date(2026, 3, 27, 10, 0, 0, 0, sto), time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC)},
		// Friday before the autumn change (25 October 2026): Monday 09:00 local winter time.
		{time.Date(2026, 10, 23, 10, 0, 0, 0, sto), time.Date(2026, 10, 26, 8, 0, 0, 0, time.UTC)},
		// Inside the repeated hour of the autumn change.
		{time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), time.Date(2026, 10, 28, 0, 30, 0, 0, time.UTC)},
		// Christmas and New Year: not extended.
		{time.Date(2026, 12, 24, 16, 45, 0, 0, sto), time.Date(2026, 12, 27, 15, 45, 0, 0, time.UTC)},
		{time.Date(2026, 12, 31, 23, 59, 59, 0, sto), time.Date(2027, 1, 3, 22, 59, 59, 0, time.UTC)},
		// Easter 2026, Midsummer 2026.
		{time.Date(2026, 4, 2, 18, 0, 0, 0, sto), time.Date(2026, 4, 5, 16, 0, 0, 0, time.UTC)},
		{time.Date(2026, 6, 18, 9, 0, 0, 0, sto), time.Date(2026, 6, 21, 7, 0, 0, 0, time.UTC)},
		// Leap day.
		{time.Date(2028, 2, 27, 12, 0, 0, 0, osl), time.Date(2028, 3, 1, 11, 0, 0, 0, time.UTC)},
		{time.Date(2026, 1, 30, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)},
	} {
		if got := Art33Deadline(c.aware); !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("Art33Deadline(%v) = %v, want %v", c.aware, got, c.want)
		}
	}
	// Every hour of 2026 in Stockholm time: exactly 72 elapsed hours.
	for tm := time.Date(2026, 1, 1, 0, 0, 0, 0, sto); tm.Year() == 2026; tm = tm.Add(time.Hour) {
		if d := Art33Deadline(tm).Sub(tm); d != 72*time.Hour {
			t.Fatalf("%v: %v", tm, d)
		}
	}
}

// TestT3_Retention: end of bookkeeping retention per country (T3).
// Columns: document date, fiscal-year end month/day; fiscal-year end;
// SE, DK, NO primary, NO secondary.
func TestT3_Retention(t *testing.T) {
	rows := []struct {
		doc                Date
		m, d               int
		fy, se, dk, no, ns Date
	}{
		{dd(2025, 3, 15), 12, 31, dd(2025, 12, 31), dd(2032, 12, 31), dd(2030, 12, 31), dd(2030, 12, 31), dd(2029, 6, 30)},
		{dd(2025, 12, 31), 12, 31, dd(2025, 12, 31), dd(2032, 12, 31), dd(2030, 12, 31), dd(2030, 12, 31), dd(2029, 6, 30)},
		{dd(2025, 1, 1), 12, 31, dd(2025, 12, 31), dd(2032, 12, 31), dd(2030, 12, 31), dd(2030, 12, 31), dd(2029, 6, 30)},
		{dd(2024, 7, 1), 6, 30, dd(2025, 6, 30), dd(2032, 12, 31), dd(2030, 6, 30), dd(2030, 6, 30), dd(2028, 12, 31)},
		{dd(2025, 6, 30), 6, 30, dd(2025, 6, 30), dd(2032, 12, 31), dd(2030, 6, 30), dd(2030, 6, 30), dd(2028, 12, 31)},
		{dd(2025, 7, 1), 6, 30, dd(2026, 6, 30), dd(2033, 12, 31), dd(2031, 6, 30), dd(2031, 6, 30), dd(2029, 12, 31)},
		{dd(2024, 2, 29), 2, 29, dd(2024, 2, 29), dd(2031, 12, 31), dd(2029, 2, 28), dd(2029, 2, 28), dd(2027, 8, 31)},
		{dd(2023, 3, 1), 2, 28, dd(2024, 2, 28), dd(2031, 12, 31), dd(2029, 2, 28), dd(2029, 2, 28), dd(2027, 8, 28)},
		{dd(2024, 1, 15), 2, 28, dd(2024, 2, 28), dd(2031, 12, 31), dd(2029, 2, 28), dd(2029, 2, 28), dd(2027, 8, 28)},
		{dd(2023, 9, 1), 8, 31, dd(2024, 8, 31), dd(2031, 12, 31), dd(2029, 8, 31), dd(2029, 8, 31), dd(2028, 2, 29)},
		{dd(2024, 10, 31), 4, 30, dd(2025, 4, 30), dd(2032, 12, 31), dd(2030, 4, 30), dd(2030, 4, 30), dd(2028, 10, 31)},
		{dd(2026, 11, 23), 12, 31, dd(2026, 12, 31), dd(2033, 12, 31), dd(2031, 12, 31), dd(2031, 12, 31), dd(2030, 6, 30)},
		{dd(2025, 5, 1), 4, 30, dd(2026, 4, 30), dd(2033, 12, 31), dd(2031, 4, 30), dd(2031, 4, 30), dd(2029, 10, 31)},
		{dd(2027, 1, 31), 1, 31, dd(2027, 1, 31), dd(2034, 12, 31), dd(2032, 1, 31), dd(2032, 1, 31), dd(2030, 7, 31)},
		{dd(2023, 12, 31), 9, 30, dd(2024, 9, 30), dd(2031, 12, 31), dd(2029, 9, 30), dd(2029, 9, 30), dd(2028, 3, 31)},
	}
	for _, r := range rows {
		m := time.Month(r.m)
		if got, err := FiscalYearEnd(r.doc, m, r.d); err != nil || got != r.fy {
			t.Errorf("FiscalYearEnd(%v, %d/%d) = %v, %v; want %v", r.doc, r.d, r.m, got, err, r.fy)
		}
		check := func(name string, got Date, err error, want Date) {
			t.Helper()
			if err != nil || got != want {
				t.Errorf("%s(%v, FY end %d/%d) = %v, %v; want %v", name, r.doc, r.d, r.m, got, err, want)
			}
		}
		got, err := RetentionEndSE(r.doc, m, r.d)
		check("SE", got, err, r.se)
		got, err = RetentionEndDK(r.doc, m, r.d)
		check("DK", got, err, r.dk)
		got, err = RetentionEndNO(r.doc, m, r.d, false)
		check("NO", got, err, r.no)
		got, err = RetentionEndNO(r.doc, m, r.d, true)
		check("NO secondary", got, err, r.ns)
		got, err = RetentionEnd(SE, r.doc, m, r.d, true)
		check("RetentionEnd SE", got, err, r.se)
		got, err = RetentionEnd(NO, r.doc, m, r.d, true)
		check("RetentionEnd NO", got, err, r.ns)
	}
	for _, bad := range []struct {
		m time.Month
		d int
	}{{0, 31}, {13, 1}, {12, 0}, {12, 32}} {
		if _, err := RetentionEndSE(dd(2026, 1, 1), bad.m, bad.d); err == nil {
			t.Errorf("fiscal-year end %d/%d accepted", bad.d, bad.m)
		}
	}
	if _, err := RetentionEndDK(dd(2026, 2, 30), 12, 31); err == nil {
		t.Error("30 February accepted")
	}
	if _, err := RetentionEnd("FI", dd(2026, 1, 1), 12, 31, false); err == nil {
		t.Error("FI accepted")
	}
}
