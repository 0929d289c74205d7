package customer

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

func decode[T any](t *testing.T, a answer) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(a.body), &v); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, a.body)
	}
	return v
}

type problem struct {
	Type   string `json:"type"`
	Status int    `json:"status"`
	Errors []struct {
		Pointer string `json:"pointer"`
		Message string `json:"message"`
	} `json:"errors"`
}

func reasonHdr(r string) map[string]string { return map[string]string{ReasonHeader: r} }

// K1, K2: a person and a company are created through the API with addresses by role,
// normalised Nordic values and a customer number; the create answer holds no
// personal data, the read (with a reason) gives all of it back.
func TestK1_CreatePersonAndCompany(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		a := h.do(call{method: "POST", path: "/api/v1/customers", body: `{
			"kind": "person", "country": "SE", "name": "Anna Andersson", "email": " Anna.Andersson@Example.SE ",
			"phone": "070-123 45 67", "identity_number": "811218-9876",
			"addresses": {"registered": {"street": "Storgatan 1", "postal_code": "11122", "city": "Stockholm"},
			              "delivery": {"street": "Hamnvägen 3", "postal_code": "415 02", "city": "Göteborg"}}}`})
		if a.status != 201 {
			t.Fatalf("create person: %d %s", a.status, a.body)
		}
		ref := decode[Ref](t, a)
		if ref.Number < 10001 || ref.Kind != KindPerson || ref.Status != StatusProspect || ref.Language != "sv" {
			t.Fatalf("ref %+v", ref)
		}
		if strings.Contains(a.body, "Anna") || strings.Contains(a.body, "9876") {
			t.Fatalf("create answer holds personal data: %s", a.body)
		}
		if a.header.Get("Location") != "/api/v1/customers/"+ref.ID {
			t.Fatalf("Location %q", a.header.Get("Location"))
		}
		g := h.do(call{method: "GET", path: "/api/v1/customers/" + ref.ID, header: reasonHdr("ticket:T-1")})
		if g.status != 200 {
			t.Fatalf("get: %d %s", g.status, g.body)
		}
		c := decode[Customer](t, g)
		if c.Name != "Anna Andersson" || c.Email != "anna.andersson@example.se" || c.Phone != "+46701234567" ||
			c.IdentityNumber != "19811218-9876" || c.BirthDate != "1981-12-18" || c.Number != ref.Number {
			t.Fatalf("person %+v", c)
		}
		if c.Addresses[AddressDelivery].PostalCode != "415 02" || c.Addresses[AddressRegistered].PostalCode != "111 22" ||
			c.Addresses[AddressRegistered].Country != "SE" {
			t.Fatalf("addresses %+v", c.Addresses)
		}
		if src := c.Sources["/email"]; src.Source != SourceStaff || src.ActorID != testActor.ID || src.At.IsZero() {
			t.Fatalf("email source %+v", src)
		}
		if _, ok := c.Sources["/addresses/delivery"]; !ok {
			t.Fatalf("no source for the delivery address: %+v", c.Sources)
		}

		a = h.do(call{method: "POST", path: "/api/v1/customers", header: map[string]string{SourceHeader: "import"}, body: `{
			"kind": "company", "country": "SE", "name": "Exempel AB", "org_number": "5560360793", "language": "en",
			"status": "active", "email": "info@exempel.se",
			"addresses": {"invoice": {"street": "Box 12", "postal_code": "10005", "city": "Stockholm"}},
			"contacts": [{"name": "Bo Berg", "email": "bo@exempel.se", "phone": "+46 8 123 456", "role": "CFO"}]}`})
		if a.status != 201 {
			t.Fatalf("create company: %d %s", a.status, a.body)
		}
		cref := decode[Ref](t, a)
		if cref.Number != ref.Number+1 || cref.Status != StatusActive {
			t.Fatalf("company ref %+v after %+v", cref, ref)
		}
		co, err := h.svc.Get(h.ctx(), cref.ID, Reason{ReasonContract, "C-9"})
		if err != nil {
			t.Fatal(err)
		}
		if co.OrgNumber != "556036-0793" || co.Language != "en" || len(co.Contacts) != 1 || co.Contacts[0].Phone != "+468123456" ||
			co.Sources["/org_number"].Source != SourceImport {
			t.Fatalf("company %+v", co)
		}
		// Customer number look-up.
		ms, err := h.svc.FindByNumber(context.Background(), cref.Number)
		if err != nil || len(ms) != 1 || ms[0].ID != cref.ID {
			t.Fatalf("by number: %+v %v", ms, err)
		}
	})
}

