package privacy

import (
	"net/http"
	"strings"
	"testing"

	"tillit/internal/customer"
	"tillit/internal/nordic"
	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
	"tillit/internal/web/apitest"
)

// Every route of Routes is documented with its method, path and permission, and every
// documented operation is routed; each has an operationId, summary, description and
// responses, and every $ref resolves. The register's schemas are merged in as the
// server merges them, so the extract's customer part is checked too.
func TestOpenAPIFragmentMatchesRoutes(t *testing.T) {
	f := apitest.LoadFragment(t, OpenAPI, customer.OpenAPI)
	apitest.CheckRoutes(t, f, "http.go", 9)
	if f.Validate("PrivacyReason", map[string]any{"reason": "x", "extra": 1.0}) == nil ||
		f.Validate("PrivacyReason", map[string]any{}) == nil {
		t.Fatal("Validate accepts what the schema refuses")
	}
}

type problem struct {
	Type   string `json:"type"`
	Status int    `json:"status"`
}

// R1, R2 over HTTP: a request is registered, listed, refused an extract until
// verified (409 identity-not-verified), verified, extracted, extended, completed and
// refused; every answer matches the documented schema.
func TestR1_HTTPRoundTripMatchesSchemas(t *testing.T) {
	f := apitest.LoadFragment(t, OpenAPI, customer.OpenAPI)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nordic.SE)
		h.setToday("2026-03-10")
		cid := h.customer("Anna Andersson", "anna@example.se", pnrA)
		check := func(a answer, status int, schema string) {
			t.Helper()
			f.CheckResponse(t, a.Status, a.Body, status, schema)
		}
		a := h.do("POST", "/api/v1/privacy/requests", `{"kind":"access","channel":"post","received_on":"2026-03-02","reference":"letter-77"}`)
		check(a, 201, "PrivacyRequest")
		r := decode[Request](t, a)
		if a.Header.Get("Location") != "/api/v1/privacy/requests/"+r.ID || r.Deadline != "2026-04-02" {
			t.Fatalf("created %+v %s", r, a.Header.Get("Location"))
		}
		p := decode[problem](t, h.do("POST", "/api/v1/privacy/requests", `{"kind":"access","channel":"post","received_on":"2099-01-01"}`))
		if p.Status != 422 {
			t.Fatalf("future receipt: %+v", p)
		}
		base := "/api/v1/privacy/requests/" + r.ID
		x := h.do("GET", base+"/extract", "")
		if p := decode[problem](t, x); x.Status != 409 || !strings.HasSuffix(p.Type, "/identity-not-verified") {
			t.Fatalf("extract before verification: %d %s", x.Status, x.Body)
		}
		if a := h.do("POST", base+"/complete", ""); a.Status != 409 || !strings.Contains(a.Body, "identity-not-verified") {
			t.Fatalf("complete before verification: %d %s", a.Status, a.Body)
		}
		check(h.do("POST", base+"/verify", `{"method":"signed_letter","note":"Signed, with personnummer","customer_id":"`+cid+`"}`), 200, "PrivacyRequest")
		if a := h.do("POST", base+"/verify", `{"method":"in_person"}`); a.Status != 409 || !strings.Contains(a.Body, "wrong-state") {
			t.Fatalf("second verification: %d %s", a.Status, a.Body)
		}
		check(h.do("POST", base+"/start", ""), 200, "PrivacyRequest")
		check(h.do("POST", base+"/extend", `{"reason":"Records in several systems"}`), 200, "PrivacyRequest")
		if a := h.do("POST", base+"/extend", `{"reason":"again"}`); a.Status != 409 || !strings.Contains(a.Body, "already-extended") {
			t.Fatalf("second extension: %d %s", a.Status, a.Body)
		}
		x = h.do("GET", base+"/extract", "")
		check(x, 200, "PrivacyExtract")
		if !strings.Contains(x.Body, "Anna Andersson") || !strings.Contains(x.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("extract %s", x.Body)
		}
		g := h.do("GET", base, "")
		check(g, 200, "PrivacyRequest")
		if !strings.Contains(g.Body, "Signed, with personnummer") || !strings.Contains(g.Body, `"action":"extract"`) {
			t.Fatalf("get %s", g.Body)
		}
		check(h.do("POST", base+"/complete", ""), 200, "PrivacyRequest")

		o := decode[Request](t, h.do("POST", "/api/v1/privacy/requests", `{"kind":"erasure","channel":"email","received_on":"2026-01-05"}`))
		check(h.do("POST", "/api/v1/privacy/requests/"+o.ID+"/refuse", `{"reason":"Identity could not be verified"}`), 200, "PrivacyRequest")
		h.do("POST", "/api/v1/privacy/requests", `{"kind":"portability","channel":"api","received_on":"2026-01-20"}`) // overdue

		l := h.do("GET", "/api/v1/privacy/requests?overdue=true", "")
		check(l, 200, "PrivacyRequestList")
		if ls := decode[struct{ Items []Request }](t, l); len(ls.Items) != 1 || ls.Items[0].Kind != KindPortability || !ls.Items[0].Overdue {
			t.Fatalf("overdue list %s", l.Body)
		}
		l = h.do("GET", "/api/v1/privacy/requests?limit=2", "")
		check(l, 200, "PrivacyRequestList")
		if !strings.Contains(l.Body, "next_cursor") {
			t.Fatalf("no next page: %s", l.Body)
		}
		check(h.do("GET", "/api/v1/privacy/requests?state=refused", ""), 200, "PrivacyRequestList")
		if a := h.do("GET", "/api/v1/privacy/requests?state=lost", ""); a.Status != 400 {
			t.Fatalf("bad state: %d", a.Status)
		}
		if a := h.do("GET", "/api/v1/privacy/requests/nope", ""); a.Status != 404 {
			t.Fatalf("unknown id: %d", a.Status)
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
