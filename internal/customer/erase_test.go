package customer

import (
	"context"
	"errors"
	"testing"

	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

// R4: erasing a customer destroys their key and deletes every sealed value, note and
// blind index; reads answer erased; the same e-mail and identity number can be
// registered again; other customers are untouched; the erasure is audited.
func TestR4_EraseRemovesEverything(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		ctx := h.ctx()
		mk := func(email, pnr string) Ref {
			ref, err := h.svc.Create(ctx, NewCustomer{Kind: KindPerson, Country: "SE", Name: "Erik Ek", Email: email, IdentityNumber: pnr})
			if err != nil {
				t.Fatal(err)
			}
			return ref
		}
		gone, kept := mk("erik@example.com", "189001019802"), mk("other@example.com", "189001029819")
		if _, err := h.svc.AddNote(ctx, gone.ID, Note{Channel: "phone", Text: "Called."}); err != nil {
			t.Fatal(err)
		}
		why := Reason{Kind: ReasonRequest, Ref: "R-1"}
		if err := h.svc.Erase(ctx, "no-such-id", why); !errors.Is(err, ErrNotFound) {
			t.Fatalf("erasing an unknown customer: %v", err)
		}
		if err := h.svc.Erase(ctx, gone.ID, Reason{}); err == nil {
			t.Fatal("erased without a reason")
		}
		if err := h.svc.Erase(ctx, gone.ID, why); err != nil {
			t.Fatal(err)
		}
		if err := h.svc.Erase(ctx, gone.ID, why); err != nil {
			t.Fatalf("erasing twice: %v", err)
		}
		for _, q := range []string{`SELECT COUNT(*) FROM customer_fields WHERE customer_id = $1`,
			`SELECT COUNT(*) FROM customer_field_history WHERE customer_id = $1`,
			`SELECT COUNT(*) FROM customer_notes WHERE customer_id = $1`,
			`SELECT COUNT(*) FROM customers WHERE id = $1 AND (email_bidx IS NOT NULL OR identity_bidx IS NOT NULL OR erased_at IS NULL)`} {
			if n := h.count(q, gone.ID); n != 0 {
				t.Fatalf("%s: %d rows left", q, n)
			}
		}
		if _, err := h.svc.Get(ctx, gone.ID, why); !errors.Is(err, ErrErased) {
			t.Fatalf("reading an erased customer: %v", err)
		}
		if _, err := h.svc.Get(ctx, kept.ID, why); err != nil {
			t.Fatalf("another customer is no longer readable: %v", err)
		}
		if matches, _ := h.svc.FindByEmail(ctx, "erik@example.com"); len(matches) != 0 {
			t.Fatalf("the erased e-mail is still searchable: %+v", matches)
		}
		mk("erik@example.com", "189001019802") // may come back as a new customer
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'customer.erase' AND subject_id = $1 AND reason = 'request:R-1'`, gone.ID); n != 2 {
			t.Fatalf("%d erase audit entries, want 2", n)
		}
		_ = context.Background
	})
}
