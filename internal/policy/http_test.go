package policy

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
	"tillit/internal/web"
	"tillit/internal/web/apitest"
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
	key, _, err := security.LoadOrCreateMasterKey(filepath.Join(t.TempDir(), "master.key"), true)
	if err != nil {
		t.Fatal(err)
	}
	idemSeal, err := key.AEAD("idempotency")
	if err != nil {
		t.Fatal(err)
	}
	idem := web.NewIdempotency(st, idemSeal, nil)
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

// Every route is documented with its method, path and permission, every documented
// operation is routed, each has an operationId, summary, description and responses,
// and every reference resolves.
func TestOpenAPIFragmentMatchesRoutes(t *testing.T) {
	f := apitest.LoadFragment(t, OpenAPI)
	apitest.CheckRoutes(t, f, "http.go", 4)
	if f.Validate("PolicyVersion", map[string]any{"n": 1.0}) == nil ||
		f.Validate("PolicyAcceptanceList", map[string]any{"items": []any{}, "x": 1.0}) == nil {
		t.Fatal("Validate accepts what the schema refuses")
	}
}

// Real answers match the documented response schemas.
func TestOpenAPIResponsesMatchSchemas(t *testing.T) {
	f := apitest.LoadFragment(t, OpenAPI)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newAPIHarness(t, st)
		check := func(a reply, status int, schema string) {
			t.Helper()
			f.CheckResponse(t, a.status, a.body, status, schema)
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
