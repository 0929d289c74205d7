package privacy

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"tillit/internal/customer"
	"tillit/internal/policy"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

// fakeSource is a room with fixed items; Apply fails for ids in fail.
type fakeSource struct {
	name    string
	items   []RetentionItem
	fail    map[string]bool
	dueErr  error
	mu      sync.Mutex
	applied []string
}

func (f *fakeSource) Name() string { return f.name }
func (f *fakeSource) Due(_ context.Context, now time.Time) ([]RetentionItem, error) {
	var out []RetentionItem
	for _, it := range f.items {
		if !it.DueSince.After(now) {
			out = append(out, it)
		}
	}
	return out, f.dueErr
}
func (f *fakeSource) Apply(_ context.Context, it RetentionItem) error {
	if f.fail[it.ID] {
		return errors.New("disk on fire")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied = append(f.applied, it.ID)
	return nil
}

type fakeHold map[string]string

func (h fakeHold) Held(_ context.Context, customerID string) (string, bool, error) {
	why, ok := h[customerID]
	return why, ok, nil
}

func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

func ids(items []RetentionItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

// T5_: Preview lists what would go, sorted, and applies nothing; Run applies each item
// on its own, so one failure stops no other; held customers are skipped and reported;
// a failing source is reported.
func TestT5_RetentionPreviewAndRunWithFakes(t *testing.T) {
	ctx := context.Background()
	now := day(2026, 2, 15)
	a := &fakeSource{name: "customer", fail: map[string]bool{"n2": true}, items: []RetentionItem{
		{Room: "customer", Kind: "note", ID: "n2", CustomerID: "c2", Rule: "notes: 1y after collection", DueSince: day(2026, 1, 2), Action: ActionDelete},
		{Room: "customer", Kind: "customer", ID: "c1", CustomerID: "c1", Rule: "customer: 1y after contract end", DueSince: day(2026, 1, 1), Action: ActionErase},
		{Room: "customer", Kind: "note", ID: "n3", CustomerID: "c3", Rule: "notes: 1y after collection", DueSince: day(2026, 1, 3), Action: ActionDelete},
		{Room: "customer", Kind: "note", ID: "n9", CustomerID: "c9", Rule: "notes: 1y after collection", DueSince: day(2026, 3, 1), Action: ActionDelete},
		{Room: "customer", Kind: "note", ID: "n4", CustomerID: "held", Rule: "notes: 1y after collection", DueSince: day(2026, 1, 4), Action: ActionDelete},
	}}
	b := &fakeSource{name: "support", items: []RetentionItem{
		{Room: "support", Kind: "ticket", ID: "t1", CustomerID: "c1", Rule: "tickets: 2y after request closed", DueSince: day(2026, 1, 2), Action: ActionDelete},
	}}
	broken := &fakeSource{name: "billing", dueErr: errors.New("database gone")}
	r := NewRetention(nil, nil, RetentionOptions{Now: func() time.Time { return now }})
	r.AddSource(a)
	r.AddSource(NewRetentionSource(b.Name(), b.Due, b.Apply))
	r.AddHold(fakeHold{"held": "dispute D-7"})

	items, err := r.Preview(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(items), []string{"c1", "n2", "t1", "n3"}; !slices.Equal(got, want) {
		t.Fatalf("preview = %v, want %v", got, want)
	}
	if len(a.applied)+len(b.applied) != 0 {
		t.Fatal("preview applied something")
	}
	p, err := r.Plan(ctx, now)
	if err != nil || len(p.Held) != 1 || p.Held[0].Item.ID != "n4" || p.Held[0].Reason != "dispute D-7" {
		t.Fatalf("plan held = %+v, %v", p.Held, err)
	}

	r.AddSource(broken)
	if _, err := r.Preview(ctx, now); err == nil {
		t.Fatal("preview hid a failing source")
	}
	var steps [][2]int
	rep, err := r.Run(ctx, now, func(done, total int) { steps = append(steps, [2]int{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(rep.Applied); !slices.Equal(got, []string{"c1", "t1", "n3"}) {
		t.Fatalf("applied = %v", got)
	}
	if len(rep.Failed) != 1 || rep.Failed[0].Item.ID != "n2" || rep.Failed[0].Err != "disk on fire" {
		t.Fatalf("failed = %+v", rep.Failed)
	}
	if len(rep.Held) != 1 || rep.Held[0].Item.ID != "n4" {
		t.Fatalf("held = %+v", rep.Held)
	}
	if len(rep.Sources) != 1 || rep.Sources[0].Source != "billing" {
		t.Fatalf("source errors = %+v", rep.Sources)
	}
	if !slices.Equal(steps, [][2]int{{1, 4}, {2, 4}, {3, 4}, {4, 4}}) {
		t.Fatalf("progress = %v", steps)
	}
	if slices.Contains(a.applied, "n4") || slices.Contains(a.applied, "n9") {
		t.Fatalf("held or not yet due item applied: %v", a.applied)
	}
	if err := r.RetentionJob(ctx, jobsJob()); !errors.Is(err, ErrRetentionIncomplete) {
		t.Fatalf("job with failures = %v, want ErrRetentionIncomplete", err)
	}
}

// T1_/R4_: the customer register plugged in as the lead does in app: a customer ended
// 13 months ago under a 12-month rule is previewed, then erased by Run (their data is
// gone, Get says ErrErased); one ended 11 months ago, an active one and a held one
// are kept; Preview writes nothing; the run is audited.
func TestT1_R4_RetentionRunErasesEndedCustomersExceptHeld(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, "SE")
		ctx := h.ctx()
		why := customer.Reason{Kind: customer.ReasonTicket, Ref: "T-9"}
		end := func(id string) {
			if _, err := h.cust.Update(ctx, id, customer.Patch{Status: customer.Opt[customer.Status]{Set: true, V: customer.StatusEnded}},
				customer.SourceStaff, why); err != nil {
				t.Fatal(err)
			}
		}
		h.setNow(day(2025, 1, 15))
		old := h.customer("Anna Andersson", "anna@example.se", pnrA)
		recent := h.customer("Bo Berg", "bo@example.se", pnrB)
		active := h.customer("Cissi Carlsson", "cissi@example.se", "19700101-1233")
		held := h.customer("Dan Dahl", "dan@example.se", "19750505-0026")
		end(old)
		end(held)
		h.setNow(day(2025, 3, 15))
		end(recent)
		now := day(2026, 2, 15)
		h.setNow(now)

		d, err := policy.ParseDuration("12m")
		if err != nil {
			t.Fatal(err)
		}
		r := NewRetention(st, h.audit, RetentionOptions{Now: func() time.Time { return now }})
		r.AddSource(AdaptRetentionSource(h.cust.RetentionSource(customer.CustomerRetention{AfterEnd: d, EndCategory: "customer"})))
		r.AddHold(fakeHold{held: "legal hold: dispute D-1"})

		audits := h.count(`SELECT COUNT(*) FROM audit_log`)
		items, err := r.Preview(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 || items[0].ID != old || items[0].Action != ActionErase || items[0].Rule != "customer: 12m after contract end" {
			t.Fatalf("preview = %+v", items)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log`); n != audits {
			t.Fatalf("preview wrote %d audit entries", n-audits)
		}
		if _, err := h.cust.Get(ctx, old, why); err != nil {
			t.Fatalf("preview erased: %v", err)
		}

		rep, err := r.Run(ctx, now, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Applied) != 1 || rep.Applied[0].ID != old || len(rep.Failed) != 0 || len(rep.Held) != 1 ||
			rep.Held[0].Item.ID != held || rep.Held[0].Reason != "legal hold: dispute D-1" {
			t.Fatalf("report = %+v", rep)
		}
		if _, err := h.cust.Get(ctx, old, why); !errors.Is(err, customer.ErrErased) {
			t.Fatalf("Get after run = %v, want ErrErased", err)
		}
		for _, id := range []string{recent, active, held} {
			if _, err := h.cust.Get(ctx, id, why); err != nil {
				t.Fatalf("kept customer %s: %v", id, err)
			}
		}
		if n := h.count(`SELECT COUNT(*) FROM customer_fields WHERE customer_id = $1`, old); n != 0 {
			t.Fatalf("%d fields left", n)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'customer.erase' AND subject_id = $1`, old); n != 1 {
			t.Fatalf("erase audited %d times", n)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'privacy.retention.run'`); n != 1 {
			t.Fatalf("run audited %d times", n)
		}
		// The job runs again at the same clock: nothing is left but the held one.
		if err := r.RetentionJob(ctx, jobsJob()); err != nil {
			t.Fatal(err)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'customer.erase'`); n != 1 {
			t.Fatalf("second run erased again: %d", n)
		}
	})
}
