package customer

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

type fragment struct {
	Paths      map[string]map[string]map[string]any `json:"paths"`
	Components struct {
		Schemas map[string]map[string]any `json:"schemas"`
	} `json:"components"`
}

func loadFragment(t *testing.T) fragment {
	t.Helper()
	b, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fragment
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return f
}

// Every route of Routes is documented with its method, path and permission, and every
// documented operation is routed; each has an operationId, summary, description and
// responses.
func TestOpenAPIFragmentMatchesRoutes(t *testing.T) {
	f := loadFragment(t)
	src, err := os.ReadFile("http.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`mux\.Handle\("([A-Z]+) ([^"]+)", wrap\(security\.(\w+),`)
	perms := map[string]security.Permission{"PermCustomersRead": security.PermCustomersRead, "PermCustomersWrite": security.PermCustomersWrite}
	var routed []string
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		path := strings.ReplaceAll(m[2], "...}", "}")
		key := strings.ToLower(m[1]) + " " + path
		routed = append(routed, key)
		op, ok := f.Paths[path][strings.ToLower(m[1])]
		if !ok {
			t.Errorf("%s is routed but not documented", key)
			continue
		}
		if op["x-permission"] != string(perms[m[3]]) {
			t.Errorf("%s: x-permission %v, routed with %s", key, op["x-permission"], perms[m[3]])
		}
		for _, k := range []string{"operationId", "summary", "description", "responses"} {
			if op[k] == nil || op[k] == "" {
				t.Errorf("%s: no %s", key, k)
			}
		}
	}
	// The checker itself refuses an undocumented member and a missing required one.
	if checkSchema(f, map[string]any{"$ref": "#/components/schemas/CustomerMatch"}, map[string]any{"id": "x", "number": 1.0, "kind": "person", "name": "n"}, "") == nil ||
		checkSchema(f, map[string]any{"$ref": "#/components/schemas/CustomerMatch"}, map[string]any{"id": "x", "kind": "person"}, "") == nil {
		t.Fatal("checkSchema accepts what the schema refuses")
	}
	if len(routed) < 5 {
		t.Fatalf("found only %d routes in http.go", len(routed))
	}
	for path, ops := range f.Paths {
		for method := range ops {
			if !slices.Contains(routed, method+" "+path) {
				t.Errorf("%s %s is documented but not routed", method, path)
			}
		}
	}
}

// checkSchema validates v against a schema of the fragment: object members (no
// unknown ones where additionalProperties is false, required ones present), array
// items, enums and basic types. References outside the fragment are not followed.
func checkSchema(f fragment, s map[string]any, v any, at string) error {
	if ref, ok := s["$ref"].(string); ok {
		name, ok := strings.CutPrefix(ref, "#/components/schemas/")
		sub, found := f.Components.Schemas[name]
		if !ok || !found {
			return nil
		}
		return checkSchema(f, sub, v, at)
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		return fmt.Errorf("%s: %v not in %v", at, v, enum)
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range asStrings(s["required"]) {
			if _, ok := x[r]; !ok {
				return fmt.Errorf("%s: required member %s missing", at, r)
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k].(map[string]any); ok {
				if err := checkSchema(f, ps, x[k], at+"/"+k); err != nil {
					return err
				}
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					return fmt.Errorf("%s: member %s is not in the schema", at, k)
				}
			case map[string]any:
				if err := checkSchema(f, ap, x[k], at+"/"+k); err != nil {
					return err
				}
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, it := range x {
				if err := checkSchema(f, items, it, fmt.Sprintf("%s/%d", at, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func asStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			out = append(out, x.(string))
		}
	}
	return out
}

// Real answers match the documented response schemas.
func TestOpenAPIResponsesMatchSchemas(t *testing.T) {
	f := loadFragment(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		check := func(a answer, status int, schema string) {
			t.Helper()
			if a.status != status {
				t.Fatalf("status %d, want %d: %s", a.status, status, a.body)
			}
			var v any
			if err := json.Unmarshal([]byte(a.body), &v); err != nil {
				t.Fatal(err)
			}
			if err := checkSchema(f, map[string]any{"$ref": "#/components/schemas/" + schema}, v, schema); err != nil {
				t.Fatalf("%v in %s", err, a.body)
			}
		}
		a := h.do(call{method: "POST", path: "/api/v1/customers", body: `{"kind":"company","country":"NO","name":"Fjord AS","org_number":"974760673",
			"email":"post@fjord.no","phone":"22 33 44 55","addresses":{"registered":{"street":"Gate 1","postal_code":"0150","city":"Oslo"}},
			"contacts":[{"name":"Kari Nordmann","role":"CEO"}]}`})
		check(a, 201, "CustomerRef")
		id := decode[Ref](t, a).ID
		check(h.do(call{method: "GET", path: "/api/v1/customers/" + id, header: reasonHdr("ticket:T-1")}), 200, "Customer")
		check(h.do(call{method: "PATCH", path: "/api/v1/customers/" + id, body: `{"status":"ended","phone":null}`, header: reasonHdr("ticket:T-1")}), 200, "Customer")
		check(h.do(call{method: "GET", path: "/api/v1/customers?org_number=974760673"}), 200, "CustomerMatchList")
		check(h.do(call{method: "GET", path: "/api/v1/customers/" + id + "/history/phone", header: reasonHdr("ticket:T-1")}), 200, "CustomerHistory")
		check(h.do(call{method: "POST", path: "/api/v1/customers/" + id + "/notes", body: `{"channel":"meeting","text":"Met at the fair"}`}), 201, "Note")
		check(h.do(call{method: "GET", path: "/api/v1/customers/" + id + "/notes", header: reasonHdr("ticket:T-1")}), 200, "NoteList")
	})
}
