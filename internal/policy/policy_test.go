package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tillit/internal/nordic"
)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func examples(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("../../examples/policies/*.yaml")
	if err != nil || len(files) != 5 {
		t.Fatalf("want 5 example policies, found %d (%v)", len(files), err)
	}
	return files
}

func mustParse(t testing.TB, name string, data []byte) *Policy {
	t.Helper()
	p, ds := Parse(name, data)
	if ds.HasErrors() {
		t.Fatalf("%s has errors:\n%s", name, ds)
	}
	return p
}

// TestP1_ExamplesPassCheck proves every example policy, one per kind of
// company in the seeds, passes Check with no errors and states the P1
// facts: a valid org number for its country, an authority, categories each
// with purpose, basis, source and retention.
func TestP1_ExamplesPassCheck(t *testing.T) {
	for _, f := range examples(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			p, ds := Parse(f, readFile(t, f))
			if ds.HasErrors() {
				t.Fatalf("errors:\n%s", ds)
			}
			for _, d := range ds {
				t.Logf("%s", d)
			}
			if _, err := nordic.ParseOrg(nordic.Country(p.Company.Country), p.Company.OrgNumber); err != nil {
				t.Errorf("org number: %v", err)
			}
			if _, ok := LookupAuthority(p.Authority); !ok {
				t.Errorf("no authority")
			}
			if len(p.Categories) == 0 || len(p.Clauses) == 0 || len(p.Security) == 0 {
				t.Errorf("categories, clauses and security measures must all be present")
			}
			for _, c := range p.Categories {
				if len(c.Purposes) == 0 || c.Basis == "" || len(c.Sources) == 0 || (!c.Retention.BookkeepingLaw && c.Retention.Period.IsZero()) {
					t.Errorf("category %s is incomplete", c.ID)
				}
			}
		})
	}
}

// TestP1_SaaSWarnsAuthorityVsLaw proves the P1 rule: a Swedish company
// choosing Norwegian law still answers to IMY, and the check warns.
func TestP1_SaaSWarnsAuthorityVsLaw(t *testing.T) {
	f := "../../examples/policies/saas.yaml"
	p, ds := Parse(f, readFile(t, f))
	if p.Authority != AuthorityIMY || p.Law.Country != "NO" {
		t.Fatalf("example changed: authority %s, law %s", p.Authority, p.Law.Country)
	}
	found := false
	for _, d := range ds {
		if d.Severity == SeverityWarning && d.Path == "authority" && strings.Contains(d.Message, "governing law") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no authority/law warning:\n%s", ds)
	}
}

func TestP1_Durations(t *testing.T) {
	good := map[string]Duration{
		"7y": {Years: 7}, "30d": {Days: 30}, "1y6m": {Years: 1, Months: 6}, "2w": {Days: 14},
		"4h": {Hours: 4}, "15min": {Minutes: 15}, "0d": {}, "1m2w3d": {Months: 1, Days: 17},
	}
	for in, want := range good {
		got, err := ParseDuration(in)
		want.set = true
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "7", "y", "-1y", "1d1y", "1y1y", "3x", "1.5y", "101y", "9999999d", "1 y"} {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %+v, want error", in, d)
		}
	}
}

// edit returns the minimal policy with old replaced by new (once).
func edit(t *testing.T, old, new string) []byte {
	t.Helper()
	base := string(readFile(t, "testdata/minimal.yaml"))
	if !strings.Contains(base, old) {
		t.Fatalf("minimal.yaml has no %q", old)
	}
	return []byte(strings.Replace(base, old, new, 1))
}

// TestP2_MinimalIsClean proves the base of the diagnostic cases is clean,
// so each case's diagnostic is caused by its edit.
func TestP2_MinimalIsClean(t *testing.T) {
	if ds := Check("minimal.yaml", readFile(t, "testdata/minimal.yaml")); len(ds) != 0 {
		t.Fatalf("want no diagnostics:\n%s", ds)
	}
}

type diagCase struct{ name, old, new, want, old2, new2 string }

