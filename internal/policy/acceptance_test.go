package policy

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

func readExample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../examples/policies/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// P4: acceptances are validated, stored with who recorded them, audited, listed per
// customer, and decide the governing terms version under governs_existing: accepted;
// under latest the version in effect governs.
func TestP4_Acceptances(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
		now := t0
		clock := func() time.Time { return now }
		actor := security.Actor{Kind: security.ActorStaff, ID: "staff-1", IP: "192.0.2.1", RequestID: "r1"}
		ctx := security.WithActor(context.Background(), actor)
		audit := security.NewAudit(st, nil, security.AuditOptions{})
		vs := NewVersions(st, audit, clock)
		acc := NewAcceptances(st, audit, vs, clock)

		if _, err := acc.Governing(ctx, "cust-a", DocTerms, now); !errors.Is(err, ErrNoVersion) {
			t.Fatalf("governing before any version: %v", err)
		}
		installer := readExample(t, "installer.yaml") // governs_existing: accepted
		if _, _, err := vs.Publish(ctx, "installer.yaml", installer, t0); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			a     Acceptance
			field string
		}{
			{Acceptance{Version: 1, Doc: DocTerms, Method: MethodPortalClick}, "customer_id"},
			{Acceptance{CustomerID: "cust-a", Doc: DocTerms, Method: MethodPortalClick}, "version"},
			{Acceptance{CustomerID: "cust-a", Version: 1, Doc: "contract", Method: MethodPortalClick}, "doc"},
			{Acceptance{CustomerID: "cust-a", Version: 1, Doc: DocTerms, Method: "fax"}, "method"},
			{Acceptance{CustomerID: "cust-a", Version: 1, Doc: DocTerms, Method: MethodEmail, EvidenceRef: strings.Repeat("x", 201)}, "evidence_ref"},
			{Acceptance{CustomerID: "cust-a", Version: 1, Doc: DocTerms, Method: MethodEmail, AcceptedAt: now.Add(time.Hour)}, "accepted_at"},
			{Acceptance{CustomerID: "cust-a", Version: 2, Doc: DocTerms, Method: MethodEmail}, "version"}, // not published
		} {
			var ae *AcceptanceError
			if _, err := acc.Record(ctx, c.a); !errors.As(err, &ae) || ae.Field != c.field {
				t.Errorf("%+v: %v, want an error on %s", c.a, err, c.field)
			}
		}

		now = t0.Add(time.Hour)
		a1, err := acc.Record(ctx, Acceptance{CustomerID: "cust-a", Version: 1, Doc: DocTerms, Method: MethodSignedContract, EvidenceRef: " C-17 "})
		if err != nil {
			t.Fatal(err)
		}
		if a1.ID == "" || !a1.AcceptedAt.Equal(now) || a1.RecordedBy != "staff:staff-1" || a1.EvidenceRef != "C-17" {
			t.Fatalf("recorded: %+v", a1)
		}
		changed := []byte(strings.Replace(string(installer), "name: Nordlås Installation AB", "name: Nordlås Montage AB", 1))
		if _, _, err := vs.Publish(ctx, "installer.yaml", changed, t0.AddDate(0, 0, 10)); err != nil {
			t.Fatal(err)
		}
		now = t0.AddDate(0, 0, 20)
		if n, err := acc.Governing(ctx, "cust-a", DocTerms, now); err != nil || n != 1 {
			t.Fatalf("accepted rule: governing %d %v, want the accepted version 1", n, err)
		}
		if n, err := acc.Governing(ctx, "cust-a", DocPrivacy, now); err != nil || n != 2 {
			t.Fatalf("privacy: governing %d %v, want the version in effect (2)", n, err)
		}
		if _, err := acc.Governing(ctx, "cust-b", DocTerms, now); !errors.Is(err, ErrNoAcceptance) {
			t.Fatalf("customer without acceptance: %v", err)
		}
		// An acceptance given over the phone the day before, recorded now.
		if _, err := acc.Record(ctx, Acceptance{CustomerID: "cust-a", Version: 2, Doc: DocTerms, Method: MethodStaffPhone,
			AcceptedAt: now.Add(-24 * time.Hour), EvidenceRef: "ticket:T-9"}); err != nil {
			t.Fatal(err)
		}
		if _, err := acc.Record(ctx, Acceptance{CustomerID: "cust-a", Version: 2, Doc: DocPrivacy, Method: MethodPortalClick}); err != nil {
			t.Fatal(err)
		}
		if n, _ := acc.Governing(ctx, "cust-a", DocTerms, now); n != 2 {
			t.Fatalf("after accepting version 2: governing %d", n)
		}
		if n, _ := acc.Governing(ctx, "cust-a", DocTerms, now.Add(-48*time.Hour)); n != 1 {
			t.Fatalf("before accepting version 2: governing %d", n)
		}

		saas := readExample(t, "saas.yaml") // governs_existing: latest
		if _, _, err := vs.Publish(ctx, "saas.yaml", saas, t0.AddDate(0, 0, 30)); err != nil {
			t.Fatal(err)
		}
		now = t0.AddDate(0, 0, 31)
		for _, c := range []string{"cust-a", "cust-b"} {
			if n, err := acc.Governing(ctx, c, DocTerms, now); err != nil || n != 3 {
				t.Fatalf("latest rule, %s: governing %d %v, want 3", c, n, err)
			}
		}
		if n, _ := acc.Governing(ctx, "cust-a", DocTerms, t0.AddDate(0, 0, 25)); n != 2 {
			t.Fatalf("under the earlier accepted rule: governing %d, want 2", n)
		}

		list, err := acc.ForCustomer(ctx, "cust-a")
		if err != nil || len(list) != 3 {
			t.Fatalf("list: %+v %v", list, err)
		}
		if list[0].Doc != DocPrivacy || list[2].ID != a1.ID || !list[2].AcceptedAt.Equal(a1.AcceptedAt) || list[2].Method != MethodSignedContract ||
			list[2].RecordedBy != "staff:staff-1" || !list[2].RecordedAt.Equal(a1.RecordedAt) {
			t.Fatalf("list order or values: %+v", list)
		}
		if l, err := acc.ForCustomer(ctx, "cust-b"); err != nil || len(l) != 0 || l == nil {
			t.Fatalf("empty list: %#v %v", l, err)
		}
		var audited int
		if err := st.DB().QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'policy.accept' AND subject_id = 'cust-a' AND actor_id = 'staff-1'`).Scan(&audited); err != nil || audited != 3 {
			t.Fatalf("audited acceptances: %d %v", audited, err)
		}
		// The database refuses an acceptance of a version that does not exist.
		err = st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO policy_acceptances (id, customer_id, version, doc, accepted_at, method, evidence_ref, recorded_kind, recorded_by, recorded_at)
				VALUES ('x', 'c', 99, 'terms', 0, 'api', '', 'system', 's', 0)`)
			return err
		})
		if err == nil {
			t.Fatal("an acceptance of an unpublished version was stored")
		}
	})
}
