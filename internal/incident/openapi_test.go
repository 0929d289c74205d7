package incident

import (
	"net/http"
	"strings"
	"testing"

	"tillit/internal/nordic"
	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
	"tillit/internal/web/apitest"
)

// Every route of Routes is documented with its method, path and permission, and every
// documented operation is routed; each has an operationId, summary, description and
// responses, and every $ref resolves.
func TestB1_OpenAPIFragmentMatchesRoutes(t *testing.T) {
	f := apitest.LoadFragment(t, OpenAPI)
	apitest.CheckRoutes(t, f, "http.go", 9)
	if f.Validate("IncidentReason", map[string]any{"reason": "x", "extra": 1.0}) == nil ||
		f.Validate("IncidentReason", map[string]any{}) == nil {
		t.Fatal("Validate accepts what the schema refuses")
	}
}

type problem struct {
	Type   string `json:"type"`
	Status int    `json:"status"`
}

// B1, B2 over HTTP: a breach is recorded, patched, given affected customers, drafted
// (JSON and text), refused closing while undocumented, reported and closed; a
// customer incident cannot be reported; lists filter; every answer matches the
// documented schema.
func TestB1_HTTPRoundTripMatchesSchemas(t *testing.T) {
	f := apitest.LoadFragment(t, OpenAPI)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nordic.SE)
		cid := h.customer("Anna Andersson", "anna@example.se", pnrA)
		check := func(a answer, status int, schema string) {
			t.Helper()
			f.CheckResponse(t, a.Status, a.Body, status, schema)
		}
		a := h.do("POST", "/api/v1/incidents", `{"kind":"breach","title":"Misconfigured bucket","aware_at":"2026-03-10T07:00:00Z",
			"nature":["confidentiality"],"data_categories":["contact"],"approx_people":40}`)
		check(a, 201, "Incident")
		i := decode[Incident](t, a)
		if a.Header.Get("Location") != "/api/v1/incidents/"+i.ID || i.Deadline == nil || i.Deadline.Format("2006-01-02T15:04") != "2026-03-13T07:00" {
			t.Fatalf("created %+v %s", i, a.Header.Get("Location"))
		}
		if p := decode[problem](t, h.do("POST", "/api/v1/incidents", `{"kind":"leak","title":""}`)); p.Status != 422 {
			t.Fatalf("bad kind: %+v", p)
		}
		base := "/api/v1/incidents/" + i.ID
		check(h.do("PATCH", base, `{"risk":"high","likely_consequences":"Phishing against the customers","measures_taken":"Bucket closed"}`), 200, "Incident")
		check(h.do("POST", base+"/affected", `{"customer_ids":["`+cid+`"]}`), 200, "Incident")
		if n := len(h.jobsOf(NoticeJobKind)); n != 1 {
			t.Fatalf("%d notices", n)
		}
		d := h.do("GET", base+"/draft", "")
		check(d, 200, "IncidentDraft")
		if !strings.Contains(d.Body, "Phishing against the customers") || !strings.Contains(d.Body, `"approx_records"`) {
			t.Fatalf("draft %s", d.Body)
		}
		tx := h.do("GET", base+"/draft?format=text", "")
		if tx.Status != 200 || !strings.HasPrefix(tx.Header.Get("Content-Type"), "text/plain") || !strings.Contains(tx.Body, "Anmälan av personuppgiftsincident") {
			t.Fatalf("text draft %d %s %s", tx.Status, tx.Header.Get("Content-Type"), tx.Body)
		}
		if a := h.do("GET", base+"/draft?format=pdf", ""); a.Status != 400 {
			t.Fatalf("bad format: %d", a.Status)
		}
		if a := h.do("POST", base+"/close", ""); a.Status != 409 || !strings.Contains(a.Body, "breach-undocumented") {
			t.Fatalf("close undocumented: %d %s", a.Status, a.Body)
		}
		check(h.do("POST", base+"/report", `{"reference":"IMY-2026-77","reported_at":"2026-03-10T08:30:00Z"}`), 200, "Incident")
		if a := h.do("POST", base+"/no-report", `{"reason":"changed our mind"}`); a.Status != 409 || !strings.Contains(a.Body, "already-reported") {
			t.Fatalf("no-report after report: %d %s", a.Status, a.Body)
		}
		check(h.do("POST", base+"/close", ""), 200, "Incident")
		g := h.do("GET", base, "")
		check(g, 200, "Incident")
		if !strings.Contains(g.Body, `"action":"report"`) || !strings.Contains(g.Body, cid) {
			t.Fatalf("get %s", g.Body)
		}

		c := decode[Incident](t, h.do("POST", "/api/v1/incidents", `{"kind":"customer_incident","title":"Customer site hacked"}`))
		if a := h.do("POST", "/api/v1/incidents/"+c.ID+"/report", `{"reference":"x"}`); a.Status != 409 || !strings.Contains(a.Body, "not-a-breach") {
			t.Fatalf("report customer incident: %d %s", a.Status, a.Body)
		}
		if a := h.do("GET", "/api/v1/incidents/"+c.ID+"/draft", ""); a.Status != 409 {
			t.Fatalf("draft customer incident: %d", a.Status)
		}
		b := decode[Incident](t, h.do("POST", "/api/v1/incidents", `{"kind":"breach","title":"Old undecided","aware_at":"2026-03-01T00:00:00Z"}`))
		check(h.do("POST", "/api/v1/incidents/"+b.ID+"/no-report", `{"reason":"Encrypted, key safe"}`), 200, "Incident")
		h.do("POST", "/api/v1/incidents", `{"kind":"breach","title":"Overdue","aware_at":"2026-03-02T00:00:00Z"}`)

		l := h.do("GET", "/api/v1/incidents?overdue=true", "")
		check(l, 200, "IncidentList")
		if ls := decode[struct{ Items []Incident }](t, l); len(ls.Items) != 1 || ls.Items[0].Title != "Overdue" || !ls.Items[0].Overdue {
			t.Fatalf("overdue list %s", l.Body)
		}
		l = h.do("GET", "/api/v1/incidents?open=true&kind=breach", "")
		check(l, 200, "IncidentList")
		if ls := decode[struct{ Items []Incident }](t, l); len(ls.Items) != 2 {
			t.Fatalf("open breaches %s", l.Body)
		}
		l = h.do("GET", "/api/v1/incidents?limit=2", "")
		check(l, 200, "IncidentList")
		if !strings.Contains(l.Body, "next_cursor") {
			t.Fatalf("no next page: %s", l.Body)
		}
		if a := h.do("GET", "/api/v1/incidents?kind=fire", ""); a.Status != 400 {
			t.Fatalf("bad kind: %d", a.Status)
		}
		if a := h.do("GET", "/api/v1/incidents/nope", ""); a.Status != 404 {
			t.Fatalf("unknown id: %d", a.Status)
		}
		req, _ := http.NewRequest("POST", h.srv.URL+"/api/v1/incidents", strings.NewReader(`{"kind":"breach","title":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Test-Role", string(security.RoleBilling))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 403 {
			t.Fatalf("billing role recorded an incident: %d", res.StatusCode)
		}
	})
}
