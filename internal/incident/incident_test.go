package incident

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"tillit/internal/nordic"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

var stockholm = func() *time.Location {
	l, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		panic(err)
	}
	return l
}()

// B1: the deadline is nordic.Art33Deadline of the time of awareness: 72 real hours,
// also across the spring daylight-saving change (29 March 2026 in Sweden), where the
// wall clock moves 73 hours.
func TestB1_DeadlineIs72HoursAcrossDST(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nordic.SE)
		aware := time.Date(2026, 3, 28, 10, 0, 0, 0, stockholm)
		h.setNow(aware.Add(time.Hour))
		i := h.record(NewIncident{Kind: KindBreach, Title: "Lost laptop", AwareAt: &aware})
		want := nordic.Art33Deadline(aware)
		if i.Deadline == nil || !i.Deadline.Equal(want) || i.Deadline.Sub(aware) != 72*time.Hour {
			t.Fatalf("deadline %v, want %v", i.Deadline, want)
		}
		if got := i.Deadline.In(stockholm); got.Day() != 31 || got.Hour() != 11 {
			t.Fatalf("local deadline %v, want 31 March 11:00 CEST", got)
		}
		g, err := h.svc.Get(h.ctx(), i.ID)
		if err != nil || !g.Deadline.Equal(want) || g.Overdue {
			t.Fatalf("get %+v %v", g, err)
		}
		h.setNow(want.Add(time.Minute))
		if g, _ := h.svc.Get(h.ctx(), i.ID); !g.Overdue {
			t.Fatal("not overdue after the deadline")
		}
		if l, err := h.svc.List(h.ctx(), Filter{Overdue: true}); err != nil || len(l) != 1 || l[0].ID != i.ID {
			t.Fatalf("overdue list %v %v", l, err)
		}
		future := h.svc.now().Add(time.Hour)
		var ve *ValidationError
		if _, err := h.svc.Record(h.ctx(), NewIncident{Kind: KindBreach, Title: "x", AwareAt: &future}); !errors.As(err, &ve) {
			t.Fatalf("future awareness: %v", err)
		}
	})
}

// B1: recording a breach enqueues the three reminders at +24, +48 and +66 hours in the
// same write; the handler records a reminder while the breach is undecided and does
// nothing once it was reported.
func TestB1_RemindersAndHandler(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nordic.SE)
		now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
		h.setNow(now)
		aware := now.Add(-2 * time.Hour)
		i := h.record(NewIncident{Kind: KindBreach, Title: "Misdirected e-mail", AwareAt: &aware})
		js := h.jobsOf(ReminderJobKind)
		if len(js) != 3 {
			t.Fatalf("%d reminder jobs", len(js))
		}
		var at []time.Duration
		for _, j := range js {
			var a reminderArgs
			if err := json.Unmarshal(j.Args, &a); err != nil || a.IncidentID != i.ID {
				t.Fatalf("args %s", j.Args)
			}
			if j.RunAt.Sub(aware) != time.Duration(a.Hour)*time.Hour {
				t.Fatalf("job at %v for hour %d", j.RunAt, a.Hour)
			}
			at = append(at, j.RunAt.Sub(aware))
		}
		slices.Sort(at)
		if !slices.Equal(at, []time.Duration{24 * time.Hour, 48 * time.Hour, 66 * time.Hour}) {
			t.Fatalf("reminders at %v", at)
		}
		// Recording again never doubles (the unique keys are per incident and hour).
		if err := st.Write(h.ctx(), func(ctx context.Context, tx store.Tx) error { return h.svc.insert(ctx, tx, &i) }); err == nil {
			t.Fatal("the same incident inserted twice")
		}
		if n := len(h.jobsOf(ReminderJobKind)); n != 3 {
			t.Fatalf("%d reminder jobs after a failed insert", n)
		}

		h.setNow(aware.Add(24 * time.Hour))
		ok, err := h.svc.Remind(h.ctx(), js[0])
		if err != nil || !ok {
			t.Fatalf("remind undecided: %v %v", ok, err)
		}
		if err := h.svc.ReminderJob(h.ctx(), js[1]); err != nil {
			t.Fatal(err)
		}
		if n := h.count(`SELECT COUNT(*) FROM incident_events WHERE incident_id = $1 AND action = 'remind'`, i.ID); n != 2 {
			t.Fatalf("%d reminder events", n)
		}
		if _, err := h.svc.MarkReported(h.ctx(), i.ID, "IMY-2026-123", time.Time{}); err != nil {
			t.Fatal(err)
		}
		ok, err = h.svc.Remind(h.ctx(), js[2])
		if err != nil || ok {
			t.Fatalf("remind after report: %v %v", ok, err)
		}
		if n := h.count(`SELECT COUNT(*) FROM incident_events WHERE incident_id = $1 AND action = 'remind'`, i.ID); n != 2 {
			t.Fatalf("%d reminder events after the report", n)
		}
		// A customer-side incident has no reminders.
		h.record(NewIncident{Kind: KindCustomerIncident, Title: "Customer site defaced"})
		if n := len(h.jobsOf(ReminderJobKind)); n != 3 {
			t.Fatalf("%d reminder jobs after a customer incident", n)
		}
	})
}

