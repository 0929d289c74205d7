package customer

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tillit/examples/policies"
	"tillit/internal/policy"
	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

func mustDuration(t testing.TB, s string) policy.Duration {
	t.Helper()
	d, err := policy.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// T1_/T4_: an ended customer is erased once AfterEnd has run from the end; one ended
// more recently, and an active one, are not; old notes are deleted and new kept; Due
// writes nothing.
func TestT1_RetentionSourceErasesEndedCustomersAndOldNotes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		var clock atomic.Pointer[time.Time]
		set := func(t time.Time) { clock.Store(&t) }
		set(testDate(2025, 1, 15))
		audit := security.NewAudit(st, h.ks.SigningKey(), security.AuditOptions{})
		svc := NewService(st, h.ks, audit, Options{Now: func() time.Time { return *clock.Load() }})
		ctx := h.ctx()
		why := Reason{Kind: ReasonTicket, Ref: "T-1"}
		create := func(i int) string {
			n := person(i)
			n.Status = StatusActive
			ref, err := svc.Create(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			return ref.ID
		}
		end := func(id string) {
			if _, err := svc.Update(ctx, id, Patch{Status: Opt[Status]{Set: true, V: StatusEnded}}, SourceStaff, why); err != nil {
				t.Fatal(err)
			}
		}
		note := func(id string) string {
			n, err := svc.AddNote(ctx, id, Note{Channel: "email", Text: "talked about the lock"})
			if err != nil {
				t.Fatal(err)
			}
			return n.ID
		}
		old, recent, active := create(1), create(2), create(3)
		end(old) // 2025-01-15: 13 months before now
		oldNote := note(recent)
		set(testDate(2025, 3, 15))
		end(recent) // 11 months before now
		set(testDate(2026, 2, 1))
		newNote := note(active)
		now := testDate(2026, 2, 15)
		set(now)

		src := svc.RetentionSource(CustomerRetention{AfterEnd: mustDuration(t, "12m"), EndCategory: "customer",
			NotesAfter: mustDuration(t, "1y"), NotesCategory: "mail_notes"})
		audits := h.count(`SELECT COUNT(*) FROM audit_log`)
		items, err := src.Due(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log`); n != audits {
			t.Fatalf("Due wrote %d audit entries", n-audits)
		}
		if len(items) != 2 {
			t.Fatalf("due = %+v, want the old customer and the old note", items)
		}
		c, n := items[0], items[1]
		if c.Kind != RetentionKindCustomer || c.ID != old || c.CustomerID != old || c.Action != RetentionErase ||
			!c.DueSince.Equal(testDate(2026, 1, 15)) || c.Rule != "customer: 12m after contract end" || c.Room != "customer" {
			t.Fatalf("customer item = %+v", c)
		}
		if n.Kind != RetentionKindNote || n.ID != oldNote || n.CustomerID != recent || n.Action != RetentionDelete ||
			!n.DueSince.Equal(testDate(2026, 1, 15)) || n.Rule != "mail_notes: 1y after collection" {
			t.Fatalf("note item = %+v", n)
		}
		for _, it := range items {
			if err := src.Apply(ctx, it); err != nil {
				t.Fatal(err)
			}
			if err := src.Apply(ctx, it); err != nil { // twice does nothing more
				t.Fatalf("second apply: %v", err)
			}
		}
		if _, err := svc.Get(ctx, old, why); !errors.Is(err, ErrErased) {
			t.Fatalf("Get erased = %v, want ErrErased", err)
		}
		if _, err := svc.Get(ctx, recent, why); err != nil {
			t.Fatalf("recently ended customer: %v", err)
		}
		if _, err := svc.Get(ctx, active, why); err != nil {
			t.Fatalf("active customer: %v", err)
		}
		if n := h.count(`SELECT COUNT(*) FROM customer_fields WHERE customer_id = $1`, old); n != 0 {
			t.Fatalf("%d fields left of the erased customer", n)
		}
		if n := h.count(`SELECT COUNT(*) FROM customer_notes WHERE id = $1`, oldNote); n != 0 {
			t.Fatal("old note kept")
		}
		if n := h.count(`SELECT COUNT(*) FROM customer_notes WHERE id = $1`, newNote); n != 1 {
			t.Fatal("new note deleted")
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'customer.erase' AND subject_id = $1 AND reason = $2`,
			old, "free:retention: customer: 12m after contract end"); n != 1 {
			t.Fatalf("customer.erase audited %d times", n)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'customer.note.delete' AND subject_id = $1 AND reason = $2`,
			recent, "free:retention: mail_notes: 1y after collection"); n != 1 {
			t.Fatalf("customer.note.delete audited %d times", n)
		}
		// Nothing is due any more; a year on, the recently ended one is.
		if items, err := src.Due(ctx, now); err != nil || len(items) != 0 {
			t.Fatalf("due after apply = %+v, %v", items, err)
		}
		items, err = src.Due(ctx, testDate(2026, 3, 15))
		if err != nil || len(items) != 1 || items[0].ID != recent {
			t.Fatalf("due a month on = %+v, %v", items, err)
		}
		// An item whose customer changed since it was found is not applied.
		stale := items[0]
		stale.DueSince = stale.DueSince.Add(-time.Hour)
		if err := src.Apply(ctx, stale); !errors.Is(err, ErrNotDue) {
			t.Fatalf("stale item: %v, want ErrNotDue", err)
		}
		activeItem := RetentionItem{Room: "customer", Kind: RetentionKindCustomer, ID: active, CustomerID: active, Rule: "x", DueSince: now}
		if err := src.Apply(ctx, activeItem); !errors.Is(err, ErrNotDue) {
			t.Fatalf("active customer applied: %v, want ErrNotDue", err)
		}
		if _, err := svc.Get(ctx, active, why); err != nil {
			t.Fatalf("active customer after refused apply: %v", err)
		}
	})
}

// T1_: with no rules nothing is ever due.
func TestT1_RetentionSourceWithoutRulesFindsNothing(t *testing.T) {
	st := storetest.SQLite(t)
	h := newHarness(t, st)
	ref, err := h.svc.Create(h.ctx(), person(7))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Update(h.ctx(), ref.ID, Patch{Status: Opt[Status]{Set: true, V: StatusEnded}}, SourceStaff,
		Reason{Kind: ReasonTicket, Ref: "T-2"}); err != nil {
		t.Fatal(err)
	}
	items, err := h.svc.RetentionSource(CustomerRetention{}).Due(h.ctx(), time.Now().AddDate(50, 0, 0))
	if err != nil || len(items) != 0 {
		t.Fatalf("due = %+v, %v", items, err)
	}
}

// T1_/T4_: the rules read from each example policy.
func TestT1_RetentionFromPolicyExamples(t *testing.T) {
	cases := []struct {
		file, end, endCat, notes, notesCat string
		mention                            []string
	}{
		{"installer.yaml", "1y", "customer", "", "", []string{"category installation: 90d after contract_end", "category invoices: bookkeeping_law", "category admin_devices: 6m after collection"}},
		{"itservices.yaml", "2y", "customer", "", "", []string{"category tickets: 2y after request_closed", "category ip_logs: 6m after collection"}},
		{"procurement.yaml", "1y", "register", "1y", "mail_notes", []string{"category visitor_statistics: 13m after collection"}},
		{"saas.yaml", "3m", "account", "", "", []string{"category usage: 13m after collection"}},
		{"webhost.yaml", "", "", "", "", []string{"category master_data (the customer register): 5y after last_purchase is not enforced", "category orders_payments: 5y after fiscal_year_end"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			src, err := policies.FS.ReadFile(c.file)
			if err != nil {
				t.Fatal(err)
			}
			p, ds := policy.Parse(c.file, src)
			if p == nil || ds.HasErrors() {
				t.Fatalf("parse: %s", ds)
			}
			r, notes := RetentionFromPolicy(p)
			if r.AfterEnd.String() != c.end || r.EndCategory != c.endCat || r.NotesAfter.String() != c.notes || r.NotesCategory != c.notesCat {
				t.Fatalf("rules = %+v (end %q, notes %q)", r, r.AfterEnd, r.NotesAfter)
			}
			all := strings.Join(notes, "\n")
			for _, m := range c.mention {
				if !strings.Contains(all, m) {
					t.Errorf("notes lack %q:\n%s", m, all)
				}
			}
			if c.notes == "" && !strings.Contains(all, "no category for notes") {
				t.Errorf("notes do not say notes are kept:\n%s", all)
			}
		})
	}
	if _, notes := RetentionFromPolicy(nil); len(notes) != 1 {
		t.Fatalf("nil policy notes = %v", notes)
	}
}
