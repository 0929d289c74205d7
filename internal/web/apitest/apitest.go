// Package apitest checks a room's OpenAPI fragment in the room's own tests: that the
// embedded fragment is the room's openapi.json, that it documents exactly the routes
// the room's http.go registers (method, path and x-permission), that every $ref in it
// resolves, and that real answers match the documented schemas.
//
// The fragment is read together with the components of the base document
// (internal/app/openapi.json), which the server merges it into, so references to
// shared components such as #/components/schemas/Problem resolve as they do in the
// served document.
//
//	f := apitest.LoadFragment(t, OpenAPI)
//	apitest.CheckRoutes(t, f, "http.go", 7)
//	f.CheckResponse(t, res.StatusCode, body, 200, "Customer")
package apitest

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const schemaPrefix = "#/components/schemas/"

// Fragment is a parsed room fragment: its paths, its own schemas merged with those of
// the other fragments given to LoadFragment, and the base document's components.
type Fragment struct {
	// Paths maps a path template to its operations by lower-case method.
	Paths map[string]map[string]map[string]any
	// Schemas holds the schemas of the fragment and of the fragments merged into it.
	Schemas map[string]map[string]any
	// Base holds the base document's components by kind ("schemas", "responses",
	// "headers", "parameters", ...) and name.
	Base map[string]map[string]any

	raw []byte
}

type document struct {
	Paths      map[string]map[string]map[string]any `json:"paths"`
	Components struct {
		Schemas map[string]map[string]any `json:"schemas"`
	} `json:"components"`
}

// LoadFragment parses data, a room's embedded fragment, after checking that it is
// byte for byte the openapi.json of the current directory (the room's). The schemas of
// the fragments in also (other rooms' fragments the room's schemas refer to) are
// merged in, as the server merges them; a schema defined twice, or also in the base
// document, fails the test.
func LoadFragment(t testing.TB, data []byte, also ...[]byte) Fragment {
	t.Helper()
	b, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, data) {
		t.Fatal("the embedded fragment is not openapi.json")
	}
	var d document
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	f := Fragment{Paths: d.Paths, Schemas: map[string]map[string]any{}, Base: loadBase(t), raw: data}
	add := func(schemas map[string]map[string]any) {
		for k, v := range schemas {
			if _, dup := f.Schemas[k]; dup {
				t.Fatalf("schema %s is defined twice", k)
			}
			if _, dup := f.Base["schemas"][k]; dup {
				t.Fatalf("schema %s is defined by the fragment and the base document", k)
			}
			f.Schemas[k] = v
		}
	}
	add(d.Components.Schemas)
	for i, o := range also {
		var od document
		if err := json.Unmarshal(o, &od); err != nil {
			t.Fatalf("fragment %d: %v", i, err)
		}
		add(od.Components.Schemas)
	}
	return f
}

