package customer

import (
	"testing"

	"tillit/internal/store"
	"tillit/internal/store/storetest"
	"tillit/internal/web/apitest"
)

// Every route of Routes is documented with its method, path and permission, and every
// documented operation is routed; each has an operationId, summary, description and
// responses, and every $ref resolves.
func TestOpenAPIFragmentMatchesRoutes(t *testing.T) {
	f := apitest.LoadFragment(t, OpenAPI)
	apitest.CheckRoutes(t, f, "http.go", 7)
	// The checker itself refuses an undocumented member and a missing required one.
	if f.Validate("CustomerMatch", map[string]any{"id": "x", "number": 1.0, "kind": "person", "name": "n"}) == nil ||
		f.Validate("CustomerMatch", map[string]any{"id": "x", "kind": "person"}) == nil {
		t.Fatal("Validate accepts what the schema refuses")
	}
}

// Real answers match the documented response schemas.
func TestOpenAPIResponsesMatchSchemas(t *testing.T) {
	f := apitest.LoadFragment(t, OpenAPI)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		check := func(a answer, status int, schema string) {
			t.Helper()
			f.CheckResponse(t, a.status, a.body, status, schema)
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