// K2: invalid identity number, org number, postal code, e-mail (and more) give 422
// naming each field, and nothing at all is written: no customer, no field, no audit
// entry, no data key.
func TestK2_InvalidInputIs422AndWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		cases := []struct {
			name, body string
			pointers   []string
		}{
			{"identity number", `{"kind":"person","country":"SE","name":"A","identity_number":"811218-9877"}`, []string{"/identity_number"}},
			{"danish identity number in Sweden", `{"kind":"person","country":"SE","name":"A","identity_number":"0101901234x"}`, []string{"/identity_number"}},
			{"org number", `{"kind":"company","country":"SE","name":"A","org_number":"556036-0794"}`, []string{"/org_number"}},
			{"norwegian org number", `{"kind":"company","country":"NO","name":"A","org_number":"123456789"}`, []string{"/org_number"}},
			{"postal code SE", `{"kind":"person","country":"SE","name":"A","addresses":{"invoice":{"street":"S 1","postal_code":"1234","city":"X"}}}`, []string{"/addresses/invoice/postal_code"}},
			{"postal code DK", `{"kind":"person","country":"DK","name":"A","addresses":{"delivery":{"street":"S 1","postal_code":"12345","city":"X"}}}`, []string{"/addresses/delivery/postal_code"}},
			{"e-mail", `{"kind":"person","country":"SE","name":"A","email":"not-an-address"}`, []string{"/email"}},
			{"several at once", `{"kind":"person","country":"SE","name":" ","email":"a@","phone":"12","identity_number":"1"}`,
				[]string{"/name", "/email", "/phone", "/identity_number"}},
			{"unknown role", `{"kind":"person","country":"SE","name":"A","addresses":{"summer":{"street":"S","postal_code":"11122","city":"X"}}}`, []string{"/addresses/summer"}},
			{"contacts on a person", `{"kind":"person","country":"SE","name":"A","contacts":[{"name":"B"}]}`, []string{"/contacts"}},
			{"contact e-mail", `{"kind":"company","country":"SE","name":"A","contacts":[{"name":"B","email":"x"}]}`, []string{"/contacts/0/email"}},
			{"country", `{"kind":"person","country":"FI","name":"A"}`, []string{"/country"}},
			{"kind", `{"kind":"robot","country":"SE","name":"A"}`, []string{"/kind"}},
			{"unknown member", `{"kind":"person","country":"SE","name":"A","shoe_size":44}`, []string{"/shoe_size"}},
		}
		keysBefore := keyCount(t, h)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				a := h.do(call{method: "POST", path: "/api/v1/customers", body: tc.body})
				if a.status != 422 {
					t.Fatalf("status %d: %s", a.status, a.body)
				}
				p := decode[problem](t, a)
				var got []string
				for _, e := range p.Errors {
					got = append(got, e.Pointer)
				}
				for _, want := range tc.pointers {
					if !strings.Contains(strings.Join(got, " ")+" ", want+" ") {
						t.Fatalf("errors %v do not name %s", got, want)
					}
				}
				if strings.Contains(a.body, "811218") {
					t.Fatalf("the problem repeats the input: %s", a.body)
				}
			})
		}
		for _, tbl := range []string{"customers", "customer_fields", "audit_log"} {
			if n := h.count(`SELECT COUNT(*) FROM ` + tbl); n != 0 {
				t.Fatalf("%d rows in %s after refused creates", n, tbl)
			}
		}
		if n := keyCount(t, h); n != keysBefore {
			t.Fatalf("refused creates made %d data keys", n-keysBefore)
		}
	})
}

