package policy

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

// P3: a published version is immutable and numbered; a file with errors or no change
// is not published; the version in effect depends on the effective date; pages render
// from the stored version.
func TestP3_PublishVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
		v := NewVersions(st, nil, func() time.Time { return now })
		if _, err := v.Current(ctx, now); !errors.Is(err, ErrNoVersion) {
			t.Fatalf("current before any publish: %v", err)
		}
		installer, err := os.ReadFile("../../examples/policies/installer.yaml")
		if err != nil {
			t.Fatal(err)
		}
		v1, _, err := v.Publish(ctx, "installer.yaml", installer, time.Time{})
		if err != nil || v1.N != 1 {
			t.Fatalf("first publish: %+v %v", v1, err)
		}
		if _, _, err := v.Publish(ctx, "installer.yaml", installer, time.Time{}); !errors.Is(err, ErrUnchanged) {
			t.Fatalf("unchanged publish: %v", err)
		}
		if _, ds, err := v.Publish(ctx, "bad.yaml", []byte("format: 1\ncompany:\n  nmae: x\n"), time.Time{}); !errors.Is(err, ErrInvalid) || !ds.HasErrors() {
			t.Fatalf("invalid publish: %v", err)
		}
		changed := []byte(strings.Replace(string(installer), "name: Nordlås Installation AB", "name: Nordlås Montage AB", 1))
		v2, _, err := v.Publish(ctx, "installer.yaml", changed, now.AddDate(0, 1, 0))
		if err != nil || v2.N != 2 {
			t.Fatalf("second publish: %+v %v", v2, err)
		}
		if n, _ := v.Current(ctx, now); n != 1 {
			t.Fatalf("before its effective date version 2 is current (%d)", n)
		}
		if n, _ := v.Current(ctx, now.AddDate(0, 2, 0)); n != 2 {
			t.Fatalf("after its effective date version %d is current", n)
		}
		list, err := v.List(ctx)
		if err != nil || len(list) != 2 || list[0].N != 2 {
			t.Fatalf("list: %+v %v", list, err)
		}
		for _, c := range []struct {
			n    int
			want string
		}{{1, "Nordlås Installation AB"}, {2, "Nordlås Montage AB"}} {
			page, err := v.Page(ctx, c.n, DocPrivacy, SV)
			if err != nil || !strings.Contains(string(page), c.want) || !strings.Contains(string(page), `lang="sv"`) {
				t.Fatalf("page of version %d: %v", c.n, err)
			}
		}
		if _, err := v.Page(ctx, 9, DocTerms, EN); !errors.Is(err, ErrNoVersion) {
			t.Fatalf("unknown version: %v", err)
		}
		err = st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE policy_versions SET filename = 'x' WHERE n = 1`)
			return err
		})
		if err == nil {
			t.Fatal("a published version was changed")
		}
		err = st.Write(ctx, func(ctx context.Context, tx store.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM policy_versions WHERE n = 1`)
			return err
		})
		if err == nil {
			t.Fatal("a published version was deleted")
		}
	})
}
