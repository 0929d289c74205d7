package policy

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
	"tillit/internal/web"
)

// apiHarness serves this room's routes over a real migrated database, with a wrap
// that sets a principal (role from X-Test-Role, default owner) and an actor, as the
// lead's wrap does after checking a token.
type apiHarness struct {
	t   testing.TB
	st  *store.Store
	vs  *Versions
	acc *Acceptances
	srv *httptest.Server
	now *time.Time
}

func newAPIHarness(t testing.TB, st *store.Store) *apiHarness {
	t.Helper()
	now := time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)
	h := &apiHarness{t: t, st: st, now: &now}
	clock := func() time.Time { return *h.now }
	audit := security.NewAudit(st, nil, security.AuditOptions{})
	h.vs = NewVersions(st, audit, clock)
	h.acc = NewAcceptances(st, audit, h.vs, clock)
	idem := web.NewIdempotency(st, nil)
	wrap := func(perm security.Permission, hf web.HandlerFunc) http.Handler {
		inner := web.LimitBody(web.MaxBody, idem.Middleware(web.Require(perm, hf)))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			role := security.Role(r.Header.Get("X-Test-Role"))
			if role == "" {
				role = security.RoleOwner
			}
			ctx := web.WithPrincipal(r.Context(), security.Principal{Kind: security.ActorToken, ID: "tok-test", Name: "test", Role: role})
			ctx = security.WithActor(ctx, security.Actor{Kind: security.ActorToken, ID: "tok-test", IP: "192.0.2.7", RequestID: "req-test"})
			inner.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	mux := http.NewServeMux()
	NewHTTP(h.vs, h.acc).Routes(mux, wrap)
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (h *apiHarness) do(method, path, body string, header ...string) reply {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{res.StatusCode, res.Header, string(b)}
}

func (h *apiHarness) publish(name string, effective time.Time) {
	h.t.Helper()
	if _, _, err := h.vs.Publish(context.Background(), name, readExample(h.t, name), effective); err != nil {
		h.t.Fatal(err)
	}
}

func problemType(t testing.TB, a reply) string {
	t.Helper()
	var p struct{ Type string }
	if err := json.Unmarshal([]byte(a.body), &p); err != nil {
		t.Fatalf("not a problem: %s", a.body)
	}
	return strings.TrimPrefix(p.Type, web.ProblemBase)
}

// The routes answer with the right statuses, permissions, problems and formats.
func TestP4P5_HTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newAPIHarness(t, st)
		if a := h.do("GET", "/api/v1/policy/ropa", ""); a.status != 404 || problemType(t, a) != "no-policy" {
			t.Fatalf("ropa before publish: %d %s", a.status, a.body)
		}
		if a := h.do("GET", "/api/v1/policy/versions", ""); a.status != 200 || strings.TrimSpace(a.body) != `{"items":[]}` {
			t.Fatalf("empty versions: %d %s", a.status, a.body)
		}
		h.publish("installer.yaml", time.Time{})

		// ROPA in three formats.
		a := h.do("GET", "/api/v1/policy/ropa", "", "X-Test-Role", string(security.RoleReadOnly))
		if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "application/json") || !strings.Contains(a.body, "Nordlås Installation AB") {
			t.Fatalf("ropa json: %d %s", a.status, a.body)
		}
		a = h.do("GET", "/api/v1/policy/ropa?format=csv", "")
		rows, err := csv.NewReader(strings.NewReader(a.body)).ReadAll()
		if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/csv") || err != nil || !slices.Equal(rows[0], CSVHeader) {
			t.Fatalf("ropa csv: %d %v %s", a.status, err, a.body)
		}
		a = h.do("GET", "/api/v1/policy/ropa?format=html", "")
		if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || !strings.Contains(a.body, "<h1>Record of processing activities") {
			t.Fatalf("ropa html: %d %s", a.status, a.body)
		}
		if a := h.do("GET", "/api/v1/policy/ropa?format=pdf", ""); a.status != 400 || problemType(t, a) != "bad-parameter" {
			t.Fatalf("ropa pdf: %d %s", a.status, a.body)
		}

		// Acceptances.
		path := "/api/v1/customers/cust-1/acceptances"
		if a := h.do("POST", path, `{"version":1,"doc":"terms","method":"portal_click"}`, "X-Test-Role", string(security.RoleBilling)); a.status != 403 {
			t.Fatalf("billing may not record: %d %s", a.status, a.body)
		}
		if a := h.do("GET", path, "", "X-Test-Role", string(security.RoleAuditor)); a.status != 403 {
			t.Fatalf("auditor may not read acceptances: %d %s", a.status, a.body)
		}
		for body, ptr := range map[string]string{
			`{"version":2,"doc":"terms","method":"portal_click"}`: "/version",
			`{"version":1,"doc":"deal","method":"portal_click"}`:  "/doc",
			`{"version":1,"doc":"terms","method":"fax"}`:          "/method",
		} {
			a := h.do("POST", path, body)
			if a.status != 422 || !strings.Contains(a.body, `"pointer":"`+ptr+`"`) {
				t.Fatalf("%s: %d %s", body, a.status, a.body)
			}
		}
		if a := h.do("POST", path, `{"version":1,"doc":"terms","method":"api","extra":1}`); a.status != 422 && a.status != 400 {
			t.Fatalf("unknown member: %d %s", a.status, a.body)
		}
		if a := h.do("GET", path, ""); a.status != 200 || strings.TrimSpace(a.body) != `{"items":[]}` {
			t.Fatalf("no acceptances yet: %d %s", a.status, a.body)
		}
		acceptedAt := h.now.Add(-2 * time.Hour).Format(time.RFC3339)
		body := `{"version":1,"doc":"terms","method":"signed_contract","evidence_ref":"C-1","accepted_at":"` + acceptedAt + `"}`
		a = h.do("POST", path, body, "Idempotency-Key", "k1")
		if a.status != 201 || a.header.Get("Location") != path {
			t.Fatalf("record: %d %s", a.status, a.body)
		}
		var got Acceptance
		json.Unmarshal([]byte(a.body), &got)
		if got.Version != 1 || got.RecordedBy != "token:tok-test" || got.AcceptedAt.Format(time.RFC3339) != acceptedAt || got.EvidenceRef != "C-1" {
			t.Fatalf("recorded: %+v", got)
		}
		if again := h.do("POST", path, body, "Idempotency-Key", "k1"); again.status != 201 || again.body != a.body || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %s %v", again.status, again.body, again.header)
		}
		a = h.do("GET", path, "")
		var list acceptanceList
		if err := json.Unmarshal([]byte(a.body), &list); err != nil || a.status != 200 || len(list.Items) != 1 || list.GoverningTerms == nil || *list.GoverningTerms != 1 {
			t.Fatalf("list: %d %s", a.status, a.body)
		}
		var n int
		st.DB().QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'policy.accept' AND subject_id = 'cust-1' AND actor_id = 'tok-test'`).Scan(&n)
		if n != 1 {
			t.Fatalf("%d audit entries", n)
		}
		a = h.do("GET", "/api/v1/policy/versions", "")
		var vl versionList
		if err := json.Unmarshal([]byte(a.body), &vl); err != nil || len(vl.Items) != 1 || vl.Items[0].N != 1 {
			t.Fatalf("versions: %s", a.body)
		}
	})
}

// ---- the fragment ----

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
	if !bytes.Equal(b, OpenAPI) {
		t.Fatal("the embedded fragment is not openapi.json")
	}
	return f
}

// Every route is documented with its method, path and permission, every documented
// operation is routed, each has an operationId, summary, description and responses,
// and every schema reference resolves.
func TestOpenAPIFragmentMatchesRoutes(t *testing.T) {
	f := loadFragment(t)
	src, err := os.ReadFile("http.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`mux\.Handle\("([A-Z]+) ([^"]+)", wrap\(security\.(\w+),`)
	perms := map[string]security.Permission{"PermCustomersRead": security.PermCustomersRead,
		"PermCustomersWrite": security.PermCustomersWrite, "PermSystemRead": security.PermSystemRead}
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
	if len(routed) != 4 {
		t.Fatalf("found %d routes in http.go, want 4", len(routed))
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
		if _, ok := f.Components.Schemas[m[1]]; !ok && m[1] != "Problem" {
			t.Errorf("schema %s is referenced but not defined", m[1])
		}
	}
	if checkSchema(f, map[string]any{"$ref": "#/components/schemas/PolicyVersion"}, map[string]any{"n": 1.0}, "") == nil ||
		checkSchema(f, map[string]any{"$ref": "#/components/schemas/PolicyAcceptanceList"}, map[string]any{"items": []any{}, "x": 1.0}, "") == nil {
		t.Fatal("checkSchema accepts what the schema refuses")
	}
}

