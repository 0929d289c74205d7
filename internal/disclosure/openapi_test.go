package disclosure

import (
	"net/http"
	"strings"
	"testing"

	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
	"tillit/internal/web/apitest"
)

// Every route of Routes is documented with its method, path and permission, and every
// documented operation is routed; each has an operationId, summary, description and
// responses, and every $ref resolves.
func TestD1_OpenAPIFragmentMatchesRoutes(t *testing.T) {
	f := apitest.LoadFragment(t, OpenAPI)
	apitest.CheckRoutes(t, f, "http.go", 5)
	if f.Validate("NewRecipient", map[string]any{"name": "x", "role": "processor", "country": "SE", "extra": 1.0}) == nil ||
		f.Validate("NewRecipient", map[string]any{"name": "x"}) == nil {
		t.Fatal("Validate accepts what the schema refuses")
	}
}

type problem struct {
	Type   string `json:"type"`
	Status int    `json:"status"`
}

// D1, D2 over HTTP: a recipient is registered (refused without a transfer basis
// outside the EU/EEA), read, listed and patched; a customer's disclosures are listed;
// every answer matches the documented schema.
func TestD2_HTTPRoundTripMatchesSchemas(t *testing.T) {
	f := apitest.LoadFragment(t, OpenAPI)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		check := func(a answer, status int, schema string) {
			t.Helper()
			f.CheckResponse(t, a.Status, a.Body, status, schema)
		}
		if p := decode[problem](t, h.do("POST", "/api/v1/recipients", `{"name":"US Mailer","role":"processor","country":"US","allowed_fields":["email"]}`)); p.Status != 422 {
			t.Fatalf("non-EEA without basis: %+v", p)
		}
		a := h.do("POST", "/api/v1/recipients", `{"name":"PostNord","role":"processor","country":"SE","agreement_date":"2025-11-01",
			"allowed_fields":["name","address"],"purposes":["delivery"]}`)
		check(a, 201, "Recipient")
		r := decode[Recipient](t, a)
		if a.Header.Get("Location") != "/api/v1/recipients/"+r.ID || r.TransferBasis != TransferNone {
			t.Fatalf("created %+v %s", r, a.Header.Get("Location"))
		}
		check(h.do("POST", "/api/v1/recipients", `{"name":"US Mailer","role":"processor","country":"US","transfer_basis":"scc"}`), 201, "Recipient")
		base := "/api/v1/recipients/" + r.ID
		check(h.do("GET", base, ""), 200, "Recipient")
		p := h.do("PATCH", base, `{"allowed_fields":["name","address","phone"]}`)
		check(p, 200, "Recipient")
		if !strings.Contains(p.Body, `"phone"`) {
			t.Fatalf("patch %s", p.Body)
		}
		if a := h.do("PATCH", base, `{"country":"US"}`); a.Status != 422 {
			t.Fatalf("patch to US without basis: %d %s", a.Status, a.Body)
		}
		l := h.do("GET", "/api/v1/recipients?limit=1", "")
		check(l, 200, "RecipientList")
		if !strings.Contains(l.Body, "next_cursor") {
			t.Fatalf("no next page: %s", l.Body)
		}
		if a := h.do("GET", "/api/v1/recipients/nope", ""); a.Status != 404 {
			t.Fatalf("unknown id: %d", a.Status)
		}

		cid := h.customer("Anna Andersson", "anna@example.se", pnrA)
		if _, err := h.svc.Disclose(h.ctx(), Disclosure{RecipientID: r.ID, CustomerID: cid, Purpose: "delivery",
			Basis: Basis{Kind: BasisOrder, Ref: "order-1"}, Fields: map[string]string{"name": "Anna Andersson"}}); err != nil {
			t.Fatal(err)
		}
		d := h.do("GET", "/api/v1/customers/"+cid+"/disclosures", "")
		check(d, 200, "DisclosureList")
		if !strings.Contains(d.Body, `"fields":["name"]`) || strings.Contains(d.Body, "Anna") {
			t.Fatalf("disclosures %s", d.Body)
		}
		if a := h.do("GET", "/api/v1/customers/nope/disclosures", ""); a.Status != 404 {
			t.Fatalf("unknown customer: %d", a.Status)
		}

		req, _ := http.NewRequest("POST", h.srv.URL+"/api/v1/recipients", strings.NewReader(`{"name":"X","role":"processor","country":"SE"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Test-Role", string(security.RoleBilling))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 403 {
			t.Fatalf("billing role registered a recipient: %d", res.StatusCode)
		}
	})
}
