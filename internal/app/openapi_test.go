package app

import (
	"bytes"
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"mime"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"tillit/internal/jobs"
	"tillit/internal/security"
	"tillit/internal/store"
	"tillit/internal/store/storetest"
)

// The OpenAPI document (openapi.json, served at /api/openapi.json) is checked
// against the real handler: every answer of a set of real requests must have a
// status, content type, headers and body the document describes, and the
// document's operations must be exactly the routes the server registers.

// openAPIURL names the document as a JSON Schema resource; schemas inside it are
// compiled by JSON pointer, e.g. openapi.json#/components/schemas/Token, so that
// its $refs resolve.
const openAPIURL = "openapi.json"

var openAPIMethods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// oaDoc is the part of the document the tests navigate. Schemas are not decoded
// here: the validator reads them from the same bytes.
type oaDoc struct {
	OpenAPI  string                                `json:"openapi"`
	Info     struct{ Title, Version string }       `json:"info"`
	Security []map[string][]string                 `json:"security"`
	Paths    map[string]map[string]json.RawMessage `json:"paths"`
	// Components holds what $refs point at.
	Components struct {
		Responses       map[string]oaResponse                    `json:"responses"`
		Headers         map[string]oaHeader                      `json:"headers"`
		Schemas         map[string]map[string]any                `json:"schemas"`
		SecuritySchemes map[string]struct{ Type, Scheme string } `json:"securitySchemes"`
	} `json:"components"`
}