// checkSchema validates v against a schema of the fragment: object members (no
// unknown ones where additionalProperties is false, required ones present), array
// items, enums and JSON types. References outside the fragment are not followed.
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
	typ, _ := s["type"].(string)
	ok := true
	switch typ {
	case "object":
		_, ok = v.(map[string]any)
	case "array":
		_, ok = v.([]any)
	case "string":
		_, ok = v.(string)
	case "boolean":
		_, ok = v.(bool)
	case "integer":
		n, isNum := v.(float64)
		ok = isNum && n == float64(int64(n))
	case "number":
		_, ok = v.(float64)
	}
	if !ok {
		return fmt.Errorf("%s: %v is not of type %s", at, v, typ)
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range s["required"].([]any) {
			if _, ok := x[r.(string)]; !ok {
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
			if ap, ok := s["additionalProperties"].(bool); ok && !ap {
				return fmt.Errorf("%s: member %s is not in the schema", at, k)
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

// Real answers match the documented response schemas.
func TestOpenAPIResponsesMatchSchemas(t *testing.T) {
	f := loadFragment(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newAPIHarness(t, st)
		check := func(a reply, status int, schema string) {
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
		check(h.do("GET", "/api/v1/policy/versions", ""), 200, "PolicyVersionList")
		for _, name := range []string{"installer.yaml", "itservices.yaml", "procurement.yaml", "saas.yaml", "webhost.yaml"} {
			*h.now = h.now.Add(time.Hour)
			h.publish(name, time.Time{})
			check(h.do("GET", "/api/v1/policy/ropa", ""), 200, "RecordOfProcessing")
		}
		check(h.do("GET", "/api/v1/policy/versions", ""), 200, "PolicyVersionList")
		path := "/api/v1/customers/c-9/acceptances"
		check(h.do("GET", path, ""), 200, "PolicyAcceptanceList")
		check(h.do("POST", path, `{"version":3,"doc":"privacy","method":"email"}`), 201, "PolicyAcceptance")
		check(h.do("POST", path, `{"version":5,"doc":"terms","method":"api","evidence_ref":"T-1","accepted_at":"2026-04-01T10:00:00Z"}`), 201, "PolicyAcceptance")
		check(h.do("GET", path, ""), 200, "PolicyAcceptanceList")
	})
}