func keyCount(t *testing.T, h *harness) int {
	t.Helper()
	if h.st.Dialect() == store.Postgres {
		return h.count(`SELECT COUNT(*) FROM tillit_keys.data_keys`)
	}
	return 0 // SQLite: the keystore is its own file; the service never makes a key before validating
}

// K1: a second customer with the same identity number, org number or primary e-mail
// is a 409 naming the field; through the service it is a *DuplicateError.
func TestK1_DuplicateIdentityOrEmailIs409(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		first := person(1)
		if _, err := h.svc.Create(h.ctx(), first); err != nil {
			t.Fatal(err)
		}
		sameID := person(2)
		sameID.IdentityNumber = strings.ReplaceAll(first.IdentityNumber[2:], "-", "") // written another way
		a := h.do(call{method: "POST", path: "/api/v1/customers", body: mustJSON(t, sameID)})
		if a.status != 409 || !strings.Contains(a.body, `"pointer":"/identity_number"`) {
			t.Fatalf("duplicate identity number: %d %s", a.status, a.body)
		}
		sameMail := person(3)
		sameMail.Email = strings.ToUpper(first.Email)
		a = h.do(call{method: "POST", path: "/api/v1/customers", body: mustJSON(t, sameMail)})
		if a.status != 409 || !strings.Contains(a.body, `"pointer":"/email"`) {
			t.Fatalf("duplicate e-mail: %d %s", a.status, a.body)
		}
		_, err := h.svc.Create(h.ctx(), sameMail)
		var de *DuplicateError
		if !errors.As(err, &de) || de.Field != "/email" {
			t.Fatalf("service: %v", err)
		}
		co := NewCustomer{Kind: KindCompany, Country: "SE", Name: "X AB", OrgNumber: "556036-0793"}
		if _, err := h.svc.Create(h.ctx(), co); err != nil {
			t.Fatal(err)
		}
		co.Name = "Y AB"
		if _, err := h.svc.Create(h.ctx(), co); !errors.As(err, &de) || de.Field != "/identity_number" {
			t.Fatalf("duplicate org number: %v", err)
		}
		if n := h.count(`SELECT COUNT(*) FROM customers`); n != 2 {
			t.Fatalf("%d customers, want 2", n)
		}
		// A shared phone number is no conflict.
		samePhone := person(4)
		samePhone.Phone = first.Phone
		if _, err := h.svc.Create(h.ctx(), samePhone); err != nil {
			t.Fatal(err)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// S3, S4: a read without a (well-formed) reason is a 400 reason-required with no data
// and no audit entry; a read with one returns the decrypted data and appends exactly
// one customer.read entry with the reason, actor, IP and request id.
func TestS4_ReadNeedsReasonAndIsAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		ref, err := h.svc.Create(h.ctx(), person(7))
		if err != nil {
			t.Fatal(err)
		}
		for _, hdr := range []map[string]string{nil, reasonHdr(""), reasonHdr("ticket"), reasonHdr("ticket:"),
			reasonHdr("because:I want"), reasonHdr("free:" + strings.Repeat("x", 181))} {
			a := h.do(call{method: "GET", path: "/api/v1/customers/" + ref.ID, header: hdr})
			if a.status != 400 || decode[problem](t, a).Type != "https://tillit.dev/problems/reason-required" {
				t.Fatalf("%v: %d %s", hdr, a.status, a.body)
			}
			if strings.Contains(a.body, "Svensson") || strings.Contains(a.body, "person7") {
				t.Fatalf("refused read leaked data: %s", a.body)
			}
		}
		if _, err := h.svc.Get(h.ctx(), ref.ID, Reason{}); !errors.Is(err, ErrReasonRequired) {
			t.Fatalf("service without reason: %v", err)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'customer.read'`); n != 0 {
			t.Fatalf("refused reads wrote %d audit entries", n)
		}
		// Unknown id: 404 that says nothing more, and nothing audited.
		a := h.do(call{method: "GET", path: "/api/v1/customers/" + store.NewID(), header: reasonHdr("ticket:T-1")})
		if a.status != 404 || !strings.Contains(a.body, "No such customer.") {
			t.Fatalf("unknown: %d %s", a.status, a.body)
		}
		a = h.do(call{method: "GET", path: "/api/v1/customers/" + ref.ID, header: reasonHdr("ticket:T-123")})
		if a.status != 200 || decode[Customer](t, a).Name != "Person 7 Svensson" {
			t.Fatalf("read: %d %s", a.status, a.body)
		}
		var reason, actor, ip, reqID string
		if err := st.DB().QueryRow(`SELECT reason, actor_id, ip, request_id FROM audit_log WHERE action = 'customer.read' AND subject_id = $1`,
			ref.ID).Scan(&reason, &actor, &ip, &reqID); err != nil {
			t.Fatalf("exactly one customer.read entry: %v (count %d)", err, h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'customer.read'`))
		}
		if reason != "ticket:T-123" || actor != testActor.ID || ip != testActor.IP || reqID != testActor.RequestID {
			t.Fatalf("audit entry reason=%q actor=%q ip=%q request=%q", reason, actor, ip, reqID)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'customer.read'`); n != 1 {
			t.Fatalf("%d customer.read entries, want 1", n)
		}
		// A role without customers.read is refused before anything is read.
		a = h.do(call{method: "GET", path: "/api/v1/customers/" + ref.ID,
			header: map[string]string{ReasonHeader: "ticket:T-2", "X-Test-Role": string(security.RoleAuditor)}})
		if a.status != 403 || strings.Contains(a.body, "Svensson") {
			t.Fatalf("auditor: %d %s", a.status, a.body)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'customer.read'`); n != 1 {
			t.Fatalf("%d customer.read entries after a forbidden read, want 1", n)
		}
	})
}

