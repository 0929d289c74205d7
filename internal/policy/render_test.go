package policy

import (
	"bytes"
	"encoding/json"
	"flag"
	"html"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite docs/policy.schema.json from the Go types")

const schemaFile = "../../docs/policy.schema.json"

// TestP2_SchemaMatchesTypes proves the committed JSON Schema is exactly
// what the Go types generate (run with -update after changing the types),
// and that every field of every struct appears in it.
func TestP2_SchemaMatchesTypes(t *testing.T) {
	got := Schema()
	if *update {
		if err := os.WriteFile(schemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := readFile(t, schemaFile); !bytes.Equal(got, want) {
		t.Fatalf("%s is stale; run go test ./internal/policy -run SchemaMatchesTypes -update", schemaFile)
	}
	var s struct {
		Defs map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"$defs"`
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(got, &s); err != nil {
		t.Fatal(err)
	}
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, props map[string]any, where string)
	check := func(ft reflect.Type, where string) {
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft.Name() != "Duration" && ft.Name() != "Lifetime" && ft.Name() != "Retention" && !seen[ft] {
			seen[ft] = true
			def, ok := s.Defs[ft.Name()]
			if !ok {
				t.Errorf("%s: no $defs/%s", where, ft.Name())
				return
			}
			walk(ft, def.Properties, ft.Name())
		}
	}
	walk = func(st reflect.Type, props map[string]any, where string) {
		for _, f := range fieldsOf(st) {
			if _, ok := props[f.key]; !ok {
				t.Errorf("%s.%s is not in the schema", where, f.key)
			}
			check(st.Field(f.index).Type, where+"."+f.key)
		}
	}
	walk(reflect.TypeFor[Policy](), s.Properties, "Policy")
}

// TestP2_SchemaAcceptsExamples proves editors using the schema accept
// every example (the schema is not stricter than the checker on them).
func TestP2_SchemaAcceptsExamples(t *testing.T) {
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("policy.schema.json", raw); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("policy.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(examples(t), "testdata/minimal.yaml") {
		var v any
		if err := yaml.Unmarshal(readFile(t, f), &v); err != nil {
			t.Fatal(err)
		}
		j, _ := json.Marshal(v)
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	var bad any
	_ = yaml.Unmarshal(edit(t, "    purposes: [contract]", "    purpose: [contract]"), &bad)
	j, _ := json.Marshal(bad)
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if sch.Validate(inst) == nil {
		t.Errorf("schema accepts an unknown key")
	}
}

// TestP3_RenderEveryExample proves every example renders as privacy policy
// and terms, in sv, da, nb and en, as HTML and Markdown, and that the
// company's facts are in the text: name, org number, a retention period in
// words, every recipient's name, the supervisory authority's name.
func TestP3_RenderEveryExample(t *testing.T) {
	for _, f := range examples(t) {
		p := mustParse(t, f, readFile(t, f))
		for _, lang := range AllLangs {
			b := &builder{p: p, c: catalogs[lang], lang: lang}
			auth, _ := LookupAuthority(p.Authority)
			for _, format := range []Format{HTML, Markdown} {
				esc := mdEscape
				if format == HTML {
					esc = html.EscapeString
				}
				for _, doc := range []DocKind{DocPrivacy, DocTerms} {
					name := filepath.Base(f) + "/" + string(doc) + "/" + string(lang) + "." + string(format)
					out, err := Render(p, doc, lang, format)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					s := string(out)
					want := []string{p.Company.Name, p.Company.OrgNumber, auth.Name.In(lang)}
					if doc == DocPrivacy {
						for _, c := range p.Categories {
							want = append(want, b.retention(c.Retention))
						}
						for _, r := range p.Recipients {
							want = append(want, r.Name)
						}
						want = append(want, auth.Address, "/portal")
					}
					for _, w := range want {
						if !strings.Contains(s, esc(w)) {
							t.Errorf("%s: missing %q", name, w)
						}
					}
					if strings.Contains(s, "%!") || strings.Contains(s, "<no value>") {
						t.Errorf("%s: a format verb or template field went wrong", name)
					}
					if format == HTML {
						for _, w := range []string{`<html lang="` + string(lang) + `">`, "<main>", "<h1>", "@media print"} {
							if !strings.Contains(s, w) {
								t.Errorf("%s: missing %s", name, w)
							}
						}
						if strings.Contains(s, "<table>") && (!strings.Contains(s, `<th scope="col">`) || !strings.Contains(s, `<th scope="row">`)) {
							t.Errorf("%s: table without th scope", name)
						}
					}
				}
			}
		}
	}
}

// TestP3_RetentionInWords proves retention rules read as natural text.
func TestP3_RetentionInWords(t *testing.T) {
	oneYear := Retention{Period: Duration{Years: 1, set: true}, After: EventContractEnd}
	mixed := Retention{Period: Duration{Years: 1, Months: 6, set: true}, After: EventCollection}
	cases := []struct {
		lang Lang
		r    Retention
		want string
	}{
		{SV, oneYear, "ett år efter avtalets slut"},
		{DA, oneYear, "et år efter aftalens ophør"},
		{NB, oneYear, "ett år etter at avtalen er avsluttet"},
		{EN, oneYear, "one year after the contract ends"},
		{SV, mixed, "ett år och sex månader från det att uppgifterna samlades in"},
		{EN, Retention{Period: Duration{Days: 30, set: true}, After: EventRequestClosed}, "30 days after the case is closed"},
		{SV, Retention{Period: Duration{set: true}, After: EventConsentWithdrawal}, "tills du återkallar ditt samtycke"},
		{SV, Retention{BookkeepingLaw: true}, "så länge bokföringslagen kräver: till och med det sjunde året"},
	}
	for _, c := range cases {
		b := &builder{p: &Policy{Company: Company{Country: "SE"}}, c: catalogs[c.lang], lang: c.lang}
		if got := b.retention(c.r); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.lang, got, c.want)
		}
	}
}

// TestP3_CatalogsComplete proves no language lacks a word: every string is
// set and every map covers every value of its enum.
func TestP3_CatalogsComplete(t *testing.T) {
	for lang, c := range catalogs {
		v := reflect.ValueOf(c).Elem()
		for i := range v.NumField() {
			f, name := v.Field(i), v.Type().Field(i).Name
			switch f.Kind() {
			case reflect.String:
				if f.String() == "" {
					t.Errorf("%s.%s is empty", lang, name)
				}
			case reflect.Map:
				kt := f.Type().Key()
				vals, ok := enums[kt.Name()]
				if !ok {
					if f.Len() == 0 {
						t.Errorf("%s.%s is empty", lang, name)
					}
					continue
				}
				if name == "ruledOut" {
					vals = []string{"third_party_marketing", "profiling", "sale_of_data", "targeted_advertising"}
				}
				for _, k := range vals {
					if s := f.MapIndex(reflect.ValueOf(k).Convert(kt)); !s.IsValid() || s.String() == "" {
						t.Errorf("%s.%s has no %q", lang, name, k)
					}
				}
			case reflect.Slice, reflect.Array:
				for j := range f.Len() {
					if f.Index(j).String() == "" {
						t.Errorf("%s.%s[%d] is empty", lang, name, j)
					}
				}
			case reflect.Func:
				if f.IsNil() {
					t.Errorf("%s.%s is nil", lang, name)
				}
			}
		}
		for _, r := range []Country{"SE", "DK", "NO"} {
			if c.bookkeeping[r] == "" {
				t.Errorf("%s: no bookkeeping text for %s", lang, r)
			}
		}
	}
}

// TestP4_GovernsExistingIsStated proves the rendered documents say which
// terms version governs an existing contract, as the policy chooses.
func TestP4_GovernsExistingIsStated(t *testing.T) {
	for _, g := range []Governs{GovernsAccepted, GovernsLatest} {
		b := edit(t, "governs_existing: accepted", "governs_existing: "+string(g))
		p := mustParse(t, "p.yaml", b)
		out, err := Render(p, DocTerms, SV, Markdown)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), mdEscape(sv.governs[g])) {
			t.Errorf("%s: terms do not state it", g)
		}
	}
}

func TestP3_RenderRejectsBadArguments(t *testing.T) {
	p := mustParse(t, "p.yaml", readFile(t, "testdata/minimal.yaml"))
	for _, c := range []struct {
		d DocKind
		l Lang
		f Format
	}{{"x", SV, HTML}, {DocTerms, "fi", HTML}, {DocTerms, SV, "pdf"}} {
		if _, err := Render(p, c.d, c.l, c.f); err == nil {
			t.Errorf("%v: want error", c)
		}
	}
	if _, err := Render(nil, DocTerms, SV, HTML); err == nil {
		t.Error("nil policy: want error")
	}
}

func TestP3_MarkdownEscapes(t *testing.T) {
	if got := mdEscape("__stripe_mid *x* [a](b) <i>\n1. one\n- two"); got != `\_\_stripe\_mid \*x\* \[a\](b) \<i\>`+"\n1\\. one\n\\- two" {
		t.Errorf("got %q", got)
	}
}

// FuzzParse proves Parse never panics, that every diagnostic has a
// position, and that a policy Parse accepts
// without errors renders in every language, document and format.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../../examples/policies/*.yaml")
	files = append(files, "testdata/minimal.yaml")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("format: 1\ncategories: [{retention: 1y}]\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, ds := Parse("fuzz.yaml", data)
		for _, d := range ds {
			if d.Line < 1 || d.Col < 1 {
				t.Fatalf("bad position: %s", d)
			}
		}
		if p == nil || ds.HasErrors() {
			return
		}
		for _, lang := range AllLangs {
			for _, doc := range []DocKind{DocPrivacy, DocTerms} {
				for _, format := range []Format{HTML, Markdown} {
					if _, err := Render(p, doc, lang, format); err != nil {
						t.Fatalf("%s %s %s: %v", doc, lang, format, err)
					}
				}
			}
		}
	})
}

// BenchmarkCheckRender is the work of publishing one policy: check the
// file, then render privacy policy and terms as HTML in all four languages.
// The baseline in the same run is yaml.v3 parsing the same file into a
// node tree, which every approach must pay.
func BenchmarkCheckRender(b *testing.B) {
	data := readFile(b, "../../examples/policies/webhost.yaml")
	b.Run("baseline_yaml_node", func(b *testing.B) {
		for b.Loop() {
			var n yaml.Node
			if err := yaml.Unmarshal(data, &n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check", func(b *testing.B) {
		for b.Loop() {
			if _, ds := Parse("webhost.yaml", data); ds.HasErrors() {
				b.Fatal(ds)
			}
		}
	})
	b.Run("check_render_4_languages", func(b *testing.B) {
		for b.Loop() {
			p, ds := Parse("webhost.yaml", data)
			if ds.HasErrors() {
				b.Fatal(ds)
			}
			for _, lang := range AllLangs {
				for _, doc := range []DocKind{DocPrivacy, DocTerms} {
					if _, err := Render(p, doc, lang, HTML); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	})
}