// TestP2_Diagnostics proves each kind of mistake is reported with the
// right severity, at the right line and column, naming the field.
func TestP2_Diagnostics(t *testing.T) {
	// dc is a case: replace old by new (and then more[0] by more[1]) in
	// testdata/minimal.yaml; want is "LINE:COL: severity: start of
	// message", or "" for no errors.
	dc := func(name, old, new, want string, more ...string) diagCase {
		c := diagCase{name: name, old: old, new: new, want: want}
		if len(more) == 2 {
			c.old2, c.new2 = more[0], more[1]
		}
		return c
	}
	cases := []diagCase{
		dc("syntax error (parser)", "authority: imy", "authority: [imy", "12:1: error: YAML syntax: did not find expected"),
		dc("syntax error (scanner)", "  phone:", "   phone:", "8:1: error: YAML syntax: mapping values are not allowed"),
		dc("unknown key with suggestion", "    purposes: [contract]", "    purpose: [contract]", `16:5: error: categories[0]: unknown key "purpose" in categories[0]; did you mean "purposes"?`),
		dc("unknown top key", "authority: imy", "authority: imy\nsecurity_measure: []", `13:1: error: unknown key "security_measure" in the top level; did you mean "security_measures"?`),
		dc("wrong type", "format: 1", "format: one", `1:9: error: format: expected a whole number, found "one"`),
		dc("wrong type list", "    purposes: [contract]", "    purposes: contract", "16:15: error: categories[0].purposes: expected a list"),
		dc("impossible duration", "deletion_deadline: 30d", "deletion_deadline: 30x", `37:22: error: privacy.deletion_deadline: duration "30x": unknown unit "x"`),
		dc("negative duration", "{period: 1y, after: contract_end}", "{period: -1y, after: contract_end}", "20:25: error: categories[0].retention.period: duration \"-1y\" is negative"),
		dc("duplicate id", "  - id: invoices", "  - id: customer", `22:9: error: categories[1].id: duplicate category id "customer" (first at line 14)`),
		dc("duplicate key", "  country: SE\n  address", "  country: SE\n  country: SE\n  address", `6:3: error: company.country: duplicate key "country" (first at line 5)`),
		dc("missing required", "    basis: contract\n    sources: [data_subject]\n    provision: contractual\n    retention: {period: 1y", "    sources: [data_subject]\n    provision: contractual\n    retention: {period: 1y", `14:5: error: categories[0]: missing required key "basis" in categories[0]`),
		dc("no purpose", "    purposes: [contract]", "    purposes: []", "16:15: error: categories[0].purposes: a category needs at least one purpose"),
		dc("unknown event", "after: contract_end}", "after: contract_ends}", `20:36: error: categories[0].retention.after: unknown value "contract_ends"; did you mean "contract_end"?`),
		dc("unknown enum", "basis: contract", "basis: contrakt", `17:12: error: categories[0].basis: unknown value "contrakt"; did you mean "contract"?`),
		dc("retention sentence", "retention: {period: 1y, after: contract_end}", "retention: 1y after contract_end", "20:16: error: categories[0].retention: retention \"1y after contract_end\" must be bookkeeping_law or a mapping {period, after}; write {period: 1y, after: contract_end}"),
		dc("bad org number", "559412-3456", "559412-3457", `4:15: error: company.org_number: "559412-3457" is not a valid Swedish organisation number: check digit is wrong`),
		dc("lower-case country", "  country: SE\n  address", "  country: se\n  address", "5:12: error: company.country: country codes are upper case: write SE"),
		dc("processor outside EEA", "    country: SE\nprivacy:", "    country: US\nprivacy:", "35:14: error: recipients[0].country: US is outside the EU/EEA: add transfer"),
		dc("consent needs withdrawal path", "    basis: contract\n    sources: [data_subject]", "    basis: consent\n    sources: [data_subject]", "17:12: error: categories[0].basis: consent can be withdrawn", "  portal: true", "  portal: false"),
		dc("consent with withdrawal contact", "    basis: contract\n    sources: [data_subject]", "    basis: consent\n    sources: [data_subject]", "", "  portal: true", "  withdrawal_contact: info@test.example"),
		dc("bookkeeping shorter than law", "    retention: bookkeeping_law", "    retention: {period: 5y, after: contract_end}", "29:16: error: categories[1].retention: bookkeeping records kept 5y after contract_end end earlier than bokföringslagen (1999:1078) 7 kap. 2 §"),
		dc("bookkeeping SE 7y after fiscal year end", "    retention: bookkeeping_law", "    retention: {period: 7y, after: fiscal_year_end}", ""),
		dc("ruled-out purpose on recipient", "    purposes: [hosting]", "    purposes: [hosting, sale_of_data]", "34:25: error: recipients[0].purposes[1]: purpose sale_of_data contradicts privacy.ruled_out: sale_of_data"),
		dc("ruled-out purpose on category", "  ruled_out: [sale_of_data]", "  ruled_out: [sale_of_data, bookkeeping]", "24:16: error: categories[1].purposes[0]: purpose bookkeeping contradicts privacy.ruled_out: bookkeeping"),
		dc("unknown recipient", "    recipients: [host]", "    recipients: [hots]", `21:18: error: categories[0].recipients[0]: unknown recipient "hots"; did you mean "host"?`),
		dc("authority vs law", "law:\n  country: SE", "law:\n  country: \"NO\"", "12:12: warning: authority: the supervisory authority IMY (SE) differs from the governing law (NO)"),
		dc("Art. 13(1)(d)", "    basis: contract", "    basis: legitimate_interests", "17:12: warning: categories[0].basis: legitimate interests must be named in the notice (Art. 13(1)(d))"),
		dc("Art. 13(2)(f)", "  automated_decisions: false\n", "", "37:3: warning: privacy: say whether automated decisions are made (Art. 13(2)(f))"),
		dc("Art. 13(2)(e)", "    provision: contractual\n", "", "14:5: warning: categories[0]: say whether giving this data is a statutory or contractual requirement (Art. 13(2)(e))"),
		dc("Art. 13(1)(e)", "recipients:\n  - id: host\n    name: Värdbolaget AB\n    role: processor\n    purposes: [hosting]\n    country: SE\n", "", "1:1: warning: recipients is missing"),
		dc("alias refused", "format: 1", "format: 1\nlanguages: [&l sv, *l]", "2:20: error: languages[1]: anchors and aliases are not supported"),
		dc("withdrawal below law", "terms:", "commerce:\n  withdrawal: {days: 7, from: contract}\nterms:", "45:22: error: commerce.withdrawal.days: the law gives consumers at least 14 days"),
		dc("flow-map comma", "  courts: Stockholms tingsrätt", "  courts: {sv: Stockholm, Solna}", "11:27: error: law.courts: unknown language \"Solna\": a comma inside {...} splits the text"),
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := edit(t, tc.old, tc.new)
			if tc.old2 != "" {
				if !strings.Contains(string(b), tc.old2) {
					t.Fatalf("no %q", tc.old2)
				}
				b = []byte(strings.Replace(string(b), tc.old2, tc.new2, 1))
			}
			ds := Check("p.yaml", b)
			if tc.want == "" {
				if ds.HasErrors() {
					t.Fatalf("want no errors:\n%s", ds)
				}
				return
			}
			for _, d := range ds {
				if strings.HasPrefix(d.String(), "p.yaml:"+tc.want) {
					return
				}
			}
			t.Fatalf("want p.yaml:%s...\ngot:\n%s", tc.want, ds)
		})
	}
}