// K5: every value records its source, actor and time; a change keeps the previous
// value (sealed) in the field's history with the source it had; the change is audited
// with its reason.
func TestK5_SourcesAndHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		n := person(11)
		n.Source = SourceImport
		ref, err := h.svc.Create(h.ctx(), n)
		if err != nil {
			t.Fatal(err)
		}
		// Through the API: a merge patch from the customer portal.
		a := h.do(call{method: "PATCH", path: "/api/v1/customers/" + ref.ID, body: `{"email":"new11@example.se","phone":null,
			"addresses":{"registered":{"postal_code":"41502"},"invoice":{"street":"Box 9","postal_code":"10005","city":"Stockholm"}}}`,
			header: map[string]string{ReasonHeader: "request:R-11", SourceHeader: "customer_portal"}})
		if a.status != 200 {
			t.Fatalf("patch: %d %s", a.status, a.body)
		}
		c := decode[Customer](t, a)
		if c.Email != "new11@example.se" || c.Phone != "" || c.Addresses[AddressRegistered].PostalCode != "415 02" ||
			c.Addresses[AddressRegistered].Street != n.Addresses[AddressRegistered].Street || c.Addresses[AddressInvoice].City != "Stockholm" {
			t.Fatalf("after patch %+v", c)
		}
		if c.Sources["/email"].Source != SourcePortal || c.Sources["/name"].Source != SourceImport {
			t.Fatalf("sources %+v", c.Sources)
		}
		if _, ok := c.Sources["/phone"]; ok {
			t.Fatal("removed phone still has a source")
		}
		// Through the service: an address service corrects the name.
		if _, err := h.svc.Update(h.ctx(), ref.ID, Patch{Name: Value("Person Elva Svensson")}, SourceAddressService, Reason{ReasonTicket, "T-5"}); err != nil {
			t.Fatal(err)
		}
		hs, err := h.svc.History(h.ctx(), ref.ID, "email", Reason{ReasonRequest, "R-11"})
		if err != nil {
			t.Fatal(err)
		}
		if len(hs) != 1 || string(hs[0].Value) != `"person11@example.se"` || hs[0].Source.Source != SourceImport ||
			hs[0].Source.ActorID != testActor.ID || hs[0].ReplacedAt.Before(hs[0].Source.At) {
			t.Fatalf("email history %+v", hs)
		}
		hs, err = h.svc.History(h.ctx(), ref.ID, "phone", Reason{ReasonRequest, "R-11"})
		if err != nil || len(hs) != 1 || string(hs[0].Value) != `"+46700000011"` {
			t.Fatalf("phone history %+v %v", hs, err)
		}
		hs, err = h.svc.History(h.ctx(), ref.ID, "addresses/registered", Reason{ReasonRequest, "R-11"})
		if err != nil || len(hs) != 1 || !strings.Contains(string(hs[0].Value), `"111 22"`) {
			t.Fatalf("address history %+v %v", hs, err)
		}
		a = h.do(call{method: "GET", path: "/api/v1/customers/" + ref.ID + "/history/name", header: reasonHdr("ticket:T-5")})
		if a.status != 200 || !strings.Contains(a.body, `"value":"Person 11 Svensson"`) || !strings.Contains(a.body, `"source":"import"`) {
			t.Fatalf("name history over HTTP: %d %s", a.status, a.body)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'customer.update' AND subject_id = $1 AND reason = 'request:R-11'`, ref.ID); n != 1 {
			t.Fatalf("%d customer.update entries for R-11", n)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'customer.history.read'`); n != 4 {
			t.Fatalf("%d customer.history.read entries, want 4", n)
		}
		// A patch with an invalid value is a 422 and changes nothing.
		before := h.count(`SELECT COUNT(*) FROM customer_field_history`)
		a = h.do(call{method: "PATCH", path: "/api/v1/customers/" + ref.ID, body: `{"email":"x@y.se","addresses":{"invoice":{"postal_code":"999"}},"kind":"company"}`,
			header: reasonHdr("ticket:T-6")})
		if a.status != 422 || !strings.Contains(a.body, "/kind") {
			t.Fatalf("patch with unknown member: %d %s", a.status, a.body)
		}
		a = h.do(call{method: "PATCH", path: "/api/v1/customers/" + ref.ID, body: `{"email":"x@y.se","addresses":{"invoice":{"postal_code":"999"}}}`,
			header: reasonHdr("ticket:T-6")})
		if a.status != 422 || !strings.Contains(a.body, "/addresses/invoice/postal_code") {
			t.Fatalf("invalid patch: %d %s", a.status, a.body)
		}
		if after := h.count(`SELECT COUNT(*) FROM customer_field_history`); after != before {
			t.Fatal("a refused patch wrote history")
		}
		if got, _ := h.svc.Get(h.ctx(), ref.ID, Reason{ReasonTicket, "T-6"}); got.Email != "new11@example.se" {
			t.Fatalf("a refused patch changed the e-mail to %q", got.Email)
		}
		// A patch needs a reason too.
		a = h.do(call{method: "PATCH", path: "/api/v1/customers/" + ref.ID, body: `{"name":"Z"}`})
		if a.status != 400 || !strings.Contains(a.body, "reason-required") {
			t.Fatalf("patch without reason: %d %s", a.status, a.body)
		}
		// Ending the customer stamps ended_at.
		c, err = h.svc.Update(h.ctx(), ref.ID, Patch{Status: Value(StatusEnded)}, SourceStaff, Reason{ReasonContract, "C-1"})
		if err != nil || c.Status != StatusEnded || c.EndedAt == nil {
			t.Fatalf("end: %+v %v", c, err)
		}
	})
}