type oaOperation struct {
	OperationID string                 `json:"operationId"`
	Summary     string                 `json:"summary"`
	Description string                 `json:"description"`
	Tags        []string               `json:"tags"`
	Security    *[]map[string][]string `json:"security"`
	Parameters  []struct {
		Ref  string `json:"$ref"`
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
	RequestBody *struct {
		Content map[string]json.RawMessage `json:"content"`
	} `json:"requestBody"`
	Responses map[string]oaResponse `json:"responses"`
}

type oaResponse struct {
	Ref     string              `json:"$ref"`
	Headers map[string]oaHeader `json:"headers"`
	Content map[string]struct {
		Schema json.RawMessage `json:"schema"`
	} `json:"content"`
}

type oaHeader struct {
	Ref      string `json:"$ref"`
	Required bool   `json:"required"`
	Schema   struct {
		Type string `json:"type"`
	} `json:"schema"`
}

// oaOp is one operation with where it sits in the document.
type oaOp struct {
	method   string // upper case
	template string // e.g. /api/v1/tokens/{id}
	ptr      string // JSON pointer to the operation
	op       oaOperation
}

type openAPISpec struct {
	doc      oaDoc
	ops      []oaOp
	compiler *jsonschema.Compiler
	compiled map[string]*jsonschema.Schema // by JSON pointer
}

func loadOpenAPI(t testing.TB) *openAPISpec {
	t.Helper()
	s := &openAPISpec{compiled: map[string]*jsonschema.Schema{}}
	if err := json.Unmarshal(openAPI, &s.doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(openAPI))
	if err != nil {
		t.Fatal(err)
	}
	s.compiler = jsonschema.NewCompiler()
	s.compiler.DefaultDraft(jsonschema.Draft2020)
	s.compiler.AssertFormat() // date-time, uuid, uri are checked, not just annotated
	if err := s.compiler.AddResource(openAPIURL, raw); err != nil {
		t.Fatal(err)
	}
	for _, tmpl := range sortedKeys(s.doc.Paths) {
		for _, m := range openAPIMethods {
			b, ok := s.doc.Paths[tmpl][m]
			if !ok {
				continue
			}
			var op oaOperation
			if err := json.Unmarshal(b, &op); err != nil {
				t.Fatalf("%s %s: %v", m, tmpl, err)
			}
			s.ops = append(s.ops, oaOp{method: strings.ToUpper(m), template: tmpl, ptr: "/paths/" + pointerEscape(tmpl) + "/" + m, op: op})
		}
	}
	return s
}

// schema compiles the schema at ptr, a JSON pointer into the document.
func (s *openAPISpec) schema(ptr string) (*jsonschema.Schema, error) {
	if sch, ok := s.compiled[ptr]; ok {
		return sch, nil
	}
	sch, err := s.compiler.Compile(openAPIURL + "#" + ptr)
	if err != nil {
		return nil, err
	}
	s.compiled[ptr] = sch
	return sch, nil
}

// validate checks inst against the schema at ptr.
func (s *openAPISpec) validate(ptr string, inst any) error {
	sch, err := s.schema(ptr)
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// response follows a $ref to components/responses.
func (s *openAPISpec) response(r oaResponse, ptr string) (oaResponse, string, bool) {
	if r.Ref == "" {
		return r, ptr, true
	}
	name, ok := strings.CutPrefix(r.Ref, "#/components/responses/")
	c, found := s.doc.Components.Responses[name]
	return c, "/components/responses/" + pointerEscape(name), ok && found
}

// header follows a $ref to components/headers.
func (s *openAPISpec) header(h oaHeader, ptr string) (oaHeader, string, bool) {
	if h.Ref == "" {
		return h, ptr, true
	}
	name, ok := strings.CutPrefix(h.Ref, "#/components/headers/")
	c, found := s.doc.Components.Headers[name]
	return c, "/components/headers/" + pointerEscape(name), ok && found
}

// pathFor finds the document's path template matching a request path, literal
// segments winning over parameters.
func (s *openAPISpec) pathFor(path string) (string, bool) {
	best, bestLiterals := "", -1
	segs := strings.Split(path, "/")
	for tmpl := range s.doc.Paths {
		tsegs := strings.Split(tmpl, "/")
		if len(tsegs) != len(segs) {
			continue
		}
		literals := 0
		for i, ts := range tsegs {
			if strings.HasPrefix(ts, "{") && strings.HasSuffix(ts, "}") {
				if segs[i] == "" {
					literals = -1
					break
				}
				continue
			}
			if ts != segs[i] {
				literals = -1
				break
			}
			literals++
		}
		if literals > bestLiterals {
			best, bestLiterals = tmpl, literals
		}
	}
	return best, bestLiterals >= 0
}

func (s *openAPISpec) methodsOf(tmpl string) []string {
	var out []string
	for _, o := range s.ops {
		if o.template == tmpl {
			out = append(out, o.method)
		}
	}
	return out
}

func (s *openAPISpec) operation(method, tmpl string) (oaOp, bool) {
	for _, o := range s.ops {
		if o.method == method && o.template == tmpl {
			return o, true
		}
	}
	return oaOp{}, false
}

// checkExchange holds one real request and answer against the document and returns
// what it exercised ("METHOD template status"). Answers to paths or methods the
// document does not list must be the documented NotFound or MethodNotAllowed.
func (s *openAPISpec) checkExchange(t *testing.T, name string, c call, a answer) string {
	t.Helper()
	path, _, _ := strings.Cut(c.path, "?")
	label := name + " (" + c.method + " " + c.path + " → " + strconv.Itoa(a.status) + ")"
	tmpl, ok := s.pathFor(path)
	if !ok {
		if !strings.HasPrefix(path, "/api/") {
			t.Errorf("%s: the path is not in the document", label)
			return ""
		}
		if a.status != 404 {
			t.Errorf("%s: a path the document does not list must answer the documented 404", label)
		}
		s.checkResponse(t, label, a, s.doc.Components.Responses["NotFound"], "/components/responses/NotFound")
		return "unlisted path 404"
	}
	o, ok := s.operation(c.method, tmpl)
	if !ok {
		if a.status != 405 {
			t.Errorf("%s: a method the document does not list for %s must answer the documented 405", label, tmpl)
		}
		allow := strings.Split(a.header.Get("Allow"), ", ")
		want := s.methodsOf(tmpl)
		slices.Sort(allow)
		slices.Sort(want)
		if !slices.Equal(allow, want) {
			t.Errorf("%s: Allow %v, but the document lists %v for %s", label, allow, want, tmpl)
		}
		s.checkResponse(t, label, a, s.doc.Components.Responses["MethodNotAllowed"], "/components/responses/MethodNotAllowed")
		return "unlisted method 405"
	}
	status := strconv.Itoa(a.status)
	r, ok := o.op.Responses[status]
	if !ok {
		t.Errorf("%s: status %d is not documented for %s %s (documented: %v)\n%s", label, a.status, o.method, tmpl, sortedKeys(o.op.Responses), a.body)
		return ""
	}
	r, ptr, ok := s.response(r, o.ptr+"/responses/"+status)
	if !ok {
		t.Errorf("%s: response $ref does not resolve", label)
		return ""
	}
	s.checkResponse(t, label, a, r, ptr)
	s.checkRequest(t, label, o, c, a)
	return o.method + " " + tmpl + " " + status
}

// checkResponse holds headers, content type and body against a response object.
func (s *openAPISpec) checkResponse(t *testing.T, label string, a answer, r oaResponse, ptr string) {
	t.Helper()
	for _, name := range sortedKeys(r.Headers) {
		h, hptr, ok := s.header(r.Headers[name], ptr+"/headers/"+pointerEscape(name))
		if !ok {
			t.Errorf("%s: header %s: $ref does not resolve", label, name)
			continue
		}
		v := a.header.Get(name)
		if v == "" {
			if h.Required {
				t.Errorf("%s: documented header %s is missing", label, name)
			}
			continue
		}
		var inst any = v
		if h.Schema.Type == "integer" {
			inst = json.Number(v)
			if _, err := strconv.ParseInt(v, 10, 64); err != nil {
				t.Errorf("%s: header %s: %q is not an integer", label, name, v)
				continue
			}
		}
		if err := s.validate(hptr+"/schema", inst); err != nil {
			t.Errorf("%s: header %s: %v", label, name, err)
		}
	}
	if len(r.Content) == 0 {
		if len(a.body) != 0 {
			t.Errorf("%s: the document says no body, got %q", label, a.body)
		}
		return
	}
	ct := a.header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		t.Errorf("%s: content type %q: %v", label, ct, err)
		return
	}
	media, ok := r.Content[mt]
	if !ok {
		t.Errorf("%s: content type %q is not documented (documented: %v)", label, ct, sortedKeys(r.Content))
		return
	}
	if len(media.Schema) == 0 {
		return
	}
	var inst any = string(a.body)
	if isJSONMediaType(mt) {
		if inst, err = jsonschema.UnmarshalJSON(bytes.NewReader(a.body)); err != nil {
			t.Errorf("%s: body is not JSON: %v\n%s", label, err, a.body)
			return
		}
	}
	loc := ptr + "/content/" + pointerEscape(mt) + "/schema"
	if err := s.validate(loc, inst); err != nil {
		t.Errorf("%s: body does not match %s#%s:\n%v\nbody: %s", label, openAPIURL, loc, err, a.body)
	}
	if mt == "application/problem+json" {
		var p struct{ Status int }
		if json.Unmarshal(a.body, &p); p.Status != a.status {
			t.Errorf("%s: problem status %d differs from the HTTP status", label, p.Status)
		}
	}
}

// checkRequest holds a JSON request body against the documented request schema: a
// body the server accepted must be valid, so the schema is never stricter than the
// handler. (The handler may be stricter: check digits, duplicates and weak passwords
// are not expressible in a schema.)
func (s *openAPISpec) checkRequest(t *testing.T, label string, o oaOp, c call, a answer) {
	t.Helper()
	if o.op.RequestBody == nil || c.body == "" {
		return
	}
	mt, _, _ := mime.ParseMediaType(c.contentType)
	if _, ok := o.op.RequestBody.Content[mt]; !ok {
		if a.status < 300 {
			t.Errorf("%s: accepted a request body of undocumented type %q", label, c.contentType)
		}
		return
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(c.body))
	if err != nil {
		return // malformed on purpose
	}
	err = s.validate(o.ptr+"/requestBody/content/"+pointerEscape(mt)+"/schema", inst)
	if a.status >= 200 && a.status < 300 && err != nil {
		t.Errorf("%s: the server accepted a body the request schema refuses: %v", label, err)
	}
}

// TestOpenAPIDescribesRealResponses drives the real handler through every documented
// operation, successes and failures, and holds each answer against the document.
func TestOpenAPIDescribesRealResponses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newAPIHarness(t, st)
		spec := loadOpenAPI(t)
		seen := map[string]bool{}
		do := func(name string, want int, c call) answer {
			t.Helper()
			a := h.do(c)
			if a.status != want {
				t.Errorf("%s: %s %s answered %d, want %d: %s", name, c.method, c.path, a.status, want, a.body)
			}
			seen[spec.checkExchange(t, name, c, a)] = true
			return a
		}
		const js = "application/json"
		const tokens = "/api/v1/tokens"
		post := func(token, body string, header map[string]string) call {
			return call{method: "POST", path: tokens, token: token, contentType: js, body: body, header: header}
		}
		get := func(path, token string) call { return call{method: "GET", path: path, token: token} }
		del := func(id, token string) call { return call{method: "DELETE", path: tokens + "/" + id, token: token} }
		crossSite := map[string]string{"Sec-Fetch-Site": "cross-site"}
		unknownToken := security.TokenPrefix + strings.Repeat("A", 43)
		valid := `{"name":"x","role":"readonly"}`

		// Operations.
		do("liveness", 200, get("/healthz", ""))
		do("readiness", 200, get("/readyz", ""))
		do("metrics", 200, get("/metrics", ""))
		if a := do("openapi", 200, get("/api/openapi.json", "")); !bytes.Equal(a.body, openAPI) {
			t.Error("/api/openapi.json does not serve openapi.json")
		}

		// System.
		do("system", 200, get("/api/v1/system", h.owner))
		do("system as readonly", 200, get("/api/v1/system", h.ro))
		do("system without token", 401, get("/api/v1/system", ""))
		do("system with unknown token", 401, get("/api/v1/system", unknownToken))

		// Create.
		do("create with expiry", 201, post(h.owner, `{"name":"ci","role":"readonly","ttl_seconds":3600}`, nil))
		var admin struct{ ID, Token string }
		json.Unmarshal(do("create admin", 201, post(h.owner, `{"name":"ops","role":"admin"}`, nil)).body, &admin)
		idem := map[string]string{"Idempotency-Key": "openapi-1"}
		first := do("create with idempotency key", 201, post(h.owner, `{"name":"deploy","role":"auditor"}`, idem))
		again := do("idempotent replay", 201, post(h.owner, `{"name":"deploy","role":"auditor"}`, idem))
		if again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(first.body, again.body) {
			t.Errorf("replay is not the first answer: %s (replayed %q)", again.body, again.header.Get("Idempotent-Replayed"))
		}
		do("same key, different body", 422, post(h.owner, `{"name":"other","role":"auditor"}`, idem))
		do("idempotency key too long", 400, post(h.owner, valid, map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}))
		do("bad json", 400, post(h.owner, `{"name":`, nil))
		do("trailing data", 400, post(h.owner, valid+` {}`, nil))
		do("empty body", 400, post(h.owner, "", nil))
		do("create without token", 401, post("", valid, nil))
		do("create with unknown token", 401, post(unknownToken, valid, nil))
		do("readonly may not create", 403, post(h.ro, valid, nil))
		do("admin may not create an owner", 403, post(admin.Token, `{"name":"x","role":"owner"}`, nil))
		do("cross-origin create", 403, post(h.owner, valid, crossSite))
		do("wrong content type", 415, call{method: "POST", path: tokens, token: h.owner, contentType: "text/plain", body: valid})
		do("unknown field", 422, post(h.owner, `{"name":"x","role":"readonly","admin":true}`, nil))
		do("wrong type", 422, post(h.owner, `{"name":7,"role":"readonly"}`, nil))
		do("unknown role", 422, post(h.owner, `{"name":"x","role":"king"}`, nil))
		do("missing fields", 422, post(h.owner, `{}`, nil))
		do("negative lifetime", 422, post(h.owner, `{"name":"x","role":"readonly","ttl_seconds":-1}`, nil))
		do("not an object", 422, post(h.owner, `[]`, nil))
		do("oversized body", 413, post(h.owner, `{"name":"`+strings.Repeat("a", 2<<20)+`","role":"readonly"}`, nil))

		// List.
		do("list", 200, get(tokens, h.owner))
		var page struct {
			Next string `json:"next_cursor"`
		}
		json.Unmarshal(do("list first page", 200, get(tokens+"?limit=2", h.owner)).body, &page)
		if page.Next == "" {
			t.Error("first page of 2 has no next_cursor")
		}
		do("list next page", 200, get(tokens+"?limit=2&cursor="+page.Next, h.owner))
		do("limit too small", 400, get(tokens+"?limit=0", h.owner))
		do("limit too large", 400, get(tokens+"?limit=201", h.owner))
		do("malformed cursor", 400, get(tokens+"?cursor=@@@", h.owner))
		do("list without token", 401, get(tokens, ""))
		do("readonly may not list", 403, get(tokens, h.ro))

		// Revoke.
		do("revoke", 204, del(admin.ID, h.owner))
		do("revoke again", 404, del(admin.ID, h.owner))
		do("revoke unknown", 404, del("no-such-token", h.owner))
		do("revoke without token", 401, del(admin.ID, ""))
		do("readonly may not revoke", 403, del(admin.ID, h.ro))
		do("cross-origin revoke", 403, call{method: "DELETE", path: tokens + "/" + admin.ID, token: h.owner, header: crossSite})
		listing := do("list after revoke", 200, get(tokens, h.owner))
		for _, field := range []string{`"expires_at"`, `"revoked_at"`} {
			if !bytes.Contains(listing.body, []byte(field)) {
				t.Errorf("the listing never showed %s, so its schema went unchecked", field)
			}
		}

		// Jobs: one failed job to retry, then cancel; a second cancel changes nothing.
		var failedID string
		q := jobs.New(st, jobs.Options{})
		if err := st.Write(context.Background(), func(ctx context.Context, tx store.Tx) error {
			id, err := q.Enqueue(ctx, tx, "test.kind", map[string]string{"customer": "c-1"}, jobs.EnqueueOptions{})
			if err != nil {
				return err
			}
			failedID = id
			_, err = tx.ExecContext(ctx, `UPDATE jobs SET state = 'failed', attempt = 10, last_error = 'boom', finished_at = run_at WHERE id = $1`, id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		jobsPath := "/api/v1/jobs"
		action := func(id, verb, token string) call {
			return call{method: "POST", path: jobsPath + "/" + id + "/" + verb, token: token}
		}
		do("list jobs", 200, get(jobsPath, h.ro))
		do("list failed jobs", 200, get(jobsPath+"?state=failed&limit=1", h.ro))
		do("list jobs of a kind", 200, get(jobsPath+"?kind=test.kind", h.owner))
		do("list jobs bad state", 400, get(jobsPath+"?state=sleeping", h.owner))
		do("list jobs without token", 401, get(jobsPath, ""))
		do("retry as readonly", 403, action(failedID, "retry", h.ro))
		do("retry unknown", 404, action("nope", "retry", h.owner))
		do("retry failed job", 200, action(failedID, "retry", h.owner))
		do("retry a job that has not failed", 409, action(failedID, "retry", h.owner))
		do("retry without token", 401, action(failedID, "retry", ""))
		do("cancel", 200, action(failedID, "cancel", h.owner))
		do("cancel again", 200, action(failedID, "cancel", h.owner))
		do("cancel unknown", 404, action("nope", "cancel", h.owner))
		do("cancel as readonly", 403, action(failedID, "cancel", h.ro))
		do("cancel without token", 401, action(failedID, "cancel", ""))
		do("cross-origin cancel", 403, call{method: "POST", path: jobsPath + "/" + failedID + "/cancel", token: h.owner, header: crossSite})
		do("wrong method on jobs", 405, call{method: "DELETE", path: jobsPath, token: h.owner})

		// Staff.
		staffPath := "/api/v1/staff"
		created := do("add staff with generated password", 201, call{method: "POST", path: staffPath, token: h.owner, contentType: js, body: `{"email":"kim@example.com","name":"Kim","role":"support"}`})
		var member struct{ ID string }
		json.Unmarshal(created.body, &member)
		do("add staff with own password", 201, call{method: "POST", path: staffPath, token: h.owner, contentType: js, body: `{"email":"ola@example.com","name":"Ola","role":"owner","password":"blåbärssylt på torsdag 77"}`})
		do("add staff twice", 409, call{method: "POST", path: staffPath, token: h.owner, contentType: js, body: `{"email":"kim@example.com","name":"Kim","role":"support"}`})
		do("add staff weak password", 422, call{method: "POST", path: staffPath, token: h.owner, contentType: js, body: `{"email":"x@example.com","name":"X","role":"support","password":"password1234"}`})
		do("add staff bad JSON", 400, call{method: "POST", path: staffPath, token: h.owner, contentType: js, body: `{`})
		do("add staff as readonly", 403, call{method: "POST", path: staffPath, token: h.ro, contentType: js, body: `{}`})
		do("list staff", 200, get(staffPath, h.owner))
		do("list staff without token", 401, get(staffPath, ""))
		do("reset password", 200, call{method: "POST", path: staffPath + "/" + member.ID + "/reset-password", token: h.owner, contentType: js, body: `{}`})
		do("reset password weak", 422, call{method: "POST", path: staffPath + "/" + member.ID + "/reset-password", token: h.owner, contentType: js, body: `{"password":"qwerty"}`})
		do("reset password unknown", 404, call{method: "POST", path: staffPath + "/nope/reset-password", token: h.owner, contentType: js, body: `{}`})
		do("disable staff", 200, call{method: "POST", path: staffPath + "/" + member.ID + "/disable", token: h.owner})
		do("disable unknown", 404, call{method: "POST", path: staffPath + "/nope/disable", token: h.owner})

		// Customers (the register's routes, merged from internal/customer).
		cust := "/api/v1/customers"
		reason := map[string]string{"Tillit-Reason": "ticket:T-1"}
		newCustomer := `{"kind":"person","country":"SE","name":"Anna Andersson","email":"anna@example.se","phone":"070-123 45 67","identity_number":"811218-9876","addresses":{"registered":{"street":"Storgatan 1","postal_code":"11122","city":"Stockholm"}}}`
		createdCust := do("create customer", 201, call{method: "POST", path: cust, token: h.owner, contentType: js, body: newCustomer})
		var cref struct{ ID string }
		json.Unmarshal(createdCust.body, &cref)
		do("create customer twice", 409, call{method: "POST", path: cust, token: h.owner, contentType: js, body: newCustomer})
		do("create customer invalid", 422, call{method: "POST", path: cust, token: h.owner, contentType: js, body: `{"kind":"person","country":"SE","name":"X","identity_number":"811218-9877"}`})
		do("create customer as auditor", 403, call{method: "POST", path: cust, token: h.ro, contentType: js, body: `{}`})
		do("search customers", 200, get(cust+"?email=anna@example.se", h.owner))
		do("search without a parameter", 400, get(cust, h.owner))
		do("read customer", 200, call{method: "GET", path: cust + "/" + cref.ID, token: h.owner, header: reason})
		do("read customer without reason", 400, get(cust+"/"+cref.ID, h.owner))
		do("read unknown customer", 404, call{method: "GET", path: cust + "/01a21500-0000-7000-8000-000000000000", token: h.owner, header: reason})
		do("patch customer", 200, call{method: "PATCH", path: cust + "/" + cref.ID, token: h.owner, contentType: "application/merge-patch+json", body: `{"email":"anna.a@example.se"}`, header: reason})
		do("patch customer invalid", 422, call{method: "PATCH", path: cust + "/" + cref.ID, token: h.owner, contentType: "application/merge-patch+json", body: `{"email":"not an address"}`, header: reason})
		do("customer history", 200, call{method: "GET", path: cust + "/" + cref.ID + "/history/email", token: h.owner, header: reason})
		do("add note", 201, call{method: "POST", path: cust + "/" + cref.ID + "/notes", token: h.owner, contentType: js, body: `{"channel":"phone","text":"Called about the invoice."}`})
		do("read notes", 200, call{method: "GET", path: cust + "/" + cref.ID + "/notes", token: h.owner, header: reason})

		// Policy versions, the Art. 30 record, acceptances.
		do("policy versions, none yet", 200, get("/api/v1/policy/versions", h.ro))
		do("ropa before publishing", 404, get("/api/v1/policy/ropa", h.ro))
		webhost, _ := os.ReadFile("../../examples/policies/webhost.yaml")
		if _, _, err := h.server.versions.Publish(context.Background(), "webhost.yaml", webhost, time.Time{}); err != nil {
			t.Fatal(err)
		}
		do("policy versions", 200, get("/api/v1/policy/versions", h.ro))
		do("ropa as JSON", 200, get("/api/v1/policy/ropa", h.ro))
		do("ropa as CSV", 200, get("/api/v1/policy/ropa?format=csv", h.ro))
		do("ropa as HTML", 200, get("/api/v1/policy/ropa?format=html", h.ro))
		do("ropa in an unknown format", 400, get("/api/v1/policy/ropa?format=pdf", h.ro))
		do("record acceptance", 201, call{method: "POST", path: cust + "/" + cref.ID + "/acceptances", token: h.owner, contentType: js, body: `{"version":1,"doc":"terms","method":"portal_click"}`})
		do("record acceptance of an unknown version", 422, call{method: "POST", path: cust + "/" + cref.ID + "/acceptances", token: h.owner, contentType: js, body: `{"version":9,"doc":"terms","method":"portal_click"}`})
		do("acceptances", 200, get(cust+"/"+cref.ID+"/acceptances", h.owner))

		// Data-subject requests (the privacy room).
		preq := "/api/v1/privacy/requests"
		created = do("receive a request", 201, call{method: "POST", path: preq, token: h.owner, contentType: js, body: `{"kind":"access","channel":"api","customer_id":"` + cref.ID + `"}`})
		var pr struct{ ID string }
		json.Unmarshal(created.body, &pr)
		do("receive a bad request", 422, call{method: "POST", path: preq, token: h.owner, contentType: js, body: `{"kind":"gossip","channel":"api"}`})
		do("list requests", 200, get(preq, h.owner))
		do("list overdue requests", 200, get(preq+"?overdue=true", h.owner))
		do("read a request", 200, get(preq+"/"+pr.ID, h.owner))
		do("read an unknown request", 404, get(preq+"/nope", h.owner))
		do("extract before verification", 409, get(preq+"/"+pr.ID+"/extract", h.owner))
		do("start before verification", 409, call{method: "POST", path: preq + "/" + pr.ID + "/start", token: h.owner})
		do("verify identity", 200, call{method: "POST", path: preq + "/" + pr.ID + "/verify", token: h.owner, contentType: js, body: `{"method":"signed_letter","note":"letter of 2026-11-20"}`})
		do("start", 200, call{method: "POST", path: preq + "/" + pr.ID + "/start", token: h.owner})
		do("extend", 200, call{method: "POST", path: preq + "/" + pr.ID + "/extend", token: h.owner, contentType: js, body: `{"reason":"Many systems to search."}`})
		do("extract", 200, get(preq+"/"+pr.ID+"/extract", h.owner))
		do("complete", 200, call{method: "POST", path: preq + "/" + pr.ID + "/complete", token: h.owner})
		do("complete twice", 409, call{method: "POST", path: preq + "/" + pr.ID + "/complete", token: h.owner})
		other := do("receive another", 201, call{method: "POST", path: preq, token: h.owner, contentType: js, body: `{"kind":"erasure","channel":"email","customer_id":"` + cref.ID + `"}`})
		json.Unmarshal(other.body, &pr)
		do("refuse", 200, call{method: "POST", path: preq + "/" + pr.ID + "/refuse", token: h.owner, contentType: js, body: `{"reason":"Bookkeeping law requires us to keep the invoices."}`})

		// Consent receipts (the cookie banner's ledger).
		do("consent receipts", 200, get("/api/v1/consent/receipts", h.owner))
		do("consent receipts of a visitor", 200, get("/api/v1/consent/receipts?visitor_id=v-0123456789abcdef", h.owner))

		// Breaches and customer incidents (the incident room).
		inc := "/api/v1/incidents"
		created = do("record a breach", 201, call{method: "POST", path: inc, token: h.owner, contentType: js, body: `{"kind":"breach","title":"Lost laptop","nature":["confidentiality"],"data_categories":["customer"],"approx_people":12,"risk":"high"}`})
		var ir struct{ ID string }
		json.Unmarshal(created.body, &ir)
		do("record an invalid incident", 422, call{method: "POST", path: inc, token: h.owner, contentType: js, body: `{"kind":"breach","title":""}`})
		do("list incidents", 200, get(inc+"?open=true", h.owner))
		do("read an incident", 200, get(inc+"/"+ir.ID, h.owner))
		do("patch an incident", 200, call{method: "PATCH", path: inc + "/" + ir.ID, token: h.owner, contentType: "application/merge-patch+json", body: `{"measures_taken":"Remote wipe; passwords changed."}`})
		do("affected customers", 200, call{method: "POST", path: inc + "/" + ir.ID + "/affected", token: h.owner, contentType: js, body: `{"customer_ids":["` + cref.ID + `"]}`})
		do("draft the notification", 200, get(inc+"/"+ir.ID+"/draft", h.owner))
		do("close undocumented", 409, call{method: "POST", path: inc + "/" + ir.ID + "/close", token: h.owner})
		do("report", 200, call{method: "POST", path: inc + "/" + ir.ID + "/report", token: h.owner, contentType: js, body: `{"reference":"IMY-2026-1"}`})
		do("close", 200, call{method: "POST", path: inc + "/" + ir.ID + "/close", token: h.owner})
		other = do("record a customer incident", 201, call{method: "POST", path: inc, token: h.owner, contentType: js, body: `{"kind":"customer_incident","title":"Customer site defaced"}`})
		json.Unmarshal(other.body, &ir)
		minor := do("record a minor breach", 201, call{method: "POST", path: inc, token: h.owner, contentType: js, body: `{"kind":"breach","title":"Mail sent to the wrong colleague","risk":"none"}`})
		var mr struct{ ID string }
		json.Unmarshal(minor.body, &mr)
		do("decide not to report", 200, call{method: "POST", path: inc + "/" + mr.ID + "/no-report", token: h.owner, contentType: js, body: `{"reason":"Unlikely to result in a risk: the recipient deleted it at once."}`})
		do("no-report on a customer incident", 409, call{method: "POST", path: inc + "/" + ir.ID + "/no-report", token: h.owner, contentType: js, body: `{"reason":"n/a"}`})

		// Recipients and the disclosure log.
		rec := "/api/v1/recipients"
		created = do("register a processor", 201, call{method: "POST", path: rec, token: h.owner, contentType: js, body: `{"name":"Mail provider","role":"processor","country":"US","transfer_basis":"scc","allowed_fields":["email","name"],"purposes":["newsletter"]}`})
		var rr struct{ ID string }
		json.Unmarshal(created.body, &rr)
		do("register outside the EEA without a basis", 422, call{method: "POST", path: rec, token: h.owner, contentType: js, body: `{"name":"X","role":"processor","country":"US"}`})
		do("list recipients", 200, get(rec, h.owner))
		do("read a recipient", 200, get(rec+"/"+rr.ID, h.owner))
		do("patch a recipient", 200, call{method: "PATCH", path: rec + "/" + rr.ID, token: h.owner, contentType: "application/merge-patch+json", body: `{"agreement_date":"2026-01-15"}`})
		do("disclosures of a customer", 200, get(cust+"/"+cref.ID+"/disclosures", h.owner))

		// Routes the document does not list.
		do("unknown route", 404, get("/api/v1/nothing-here", h.owner))
		do("unknown api version", 404, get("/api/v9/tokens", h.owner))
		do("wrong method", 405, call{method: "PUT", path: tokens, token: h.owner, contentType: js, body: `{}`})
		do("wrong method on a token", 405, get(tokens+"/x", h.owner))
		do("wrong method on system", 405, call{method: "POST", path: "/api/v1/system", token: h.owner, contentType: js, body: `{}`})

		// The database gone: the owner token is still cached, so handlers get to fail.
		st.Close()
		do("readiness without database", 503, get("/readyz", ""))
		do("system answers from memory", 200, get("/api/v1/system", h.owner))
		do("list without database", 500, get(tokens, h.owner))
		do("create without database", 500, post(h.owner, valid, nil))
		do("revoke without database", 500, del("no-such-token", h.owner))
		do("jobs without database", 500, get(jobsPath, h.owner))
		do("retry without database", 500, action(failedID, "retry", h.owner))
		do("cancel without database", 500, action(failedID, "cancel", h.owner))

		var unexercised []string
		for _, o := range spec.ops {
			success := false
			for status := range o.op.Responses {
				key := o.method + " " + o.template + " " + status
				if seen[key] {
					success = success || status[0] == '2'
				} else {
					unexercised = append(unexercised, key)
				}
			}
			if !success {
				t.Errorf("%s %s: no successful request exercised it; add one here", o.method, o.template)
			}
		}
		slices.Sort(unexercised)
		t.Logf("documented but not exercised: %v", unexercised)
	})
}

