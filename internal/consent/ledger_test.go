package consent

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"tillit/internal/policy"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

// testPolicy is examples/policies/saas.yaml with a statistics and a marketing
// cookie added, so that the banner offers every optional category. extra is added
// to the marketing cookie's purpose to make a new version.
func testPolicy(t testing.TB, extra string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../examples/policies/saas.yaml")
	if err != nil {
		t.Fatal(err)
	}
	add := `  - name: _stat
    category: statistics
    provider: Ägodelsregistret Sverige AB
    lifetime: 13m
    purpose: {sv: Räknar besök, en: Counts visits}
  - name: _ad
    category: marketing
    provider: Ägodelsregistret Sverige AB
    lifetime: 30d
    purpose: {sv: Mäter kampanjer` + extra + `, en: Measures campaigns` + extra + `}

privacy:
`
	s := strings.Replace(string(b), "\nprivacy:\n", "\n"+add, 1)
	if s == string(b) {
		t.Fatal("saas.yaml changed shape: no privacy section found")
	}
	return []byte(s)
}

func publish(t testing.TB, vs *policy.Versions, src []byte, at time.Time) int {
	t.Helper()
	v, ds, err := vs.Publish(context.Background(), "saas.yaml", src, at)
	if err != nil {
		t.Fatalf("publish: %v\n%s", err, ds.String())
	}
	return v.N
}

// C2: receipts are validated, stored with the hashed user agent, listed per visitor
// newest first with a cursor, and can be neither changed nor deleted.
func TestC2_ReceiptsRecordedAndImmutable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		vs := policy.NewVersions(st, nil, func() time.Time { return now })
		n := publish(t, vs, testPolicy(t, ""), now.Add(-time.Hour))
		l := NewLedger(st, func() time.Time { return now })

		for _, c := range []struct {
			r     Receipt
			field string
		}{
			{Receipt{VisitorID: "short", PolicyVersion: n, Lang: "sv"}, "visitor_id"},
			{Receipt{VisitorID: strings.Repeat("a", 32), PolicyVersion: 0, Lang: "sv"}, "policy_version"},
			{Receipt{VisitorID: strings.Repeat("a", 32), PolicyVersion: n + 1, Lang: "sv"}, "policy_version"},
			{Receipt{VisitorID: strings.Repeat("a", 32), PolicyVersion: n, Lang: "de"}, "lang"},
		} {
			var ve *ValidationError
			if _, err := l.Record(ctx, c.r); !errors.As(err, &ve) || ve.Field != c.field {
				t.Errorf("%+v: %v, want an error on %s", c.r, err, c.field)
			}
		}

		a := strings.Repeat("a", 32)
		r1, err := l.Record(ctx, Receipt{VisitorID: a, PolicyVersion: n, Lang: "sv", UserAgent: "UA/1"})
		if err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Minute)
		r2, err := l.Record(ctx, Receipt{VisitorID: a, PolicyVersion: n, Lang: "en", GPC: true,
			Choices: Choices{Preferences: true, Marketing: true}, UserAgent: "UA/1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Record(ctx, Receipt{VisitorID: strings.Repeat("b", 32), PolicyVersion: n, Lang: "nb"}); err != nil {
			t.Fatal(err)
		}
		got, err := l.List(ctx, a, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != r2.ID || got[1].ID != r1.ID {
			t.Fatalf("list: %+v", got)
		}
		g := got[0]
		if !g.GPC || g.Lang != "en" || g.Choices != (Choices{Preferences: true, Marketing: true}) || !g.CreatedAt.Equal(r2.CreatedAt) ||
			g.UserAgentHash != r1.UserAgentHash || len(g.UserAgentHash) != 64 || g.PolicyVersion != n {
			t.Fatalf("stored receipt %+v, recorded %+v", g, r2)
		}
		if page, _ := l.List(ctx, a, r2.ID, 10); len(page) != 1 || page[0].ID != r1.ID {
			t.Fatalf("after cursor: %+v", page)
		}
		if all, _ := l.List(ctx, "", "", 10); len(all) != 3 {
			t.Fatalf("all: %d receipts", len(all))
		}

		for _, q := range []string{
			`UPDATE consent_receipts SET choices = '{"preferences":true,"statistics":true,"marketing":true}' WHERE id = $1`,
			`DELETE FROM consent_receipts WHERE id = $1`,
		} {
			err := st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.ExecContext(ctx, q, r1.ID)
				return err
			})
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want it refused", q, err)
			}
		}
		if got, _ := l.List(ctx, a, "", 10); len(got) != 2 || got[1].Choices != (Choices{}) {
			t.Fatalf("after refused changes: %+v", got)
		}
	})
}