// K1: exact look-ups by e-mail, phone, identity number and customer number find
// exactly the right customer through the blind indexes, however the value is written,
// and return no personal data.
func TestK1_SearchFindsExactlyTheRightCustomer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		var refs []Ref
		for i := range 5 {
			r, err := h.svc.Create(h.ctx(), person(100+i))
			if err != nil {
				t.Fatal(err)
			}
			refs = append(refs, r)
		}
		want := refs[2]
		p := person(102)
		ctx := context.Background()
		check := func(name string, ms []Match, err error) {
			t.Helper()
			if err != nil || len(ms) != 1 || ms[0].ID != want.ID || ms[0].Number != want.Number || ms[0].Kind != KindPerson {
				t.Fatalf("%s: %+v %v", name, ms, err)
			}
		}
		ms, err := h.svc.FindByEmail(ctx, "  PERSON102@Example.SE")
		check("email", ms, err)
		ms, err = h.svc.FindByPhone(ctx, "+46 70 000 01 02")
		check("phone international", ms, err)
		ms, err = h.svc.FindByPhone(ctx, p.Phone)
		check("phone national", ms, err)
		ms, err = h.svc.FindByIdentityNumber(ctx, strings.ReplaceAll(p.IdentityNumber[2:], "-", ""))
		check("identity number", ms, err)
		ms, err = h.svc.FindByNumber(ctx, want.Number)
		check("number", ms, err)
		if ms, err := h.svc.FindByEmail(ctx, "nobody@example.se"); err != nil || len(ms) != 0 {
			t.Fatalf("no match: %+v %v", ms, err)
		}
		for _, q := range []string{"email=Person102%40example.se", "phone=%2B46700000102", "identity_number=" + p.IdentityNumber, "number=" + jsonNum(want.Number)} {
			a := h.do(call{method: "GET", path: "/api/v1/customers?" + q})
			if a.status != 200 || !strings.Contains(a.body, want.ID) || strings.Count(a.body, `"id"`) != 1 ||
				strings.Contains(a.body, "Svensson") || strings.Contains(a.body, "person102") {
				t.Fatalf("?%s: %d %s", q, a.status, a.body)
			}
		}
		for _, q := range []string{"", "email=a%40b.se&phone=070", "email=nope", "identity_number=123", "number=x"} {
			if a := h.do(call{method: "GET", path: "/api/v1/customers?" + q}); a.status != 400 || !strings.Contains(a.body, "bad-parameter") {
				t.Fatalf("?%s: %d %s", q, a.status, a.body)
			}
		}
	})
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

