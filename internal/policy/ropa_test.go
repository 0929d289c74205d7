package policy

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

// P5: each example policy gives a record whose JSON names the company, every
// category and every recipient; the CSV parses with a header and a row per
// activity and recipient; the HTML is a page naming them too.
func TestP5_ROPAFromExamples(t *testing.T) {
	files, err := filepath.Glob("../../examples/policies/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p, ds := Parse(filepath.Base(f), readExample(t, filepath.Base(f)))
			if ds.HasErrors() {
				t.Fatal(ds.String())
			}
			r := ROPA(p)
			js := r.JSON()
			var back Record
			if err := json.Unmarshal(js, &back); err != nil {
				t.Fatal(err)
			}
			text := string(js)
			want := []string{p.Company.Name, p.Company.OrgNumber}
			for _, c := range p.Categories {
				want = append(want, c.ID, c.Name.In(EN))
			}
			for _, x := range p.Recipients {
				want = append(want, x.Name)
			}
			for _, w := range want {
				if !strings.Contains(text, mustJSONString(w)) {
					t.Errorf("JSON lacks %q", w)
				}
			}
			if len(back.Activities) != len(p.Categories) || len(back.Recipients) != len(p.Recipients) {
				t.Fatalf("%d activities, %d recipients", len(back.Activities), len(back.Recipients))
			}
			for _, a := range back.Activities {
				if a.LegalBasis == "" || a.Retention == "" || len(a.Purposes) == 0 || len(a.DataSubjects) == 0 || slices.Contains(a.Purposes, "") {
					t.Errorf("activity %s is incomplete: %+v", a.ID, a)
				}
			}
			for _, x := range back.Recipients {
				if x.Role == "" || x.Transfer == "" || x.CountryName == "" {
					t.Errorf("recipient %s is incomplete: %+v", x.ID, x)
				}
				if !x.InEEA && x.TransferBasis == "" {
					t.Errorf("recipient %s outside the EEA without a transfer basis", x.ID)
				}
			}

			rows, err := csv.NewReader(bytes.NewReader(r.CSV())).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rows[0], CSVHeader) {
				t.Fatalf("header %v", rows[0])
			}
			wantRows := 0
			for _, c := range p.Categories {
				wantRows += max(1, len(c.Recipients))
			}
			if len(rows)-1 != wantRows {
				t.Fatalf("%d rows, want %d", len(rows)-1, wantRows)
			}
			for _, row := range rows[1:] {
				if row[0] != p.Company.Name || row[5] == "" || row[10] == "" {
					t.Fatalf("row %v", row)
				}
			}

			html := string(r.HTML(EN))
			if !strings.HasPrefix(html, "<!DOCTYPE html>") || !strings.Contains(html, `lang="en"`) {
				t.Fatal("not an HTML page")
			}
			for _, c := range p.Categories {
				if !strings.Contains(html, `id="`+c.ID+`"`) {
					t.Errorf("HTML lacks category %s", c.ID)
				}
			}
		})
	}
}

func mustJSONString(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

// The saas example sends data to the US under SCCs, has no DPO, and has cookies: the
// record says so.
func TestP5_ROPADetails(t *testing.T) {
	p, ds := Parse("saas.yaml", readExample(t, "saas.yaml"))
	if ds.HasErrors() {
		t.Fatal(ds.String())
	}
	r := ROPA(p)
	if r.Controller.DPO != nil || r.Authority == "" || len(r.Cookies) != 3 || len(r.Security) < 4 {
		t.Fatalf("record: %+v", r)
	}
	var account, usage, payments Activity
	for _, a := range r.Activities {
		switch a.ID {
		case "account":
			account = a
		case "usage":
			usage = a
		case "payments":
			payments = a
		}
	}
	if !slices.Equal(account.ThirdCountries, []string{"US"}) || !slices.Equal(account.Recipients, []string{"cloud", "stripe"}) {
		t.Fatalf("account: %+v", account)
	}
	if !slices.Contains(usage.DataSubjects, SubjectVisitors) || usage.LegitimateInterest == "" {
		t.Fatalf("usage: %+v", usage)
	}
	if !strings.Contains(payments.Retention, "Bookkeeping Act") {
		t.Fatalf("payments retention: %q", payments.Retention)
	}
	if !strings.Contains(string(r.CSV()), "standard contractual clauses") {
		t.Fatal("CSV lacks the transfer basis of the US processor")
	}
}

// WriteROPA writes the record of the version in effect, refuses an unknown format
// and reports ErrNoVersion before anything is published.
func TestP5_WriteROPA(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		vs := NewVersions(st, nil, func() time.Time { return now })
		var buf bytes.Buffer
		if err := WriteROPA(ctx, vs, &buf, "json"); !errors.Is(err, ErrNoVersion) {
			t.Fatalf("nothing published: %v", err)
		}
		if _, _, err := vs.Publish(ctx, "webhost.yaml", readExample(t, "webhost.yaml"), time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := WriteROPA(ctx, vs, &buf, "pdf"); err == nil {
			t.Fatal("pdf accepted")
		}
		for _, f := range []string{"json", "csv", "html"} {
			buf.Reset()
			if err := WriteROPA(ctx, vs, &buf, f); err != nil || !strings.Contains(buf.String(), "Vesterhav Hosting ApS") {
				t.Fatalf("%s: %v", f, err)
			}
		}
		var r Record
		buf.Reset()
		WriteROPA(ctx, vs, &buf, "")
		if err := json.Unmarshal(buf.Bytes(), &r); err != nil || r.PolicyVersion != 1 || r.EffectiveAt == nil || !r.EffectiveAt.Equal(now) {
			t.Fatalf("record of version 1: %+v %v", r, err)
		}
	})
}