// B1: a breach cannot be closed before it is reported or documented as not reported;
// once documented it closes, and a closed incident does not change. Every change is
// audited as incident.*.
func TestB1_CloseNeedsDocumentationAndAudit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nordic.SE)
		ctx := h.ctx()
		i := h.record(NewIncident{Kind: KindBreach, Title: "Backup readable by other tenants", Nature: []Nature{NatureConfidentiality}})
		if _, err := h.svc.Close(ctx, i.ID); !errors.Is(err, ErrUndocumented) {
			t.Fatalf("close undocumented: %v", err)
		}
		if _, err := h.svc.DecideNotToReport(ctx, i.ID, " "); err == nil {
			t.Fatal("empty reason accepted")
		}
		if _, err := h.svc.Update(ctx, i.ID, Patch{Risk: ptr(RiskLow), MeasuresTaken: ptr("Access revoked")}); err != nil {
			t.Fatal(err)
		}
		d, err := h.svc.DecideNotToReport(ctx, i.ID, "Encrypted backup; key not exposed, so no risk")
		if err != nil || d.NoReport == nil || d.Overdue {
			t.Fatalf("no-report %+v %v", d, err)
		}
		c, err := h.svc.Close(ctx, i.ID)
		if err != nil || c.ClosedAt == nil {
			t.Fatalf("close %+v %v", c, err)
		}
		if _, err := h.svc.Update(ctx, i.ID, Patch{Title: ptr("x")}); !errors.Is(err, ErrClosed) {
			t.Fatalf("update closed: %v", err)
		}
		if _, err := h.svc.MarkReported(ctx, i.ID, "ref", time.Time{}); !errors.Is(err, ErrClosed) {
			t.Fatalf("report closed: %v", err)
		}
		// Still documented: the closed breach stays in the register.
		if l, _ := h.svc.List(ctx, Filter{Open: true}); len(l) != 0 {
			t.Fatalf("open list %v", l)
		}
		if l, _ := h.svc.List(ctx, Filter{Kind: KindBreach}); len(l) != 1 {
			t.Fatalf("breach list %v", l)
		}
		for action, want := range map[string]int{"record": 1, "update": 1, "no-report": 1, "close": 1} {
			if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = $1 AND subject_id = $2`, "incident."+action, i.ID); n != want {
				t.Errorf("audit incident.%s: %d rows, want %d", action, n, want)
			}
		}
		var actor string
		if err := st.DB().QueryRow(`SELECT actor_id FROM audit_log WHERE action = 'incident.close'`).Scan(&actor); err != nil || actor != testActor.ID {
			t.Fatalf("close audit actor %q %v", actor, err)
		}

		// A reported breach closes; reporting twice is refused.
		r := h.record(NewIncident{Kind: KindBreach, Title: "Stolen phone"})
		rep, err := h.svc.MarkReported(ctx, r.ID, "IMY-1", time.Time{})
		if err != nil || rep.Report == nil || rep.Report.Authority != "imy" || rep.Report.Reference != "IMY-1" {
			t.Fatalf("reported %+v %v", rep.Report, err)
		}
		if _, err := h.svc.MarkReported(ctx, r.ID, "IMY-2", time.Time{}); !errors.Is(err, ErrAlreadyReported) {
			t.Fatalf("second report: %v", err)
		}
		if _, err := h.svc.Close(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
	})
}

// B1: affected customers are recorded by id; when the breach's risk is high their
// Art. 34 notices are queued, once per customer.
func TestB1_AffectedCustomersAndNotices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nordic.SE)
		ctx := h.ctx()
		a := h.customer("Anna Andersson", "anna@example.se", pnrA)
		b := h.customer("Bertil Berg", "bertil@example.se", pnrB)
		i := h.record(NewIncident{Kind: KindBreach, Title: "Invoice sent to wrong address"})
		got, err := h.svc.AddAffected(ctx, i.ID, []string{a})
		if err != nil || !slices.Equal(got.AffectedCustomerIDs, []string{a}) {
			t.Fatalf("affected %v %v", got.AffectedCustomerIDs, err)
		}
		if n := len(h.jobsOf(NoticeJobKind)); n != 0 {
			t.Fatalf("%d notices before the risk is high", n)
		}
		if _, err := h.svc.Update(ctx, i.ID, Patch{Risk: ptr(RiskHigh)}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.AddAffected(ctx, i.ID, []string{a, b}); err != nil {
			t.Fatal(err)
		}
		if n := len(h.jobsOf(NoticeJobKind)); n != 2 {
			t.Fatalf("%d notices, want 2", n)
		}
		var ve *ValidationError
		if _, err := h.svc.AddAffected(ctx, i.ID, []string{"no-such-customer"}); !errors.As(err, &ve) {
			t.Fatalf("unknown customer: %v", err)
		}
		n, err := h.svc.MarkCustomersNotified(ctx, i.ID)
		if err != nil || n.CustomerNotifiedAt == nil {
			t.Fatalf("notified %v %v", n.CustomerNotifiedAt, err)
		}
	})
}

// B2: a customer-side incident has no clock, no reminders, no draft and can never be
// reported or documented as not reported; it closes without either.
func TestB2_CustomerIncidentOutsideBreachDuty(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nordic.SE)
		ctx := h.ctx()
		i := h.record(NewIncident{Kind: KindCustomerIncident, Title: "Customer's WordPress site hacked"})
		if i.Deadline != nil || i.Overdue {
			t.Fatalf("customer incident has a clock: %+v", i)
		}
		if _, err := h.svc.MarkReported(ctx, i.ID, "IMY-1", time.Time{}); !errors.Is(err, ErrNotBreach) {
			t.Fatalf("report: %v", err)
		}
		if _, err := h.svc.DecideNotToReport(ctx, i.ID, "n/a"); !errors.Is(err, ErrNotBreach) {
			t.Fatalf("no-report: %v", err)
		}
		if _, err := h.svc.Draft(ctx, i.ID); !errors.Is(err, ErrNotBreach) {
			t.Fatalf("draft: %v", err)
		}
		if n := len(h.jobsOf(ReminderJobKind)); n != 0 {
			t.Fatalf("%d reminders", n)
		}
		h.setNow(h.svc.now().Add(100 * time.Hour))
		if l, _ := h.svc.List(ctx, Filter{Overdue: true}); len(l) != 0 {
			t.Fatalf("customer incident overdue: %v", l)
		}
		if l, _ := h.svc.List(ctx, Filter{Kind: KindCustomerIncident, Open: true}); len(l) != 1 {
			t.Fatalf("customer incidents %v", l)
		}
		if c, err := h.svc.Close(ctx, i.ID); err != nil || c.ClosedAt == nil {
			t.Fatalf("close %v", err)
		}
	})
}

// B1: the Art. 33(3) draft is in Swedish for SE (IMY) and Danish for DK, holds the
// facts from the register and the contact, and lists the items still missing.
func TestB1_DraftInAuthorityLanguage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nordic.SE)
		for _, tc := range []struct {
			country              nordic.Country
			lang                 string
			phrases, missingHead []string
		}{
			{nordic.SE, "sv", []string{"Anmälan av personuppgiftsincident", "Integritetsskyddsmyndigheten", "brott mot konfidentialiteten",
				"Ungefärligt antal berörda registrerade", "Tidpunkt då vi fick kännedom"}, []string{"Ungefärligt antal berörda registerposter", "Sannolika konsekvenser"}},
			{nordic.DK, "da", []string{"Anmeldelse af brud på persondatasikkerheden", "Datatilsynet", "brud på fortroligheden",
				"Omtrentligt antal berørte registrerede", "bekendt med bruddet"}, []string{"Omtrentligt antal berørte registreringer", "Sandsynlige konsekvenser"}},
			{nordic.NO, "nb", []string{"Melding om brudd på personopplysningssikkerheten", "brudd på konfidensialiteten"}, nil},
		} {
			t.Run(string(tc.country), func(t *testing.T) {
				svc, err := NewService(st, h.audit, Options{Country: tc.country, Now: h.svc.now, Queue: h.queue, Contact: testContact})
				if err != nil {
					t.Fatal(err)
				}
				ctx := h.ctx()
				aware := h.svc.now().Add(-3 * time.Hour)
				i, err := svc.Record(ctx, NewIncident{Kind: KindBreach, Title: "Misconfigured bucket", AwareAt: &aware,
					Nature: []Nature{NatureConfidentiality}, DataCategories: []string{"contact", "billing"}, ApproxPeople: ptr(int64(120)),
					MeasuresTaken: "Bucket made private", MeasuresProposed: "Configuration review"})
				if err != nil {
					t.Fatal(err)
				}
				d, err := svc.Draft(ctx, i.ID)
				if err != nil {
					t.Fatal(err)
				}
				if d.Lang != tc.lang || !d.Deadline.Equal(nordic.Art33Deadline(aware)) {
					t.Fatalf("lang %s deadline %v", d.Lang, d.Deadline)
				}
				for _, s := range append(tc.phrases, "contact, billing", "120", "Bucket made private", "Configuration review",
					testContact.Email, testContact.Phone, testContact.Name, svc.format(aware), svc.format(d.Deadline)) {
					if !strings.Contains(d.Text, s) {
						t.Errorf("draft lacks %q:\n%s", s, d.Text)
					}
				}
				if !slices.Equal(d.Missing, []string{ItemRecords, ItemConsequences}) {
					t.Errorf("missing %v", d.Missing)
				}
				for _, s := range tc.missingHead {
					if strings.Count(d.Text, s) != 2 { // as heading and in the missing list
						t.Errorf("missing item %q not listed:\n%s", s, d.Text)
					}
				}
			})
		}
	})
}