func TestP2_DiagnosticString(t *testing.T) {
	d := Diagnostic{File: "a.yaml", Line: 3, Col: 7, Severity: SeverityError, Message: "x: broken"}
	if got := d.String(); got != "a.yaml:3:7: error: x: broken" {
		t.Fatalf("got %q", got)
	}
}

// TestP2_EveryMistakeReported proves the check does not stop at the first
// problem: three unrelated mistakes give three errors.
func TestP2_EveryMistakeReported(t *testing.T) {
	b := edit(t, "format: 1", "format: 2")
	b = []byte(strings.Replace(string(b), "basis: contract", "basis: nope", 1))
	b = []byte(strings.Replace(string(b), "deletion_deadline: 30d", "deletion_deadline: soon", 1))
	if n := Check("p.yaml", b).Count(SeverityError); n != 3 {
		t.Fatalf("want 3 errors, got %d:\n%s", n, Check("p.yaml", b))
	}
}

func TestP2_NotYAML(t *testing.T) {
	for _, in := range []string{"", "\t\x00", "- a\n- b\n", "just text", "a: [1, 2"} {
		ds := Check("x.yaml", []byte(in))
		if !ds.HasErrors() {
			t.Errorf("%q: want an error", in)
		}
		for _, d := range ds {
			if d.Line < 1 || d.Col < 1 {
				t.Errorf("%q: bad position %s", in, d)
			}
		}
	}
}

func ExampleCheck() {
	ds := Check("shop.yaml", []byte("format: 1\ncompani:\n  name: Shop AB\n"))
	fmt.Print(ds[len(ds)-1])
	// Output: shop.yaml:2:1: error: unknown key "compani" in the top level; did you mean "company"?
}