// K6: a note is sealed with the customer's key; the create answer carries no text;
// reading notes needs a reason and is audited.
func TestK6_NotesAreSealedAndRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		ref, err := h.svc.Create(h.ctx(), person(21))
		if err != nil {
			t.Fatal(err)
		}
		a := h.do(call{method: "POST", path: "/api/v1/customers/" + ref.ID + "/notes", body: `{"channel":"phone","text":"Called about the router"}`,
			header: map[string]string{"Idempotency-Key": "n-1"}})
		if a.status != 201 || strings.Contains(a.body, "router") {
			t.Fatalf("add note: %d %s", a.status, a.body)
		}
		if again := h.do(call{method: "POST", path: "/api/v1/customers/" + ref.ID + "/notes", body: `{"channel":"phone","text":"Called about the router"}`,
			header: map[string]string{"Idempotency-Key": "n-1"}}); again.status != 201 || again.body != a.body {
			t.Fatalf("replay: %d %s", again.status, again.body)
		}
		if a := h.do(call{method: "POST", path: "/api/v1/customers/" + ref.ID + "/notes", body: `{"channel":"fax","text":""}`}); a.status != 422 ||
			!strings.Contains(a.body, "/channel") || !strings.Contains(a.body, "/text") {
			t.Fatalf("bad note: %d %s", a.status, a.body)
		}
		if a := h.do(call{method: "POST", path: "/api/v1/customers/" + store.NewID() + "/notes", body: `{"channel":"email","text":"x"}`}); a.status != 404 {
			t.Fatalf("note on unknown customer: %d %s", a.status, a.body)
		}
		ns, err := h.svc.Notes(h.ctx(), ref.ID, Reason{ReasonTicket, "T-21"})
		if err != nil || len(ns) != 1 || ns[0].Text != "Called about the router" || ns[0].Channel != "phone" {
			t.Fatalf("notes %+v %v", ns, err)
		}
		a = h.do(call{method: "GET", path: "/api/v1/customers/" + ref.ID + "/notes", header: reasonHdr("ticket:T-21")})
		if a.status != 200 || !strings.Contains(a.body, "router") {
			t.Fatalf("notes over HTTP: %d %s", a.status, a.body)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'customer.note.add'`); n != 1 {
			t.Fatalf("%d customer.note.add entries", n)
		}
		if h.count(`SELECT COUNT(*) FROM customer_notes`) != 1 {
			t.Fatal("want one note")
		}
	})
}

// K1: the same Idempotency-Key and body creates one customer and replays the answer.
func TestK1_CreateIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		c := call{method: "POST", path: "/api/v1/customers", body: mustJSON(t, person(31)), header: map[string]string{"Idempotency-Key": "k-31"}}
		first := h.do(c)
		again := h.do(c)
		if first.status != 201 || again.status != 201 || first.body != again.body || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("first %d %s, again %d %s", first.status, first.body, again.status, again.body)
		}
		if n := h.count(`SELECT COUNT(*) FROM customers`); n != 1 {
			t.Fatalf("%d customers", n)
		}
	})
}

// S2: with customers whose name, e-mail, identity number, phone, street and notes are
// distinctive strings, no byte of them appears in plaintext (or as hex) anywhere in the
// data: the SQLite file and its WAL, or every row of every table on PostgreSQL.
func TestS2_NoPlaintextAtRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		canaries := []string{"Qwzxcanary Plaintextsson", "qwzx.canary@example.org", "Qwzxgatan 77", "Qwzx secret note",
			"Kanarie Qwzxbolag AB", "Qwzx Kontaktsson"}
		ids := []string{pnr(testDate(1977, 7, 7), 407), pnr(testDate(1988, 8, 8), 808)}
		for i, id := range ids {
			ids = append(ids, strings.ReplaceAll(id, "-", ""), id[2:], strings.ReplaceAll(id[2:], "-", ""))
			n := NewCustomer{Kind: KindPerson, Country: "SE", Name: canaries[0] + string(rune('A'+i)), Email: "a" + string(rune('0'+i)) + canaries[1],
				Phone: "+46 70 999 88 7" + string(rune('0'+i)), IdentityNumber: id,
				Addresses: map[AddressRole]Address{AddressInvoice: {Street: canaries[2], PostalCode: "98765", City: "Qwzxköping"}}}
			a := h.do(call{method: "POST", path: "/api/v1/customers", body: mustJSON(t, n), header: map[string]string{"Idempotency-Key": "s2-" + string(rune('a'+i))}})
			if a.status != 201 {
				t.Fatalf("create: %d %s", a.status, a.body)
			}
			ref := decode[Ref](t, a)
			if _, err := h.svc.AddNote(h.ctx(), ref.ID, Note{Channel: "email", Text: canaries[3]}); err != nil {
				t.Fatal(err)
			}
			if _, err := h.svc.Update(h.ctx(), ref.ID, Patch{Name: Value(canaries[0] + " Changed")}, SourceStaff, Reason{ReasonTicket, "T-9"}); err != nil {
				t.Fatal(err)
			}
			if _, err := h.svc.Get(h.ctx(), ref.ID, Reason{ReasonTicket, "T-9"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := h.svc.Create(h.ctx(), NewCustomer{Kind: KindCompany, Country: "SE", Name: canaries[4],
			Contacts: []Contact{{Name: canaries[5]}}}); err != nil {
			t.Fatal(err)
		}
		needles := append(append([]string{}, canaries...), ids...)
		needles = append(needles, "Qwzxköping", "+4670999887", "98765", "987 65")
		var hay [][]byte
		switch st.Dialect() {
		case store.SQLite:
			for _, suffix := range []string{"", "-wal"} {
				b, err := os.ReadFile(st.Path() + suffix)
				if err != nil && !(suffix == "-wal" && os.IsNotExist(err)) {
					t.Fatal(err)
				}
				if suffix == "-wal" && len(b) == 0 {
					t.Log("no WAL to scan")
				}
				hay = append(hay, b)
			}
		case store.Postgres:
			hay = append(hay, pgDump(t, st))
		}
		total := 0
		for _, b := range hay {
			total += len(b)
			low := bytes.ToLower(b)
			for _, n := range needles {
				for _, form := range []string{n, strings.ToLower(n), hex.EncodeToString([]byte(n))} {
					if bytes.Contains(low, bytes.ToLower([]byte(form))) {
						t.Errorf("plaintext %q found at rest (as %q)", n, form)
					}
				}
			}
		}
		if total < 5000 {
			t.Fatalf("scanned only %d bytes", total)
		}
		t.Logf("scanned %d bytes for %d needles", total, len(needles))
	})
}

// pgDump renders every row of every table of every schema as text.
func pgDump(t *testing.T, st *store.Store) []byte {
	t.Helper()
	rows, err := st.DB().Query(`SELECT table_schema, table_name FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var s, n string
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, `"`+s+`"."`+n+`"`)
	}
	rows.Close()
	var out bytes.Buffer
	for _, tbl := range tables {
		rs, err := st.DB().Query(`SELECT t::text FROM ` + tbl + ` t`)
		if err != nil {
			t.Fatalf("%s: %v", tbl, err)
		}
		for rs.Next() {
			var s string
			if err := rs.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out.WriteString(s + "\n")
		}
		rs.Close()
	}
	if !strings.Contains(strings.Join(tables, " "), "customer_fields") {
		t.Fatalf("tables %v", tables)
	}
	return out.Bytes()
}

