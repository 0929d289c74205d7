package customer

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

// R1: the register's part of an access extract holds every current value with its
// source (K5), every earlier value with the source it had, and the notes; it needs a
// reason, and commits one customer.extract audit entry with that reason.
func TestR1_ExtractHoldsFieldsSourcesHistoryAndNotes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		ctx := h.ctx()
		p := person(7)
		p.Source = SourcePortal
		ref, err := h.svc.Create(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		why := Reason{ReasonRequest, "R-1"}
		if _, err := h.svc.Update(ctx, ref.ID, Patch{Email: Value("new7@example.se"), Phone: Remove[string]()}, SourceStaff, why); err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.AddNote(ctx, ref.ID, Note{Channel: "phone", Text: "Asked for a copy of their data"}); err != nil {
			t.Fatal(err)
		}

		if _, err := h.svc.Extract(ctx, ref.ID, Reason{}); !errors.Is(err, ErrReasonRequired) {
			t.Fatalf("extract without a reason: %v", err)
		}
		if _, err := h.svc.Extract(ctx, "no-such-id", why); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown id: %v", err)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'customer.extract'`); n != 0 {
			t.Fatalf("refused extracts audited: %d", n)
		}

		x, err := h.svc.Extract(ctx, ref.ID, why)
		if err != nil {
			t.Fatal(err)
		}
		c := x.Customer
		if c.Name != p.Name || c.Email != "new7@example.se" || c.Phone != "" || c.IdentityNumber == "" ||
			c.Addresses[AddressRegistered].City != "Stockholm" {
			t.Fatalf("customer %+v", c)
		}
		if c.Sources["/email"].Source != SourceStaff || c.Sources["/name"].Source != SourcePortal ||
			c.Sources["/addresses/registered"].Source != SourcePortal {
			t.Fatalf("sources %+v", c.Sources)
		}
		if _, ok := c.Sources["/phone"]; ok {
			t.Fatalf("removed phone still has a source")
		}
		var old string
		if len(x.History["email"]) != 1 || json.Unmarshal(x.History["email"][0].Value, &old) != nil ||
			old != "person7@example.se" || x.History["email"][0].Source.Source != SourcePortal {
			t.Fatalf("email history %+v", x.History["email"])
		}
		if len(x.History["phone"]) != 1 {
			t.Fatalf("phone history %+v", x.History["phone"])
		}
		if len(x.Notes) != 1 || x.Notes[0].Text != "Asked for a copy of their data" || x.Notes[0].Channel != "phone" {
			t.Fatalf("notes %+v", x.Notes)
		}
		b, err := json.Marshal(x)
		if err != nil || !strings.Contains(string(b), `"sources"`) || !strings.Contains(string(b), `"history"`) {
			t.Fatalf("JSON %s: %v", b, err)
		}

		var reason, subjectID string
		if err := st.DB().QueryRow(`SELECT reason, subject_id FROM audit_log WHERE action = 'customer.extract'`).Scan(&reason, &subjectID); err != nil {
			t.Fatalf("exactly one customer.extract entry: %v", err)
		}
		if reason != "request:R-1" || subjectID != ref.ID {
			t.Fatalf("audit reason %q subject %q", reason, subjectID)
		}

		// An erased customer has nothing left to extract, and nothing is audited.
		if err := h.ks.Shred(ctx, ref.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.Extract(ctx, ref.ID, why); !errors.Is(err, ErrErased) {
			t.Fatalf("extract after erasure: %v", err)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'customer.extract'`); n != 1 {
			t.Fatalf("customer.extract entries %d", n)
		}
	})
}