// TestOpenAPIDocument checks the document itself: OpenAPI 3.1.0, every schema
// compiles (so every $ref resolves), and the conventions the API promises.
func TestOpenAPIDocument(t *testing.T) {
	if !json.Valid(openAPI) {
		t.Fatal("openapi.json is not valid JSON")
	}
	spec := loadOpenAPI(t)
	d := spec.doc
	if d.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", d.OpenAPI)
	}
	if d.Info.Title != "Tillit API" || d.Info.Version != "1" {
		t.Errorf("info %+v", d.Info)
	}
	if b := d.Components.SecuritySchemes["bearer"]; b.Type != "http" || b.Scheme != "bearer" {
		t.Errorf("bearer security scheme %+v", b)
	}
	if len(d.Security) != 1 || d.Security[0]["bearer"] == nil {
		t.Errorf("the default security must be bearer: %v", d.Security)
	}

	// Every schema in the document compiles: components, parameters, headers, bodies.
	var generic any
	json.Unmarshal(openAPI, &generic)
	var walk func(v any, ptr string)
	walk = func(v any, ptr string) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, child := range m {
			p := ptr + "/" + pointerEscape(k)
			if k == "schema" || ptr == "/components/schemas" {
				if _, err := spec.schema(p); err != nil {
					t.Errorf("schema %s: %v", p, err)
				}
				continue
			}
			walk(child, p)
		}
	}
	walk(generic, "")

	// Response objects refuse undocumented fields.
	for name, sch := range d.Components.Schemas {
		if sch["type"] == "object" && sch["additionalProperties"] != false {
			t.Errorf("schema %s: want \"additionalProperties\": false", name)
		}
	}
	var roles []any
	for _, r := range security.Roles {
		roles = append(roles, string(r))
	}
	if got := d.Components.Schemas["Role"]["enum"]; !slices.Equal(got.([]any), roles) {
		t.Errorf("Role enum %v, want security.Roles %v", got, roles)
	}

	ids := map[string]bool{}
	pathParam := regexp.MustCompile(`\{([^}]+)\}`)
	for _, o := range spec.ops {
		where := o.method + " " + o.template
		if o.op.OperationID == "" || ids[o.op.OperationID] {
			t.Errorf("%s: operationId %q missing or not unique", where, o.op.OperationID)
		}
		ids[o.op.OperationID] = true
		if o.op.Summary == "" || o.op.Description == "" || len(o.op.Tags) == 0 {
			t.Errorf("%s: want a summary, a description and a tag", where)
		}
		hasSuccess := false
		for status, r := range o.op.Responses {
			// Exact codes only: a "default" or "4XX" would let any status pass.
			if _, err := strconv.Atoi(status); err != nil || len(status) != 3 {
				t.Errorf("%s: response %q: document exact status codes only", where, status)
				continue
			}
			hasSuccess = hasSuccess || status[0] == '2'
			r, rptr, ok := spec.response(r, o.ptr+"/responses/"+status)
			if !ok {
				t.Errorf("%s %s: response $ref does not resolve", where, status)
				continue
			}
			if status[0] >= '4' && strings.HasPrefix(o.template, "/api/") {
				media, ok := r.Content["application/problem+json"]
				var ref struct {
					Ref string `json:"$ref"`
				}
				json.Unmarshal(media.Schema, &ref)
				if !ok || ref.Ref != "#/components/schemas/Problem" {
					t.Errorf("%s %s (%s): want application/problem+json with the Problem schema", where, status, rptr)
				}
			}
		}
		if !hasSuccess {
			t.Errorf("%s: no success response", where)
		}
		if strings.HasPrefix(o.template, "/api/v1/") {
			if o.op.Security != nil {
				t.Errorf("%s: /api/v1 operations use the default bearer security", where)
			}
			if _, ok := o.op.Responses["401"]; !ok {
				t.Errorf("%s: a bearer operation must document 401", where)
			}
		}
		for _, m := range pathParam.FindAllStringSubmatch(o.template, -1) {
			found := false
			for _, p := range o.op.Parameters {
				found = found || p.In == "path" && p.Name == m[1]
			}
			if !found {
				t.Errorf("%s: path parameter %s is not declared", where, m[1])
			}
		}
	}
	for _, name := range []string{"NotFound", "MethodNotAllowed"} {
		if _, ok := d.Components.Responses[name]; !ok {
			t.Errorf("components/responses/%s is missing; unlisted API routes answer with it", name)
		}
	}
}