// S2: shredding one customer's key makes their reads fail with an error naming them
// (410 erased over HTTP, nothing audited), while other customers still read.
func TestS2_ShreddedKeyMakesCustomerUnreadable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st)
		gone, err := h.svc.Create(h.ctx(), person(41))
		if err != nil {
			t.Fatal(err)
		}
		kept, err := h.svc.Create(h.ctx(), person(42))
		if err != nil {
			t.Fatal(err)
		}
		if err := h.ks.Shred(context.Background(), gone.ID); err != nil {
			t.Fatal(err)
		}
		reads := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'customer.read'`)
		_, err = h.svc.Get(h.ctx(), gone.ID, Reason{ReasonRequest, "R-41"})
		if !errors.Is(err, ErrErased) || !errors.Is(err, security.ErrShredded) || !strings.Contains(err.Error(), gone.ID) {
			t.Fatalf("read of a shredded customer: %v", err)
		}
		a := h.do(call{method: "GET", path: "/api/v1/customers/" + gone.ID, header: reasonHdr("request:R-41")})
		if a.status != 410 || !strings.Contains(a.body, "erased") || strings.Contains(a.body, "Svensson") {
			t.Fatalf("HTTP: %d %s", a.status, a.body)
		}
		if _, err := h.svc.Update(h.ctx(), gone.ID, Patch{Name: Value("New")}, SourceStaff, Reason{ReasonRequest, "R-41"}); !errors.Is(err, ErrErased) {
			t.Fatalf("update of a shredded customer: %v", err)
		}
		if _, err := h.svc.AddNote(h.ctx(), gone.ID, Note{Channel: "email", Text: "x"}); !errors.Is(err, ErrErased) {
			t.Fatalf("note on a shredded customer: %v", err)
		}
		c, err := h.svc.Get(h.ctx(), kept.ID, Reason{ReasonRequest, "R-42"})
		if err != nil || c.Name != "Person 42 Svensson" {
			t.Fatalf("other customer: %+v %v", c, err)
		}
		if n := h.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'customer.read'`); n != reads+1 {
			t.Fatalf("%d reads audited, want %d", n, reads+1)
		}
	})
}
