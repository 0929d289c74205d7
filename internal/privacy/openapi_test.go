package privacy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"tillit/internal/customer"
	"tillit/internal/nordic"
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

// loadFragment reads this room's fragment, with the register's schemas merged in as
// the server merges them, so the extract's customer part is checked too.
func loadFragment(t *testing.T) fragment {
	t.Helper()
	b, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var f, c fragment
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if err := json.Unmarshal(customer.OpenAPI, &c); err != nil {
		t.Fatal(err)
	}
	for k, v := range c.Components.Schemas {
		if _, dup := f.Components.Schemas[k]; dup {
			t.Fatalf("schema %s is defined by both privacy and customer", k)
		}
		f.Components.Schemas[k] = v
	}
	return f
}

// Every route of Routes is documented with its method, path and permission, and every
// documented operation is routed; each has an operationId, summary, description and
// responses, and every $ref points at a schema that exists.
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
		key := strings.ToLower(m[1]) + " " + m[2]
		routed = append(routed, key)
		op, ok := f.Paths[m[2]][strings.ToLower(m[1])]
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
	if len(routed) != 9 {
		t.Fatalf("found %d routes in http.go", len(routed))
	}
	for path, ops := range f.Paths {
		for method := range ops {
			if !slices.Contains(routed, method+" "+path) {
				t.Errorf("%s %s is documented but not routed", method, path)
			}
		}
	}
	b, _ := os.ReadFile("openapi.json")
	for _, m := range regexp.MustCompile(`"#/components/schemas/(\w+)"`).FindAllStringSubmatch(string(b), -1) {
		if f.Components.Schemas[m[1]] == nil && m[1] != "Problem" { // Problem is the base document's
			t.Errorf("$ref to unknown schema %s", m[1])
		}
	}
	if checkSchema(f, map[string]any{"$ref": "#/components/schemas/PrivacyReason"}, map[string]any{"reason": "x", "extra": 1.0}, "") == nil ||
		checkSchema(f, map[string]any{"$ref": "#/components/schemas/PrivacyReason"}, map[string]any{}, "") == nil {
		t.Fatal("checkSchema accepts what the schema refuses")
	}
}

// checkSchema validates v against a schema of the fragment: object members (no
// unknown ones where additionalProperties is false, required ones present), array
// items, enums. (The same checker as internal/customer's.)
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

type problem struct {
	Type   string `json:"type"`
	Status int    `json:"status"`
}

// R1, R2 over HTTP: a request is registered, listed, refused an extract until
// verified (409 identity-not-verified), verified, extracted, extended, completed and
// refused; every answer matches the documented schema.
func TestR1_HTTPRoundTripMatchesSchemas(t *testing.T) {
	f := loadFragment(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nordic.SE)
		h.setToday("2026-03-10")
		cid := h.customer("Anna Andersson", "anna@example.se", pnrA)
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
		a := h.do("POST", "/api/v1/privacy/requests", `{"kind":"access","channel":"post","received_on":"2026-03-02","reference":"letter-77"}`)
		check(a, 201, "PrivacyRequest")
		r := decode[Request](t, a)
		if a.header.Get("Location") != "/api/v1/privacy/requests/"+r.ID || r.Deadline != "2026-04-02" {
			t.Fatalf("created %+v %s", r, a.header.Get("Location"))
		}
		p := decode[problem](t, h.do("POST", "/api/v1/privacy/requests", `{"kind":"access","channel":"post","received_on":"2099-01-01"}`))
		if p.Status != 422 {
			t.Fatalf("future receipt: %+v", p)
		}
		base := "/api/v1/privacy/requests/" + r.ID
		x := h.do("GET", base+"/extract", "")
		if p := decode[problem](t, x); x.status != 409 || !strings.HasSuffix(p.Type, "/identity-not-verified") {
			t.Fatalf("extract before verification: %d %s", x.status, x.body)
		}
		if a := h.do("POST", base+"/complete", ""); a.status != 409 || !strings.Contains(a.body, "identity-not-verified") {
			t.Fatalf("complete before verification: %d %s", a.status, a.body)
		}
		check(h.do("POST", base+"/verify", `{"method":"signed_letter","note":"Signed, with personnummer","customer_id":"`+cid+`"}`), 200, "PrivacyRequest")
		if a := h.do("POST", base+"/verify", `{"method":"in_person"}`); a.status != 409 || !strings.Contains(a.body, "wrong-state") {
			t.Fatalf("second verification: %d %s", a.status, a.body)
		}
		check(h.do("POST", base+"/start", ""), 200, "PrivacyRequest")
		check(h.do("POST", base+"/extend", `{"reason":"Records in several systems"}`), 200, "PrivacyRequest")
		if a := h.do("POST", base+"/extend", `{"reason":"again"}`); a.status != 409 || !strings.Contains(a.body, "already-extended") {
			t.Fatalf("second extension: %d %s", a.status, a.body)
		}
		x = h.do("GET", base+"/extract", "")
		check(x, 200, "PrivacyExtract")
		if !strings.Contains(x.body, "Anna Andersson") || !strings.Contains(x.header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("extract %s", x.body)
		}
		g := h.do("GET", base, "")
		check(g, 200, "PrivacyRequest")
		if !strings.Contains(g.body, "Signed, with personnummer") || !strings.Contains(g.body, `"action":"extract"`) {
			t.Fatalf("get %s", g.body)
		}
		check(h.do("POST", base+"/complete", ""), 200, "PrivacyRequest")

		o := decode[Request](t, h.do("POST", "/api/v1/privacy/requests", `{"kind":"erasure","channel":"email","received_on":"2026-01-05"}`))
		check(h.do("POST", "/api/v1/privacy/requests/"+o.ID+"/refuse", `{"reason":"Identity could not be verified"}`), 200, "PrivacyRequest")
		h.do("POST", "/api/v1/privacy/requests", `{"kind":"portability","channel":"api","received_on":"2026-01-20"}`) // overdue

		l := h.do("GET", "/api/v1/privacy/requests?overdue=true", "")
		check(l, 200, "PrivacyRequestList")
		if ls := decode[struct{ Items []Request }](t, l); len(ls.Items) != 1 || ls.Items[0].Kind != KindPortability || !ls.Items[0].Overdue {
			t.Fatalf("overdue list %s", l.body)
		}
		l = h.do("GET", "/api/v1/privacy/requests?limit=2", "")
		check(l, 200, "PrivacyRequestList")
		if !strings.Contains(l.body, "next_cursor") {
			t.Fatalf("no next page: %s", l.body)
		}
		check(h.do("GET", "/api/v1/privacy/requests?state=refused", ""), 200, "PrivacyRequestList")
		if a := h.do("GET", "/api/v1/privacy/requests?state=lost", ""); a.status != 400 {
			t.Fatalf("bad state: %d", a.status)
		}
		if a := h.do("GET", "/api/v1/privacy/requests/nope", ""); a.status != 404 {
			t.Fatalf("unknown id: %d", a.status)
		}
		req, _ := http.NewRequest("POST", h.srv.URL+"/api/v1/privacy/requests", strings.NewReader(`{"kind":"access","channel":"api"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Test-Role", string(security.RoleBilling))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 403 {
			t.Fatalf("billing role registered a request: %d", res.StatusCode)
		}
	})
}