// TestOpenAPIMatchesRoutes holds the documented operations against the registered
// routes both ways. Registered routes are read from the package's source (every
// mux.Handle/HandleFunc call with a literal pattern), so a new route in routes.go or
// a room's file fails here until documented. Documented operations are then sent to
// the real handler, and the route pattern it matched (the route label of
// tillit_http_requests_total) must be the documented method and path.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	spec := loadOpenAPI(t)
	var documented []string
	for _, o := range spec.ops {
		documented = append(documented, o.method+" "+o.template)
	}
	registered := registeredRoutes(t)
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %q is registered but not documented in openapi.json", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(registered, d) {
			t.Errorf("operation %q is documented but no route registers it", d)
		}
	}

	h := newAPIHarness(t, storetest.SQLite(t))
	for _, o := range spec.ops {
		path := regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(o.template, "probe")
		h.do(call{method: o.method, path: path})
	}
	// Metrics are counted as the handler returns, which may be just after the client
	// has read the answer; give them a moment.
	var missing []string
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		// A trailing wildcard ({field...}) is documented as {field}.
		metrics := bytes.ReplaceAll(h.do(call{method: "GET", path: "/metrics"}).body, []byte("...}"), []byte("}"))
		missing = missing[:0]
		for _, d := range documented {
			if !bytes.Contains(metrics, []byte(`tillit_http_requests_total{route="`+d+`"`)) {
				missing = append(missing, d)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, d := range missing {
		t.Errorf("documented operation %q is not routed to that pattern by the real handler", d)
	}
}

// registeredRoutes reads the route patterns registered in this package's non-test
// source, normalised to "METHOD /path/{param}". The method-less "/" catch-all is
// left out: it answers the documented NotFound and MethodNotAllowed.
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	rooms, err := filepath.Glob("../*/http.go") // each room's JSON routes
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, rooms...)
	fset := token.NewFileSet()
	var routes []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				if recv, ok := sel.X.(*ast.Ident); ok && strings.Contains(strings.ToLower(recv.Name), "mux") {
					t.Errorf("%s: route pattern is not a string literal, so this test cannot check it is documented", fset.Position(call.Pos()))
				}
				return true
			}
			pattern, _ := strconv.Unquote(lit.Value)
			if pattern == "/" {
				return true
			}
			method, path, ok := strings.Cut(pattern, " ")
			if !ok || !strings.HasPrefix(path, "/") {
				t.Errorf("%s: route %q: register API routes as \"METHOD /path\"", fset.Position(call.Pos()), pattern)
				return true
			}
			path = strings.TrimSuffix(path, "{$}")
			path = strings.ReplaceAll(path, "...}", "}")
			if !strings.HasPrefix(path, "/api/") && path != "/healthz" && path != "/readyz" && path != "/metrics" {
				return true // HTML pages (console, portal, public pages) are not part of the JSON API
			}
			routes = append(routes, method+" "+path)
			return true
		})
	}
	if len(routes) == 0 {
		t.Fatal("found no routes in the package source")
	}
	return routes
}

func pointerEscape(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func isJSONMediaType(mt string) bool {
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