// loadBase reads the components of internal/app/openapi.json, found from the module
// root above the current directory.
func loadBase(t testing.TB) map[string]map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), "internal", "app", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Components map[string]map[string]any `json:"components"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("base openapi.json: %v", err)
	}
	return d.Components
}

func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no go.mod above the current directory")
		}
		dir = up
	}
}

// resolve finds the component ref (#/components/<kind>/<name>) names, in the
// fragment's schemas or the base document's components.
func (f Fragment) resolve(ref string) (map[string]any, bool) {
	if name, ok := strings.CutPrefix(ref, schemaPrefix); ok {
		if s, ok := f.Schemas[name]; ok {
			return s, true
		}
	}
	rest, ok := strings.CutPrefix(ref, "#/components/")
	if !ok {
		return nil, false
	}
	kind, name, ok := strings.Cut(rest, "/")
	if !ok {
		return nil, false
	}
	c, ok := f.Base[kind][name].(map[string]any)
	return c, ok
}

// CheckRoutes parses the Go file httpGoFile (the room's http.go) and checks, in both
// directions, that every mux.Handle/HandleFunc pattern ("METHOD /path", a string
// literal) is documented with that method and path, and every documented operation is
// routed. A route wrapped as wrap(security.PermX, ...) must document
// x-permission: the value of security.PermX; one without must document none. Every
// operation has an operationId, summary, description and responses, the file
// registers exactly want routes, and every $ref of the fragment resolves.
func CheckRoutes(t testing.TB, f Fragment, httpGoFile string, want int) {
	t.Helper()
	perms := permissions(t)
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, httpGoFile, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var routed []string
	ast.Inspect(file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") || len(call.Args) != 2 {
			return true
		}
		at := fset.Position(call.Pos())
		lit, ok := call.Args[0].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			t.Errorf("%s: route pattern is not a string literal", at)
			return true
		}
		pattern, _ := strconv.Unquote(lit.Value)
		method, path, ok := strings.Cut(pattern, " ")
		if !ok || method == "" || method != strings.ToUpper(method) {
			t.Errorf("%s: route %q has no method", at, pattern)
			return true
		}
		path = strings.ReplaceAll(path, "...}", "}")
		key := strings.ToLower(method) + " " + path
		routed = append(routed, key)
		perm, permName := "", ""
		if w, ok := call.Args[1].(*ast.CallExpr); ok && len(w.Args) > 0 {
			if ps, ok := w.Args[0].(*ast.SelectorExpr); ok {
				if x, ok := ps.X.(*ast.Ident); ok && x.Name == "security" {
					permName = ps.Sel.Name
					if perm, ok = perms[permName]; !ok {
						t.Errorf("%s: security.%s is not a permission", key, permName)
					}
				}
			}
		}
		op, ok := f.Paths[path][strings.ToLower(method)]
		if !ok {
			t.Errorf("%s is routed but not documented", key)
			return true
		}
		if perm == "" {
			if xp, has := op["x-permission"]; has {
				t.Errorf("%s: x-permission %v, routed without one", key, xp)
			}
		} else if op["x-permission"] != perm {
			t.Errorf("%s: x-permission %v, routed with %s", key, op["x-permission"], perm)
		}
		for _, k := range []string{"operationId", "summary", "description", "responses"} {
			if op[k] == nil || op[k] == "" {
				t.Errorf("%s: no %s", key, k)
			}
		}
		return true
	})
	if len(routed) != want {
		t.Fatalf("found %d routes in %s, want %d", len(routed), httpGoFile, want)
	}
	for path, ops := range f.Paths {
		for method := range ops {
			if !slices.Contains(routed, method+" "+path) {
				t.Errorf("%s %s is documented but not routed", method, path)
			}
		}
	}
	var doc any
	if err := json.Unmarshal(f.raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, ref := range refs(doc, nil) {
		if _, ok := f.resolve(ref); !ok {
			t.Errorf("$ref %s does not resolve", ref)
		}
	}
}

// refs lists every $ref value under v, sorted.
func refs(v any, out []string) []string {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if r, ok := x[k].(string); ok && k == "$ref" {
				out = append(out, r)
				continue
			}
			out = refs(x[k], out)
		}
	case []any:
		for _, e := range x {
			out = refs(e, out)
		}
	}
	return out
}

// permissions maps the names of the Permission constants of internal/security to
// their values, read from its source.
func permissions(t testing.TB) map[string]string {
	t.Helper()
	dir := filepath.Join(moduleRoot(t), "internal", "security")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				if typ, ok := vs.Type.(*ast.Ident); !ok || typ.Name != "Permission" {
					continue
				}
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							out[n.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no Permission constants found in internal/security")
	}
	return out
}

// Validate checks v, a decoded JSON value, against the named schema of the fragment
// (or of the base document).
func (f Fragment) Validate(schema string, v any) error {
	return f.check(map[string]any{"$ref": schemaPrefix + schema}, v, schema)
}

// CheckResponse fails the test unless status is wantStatus and body is JSON matching
// the named schema.
func (f Fragment) CheckResponse(t testing.TB, status int, body string, wantStatus int, schema string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d: %s", status, wantStatus, body)
	}
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	if err := f.Validate(schema, v); err != nil {
		t.Fatalf("%v in %s", err, body)
	}
}

// check validates v against schema s: $ref (which must resolve), enum, type (a name
// or a union of names such as ["string", "null"]), and for objects required members
// and members not in properties (refused where additionalProperties is false, checked
// against it where it is a schema), and array items.
func (f Fragment) check(s map[string]any, v any, at string) error {
	if ref, ok := s["$ref"].(string); ok {
		sub, found := f.resolve(ref)
		if !found || !strings.HasPrefix(ref, schemaPrefix) {
			return fmt.Errorf("%s: $ref %s does not resolve to a schema", at, ref)
		}
		return f.check(sub, v, at)
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		return fmt.Errorf("%s: %v not in %v", at, v, enum)
	}
	if types := asStrings(s["type"]); len(types) > 0 && !slices.ContainsFunc(types, func(typ string) bool { return hasType(v, typ) }) {
		return fmt.Errorf("%s: %v is not of type %s", at, v, strings.Join(types, " or "))
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
				if err := f.check(ps, x[k], at+"/"+k); err != nil {
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
				if err := f.check(ap, x[k], at+"/"+k); err != nil {
					return err
				}
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, it := range x {
				if err := f.check(items, it, fmt.Sprintf("%s/%d", at, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// hasType reports whether v, as encoding/json decodes into any, is of JSON schema type
// typ. An unknown type name matches anything.
func hasType(v any, typ string) bool {
	switch typ {
	case "null":
		return v == nil
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "integer":
		n, ok := v.(float64)
		return ok && n == float64(int64(n))
	case "number":
		_, ok := v.(float64)
		return ok
	}
	return true
}

// asStrings reads a JSON string or array of strings.
func asStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Answer is an HTTP answer read whole.
type Answer struct {
	Status int
	Header http.Header
	Body   string
}

// Do sends method path (a JSON body when body is not empty) to the server at base and
// reads the whole answer.
func Do(t testing.TB, base, method, path, body string) Answer {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return Answer{res.StatusCode, res.Header, string(b)}
}

// Decode unmarshals a JSON answer into a T.
func Decode[T any](t testing.TB, a Answer) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(a.Body), &v); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, a.Body)
	}
	return v
}

// Count runs a COUNT query.
func Count(t testing.TB, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
