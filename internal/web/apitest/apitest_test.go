package apitest

import (
	"strings"
	"testing"
)

// The checker refuses each kind of mismatch it claims to check and accepts a value
// that fits.
func TestValidate(t *testing.T) {
	f := Fragment{
		Schemas: map[string]map[string]any{
			"Thing": {
				"type":                 "object",
				"additionalProperties": false,
				"required":             []any{"id", "kind"},
				"properties": map[string]any{
					"id":    map[string]any{"type": "string"},
					"kind":  map[string]any{"enum": []any{"a", "b"}},
					"n":     map[string]any{"type": "integer"},
					"note":  map[string]any{"type": []any{"string", "null"}},
					"tags":  map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
					"err":   map[string]any{"$ref": "#/components/schemas/Problem"},
					"extra": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "boolean"}},
					"lost":  map[string]any{"$ref": "#/components/schemas/Nowhere"},
				},
			},
		},
		Base: map[string]map[string]any{"schemas": {"Problem": map[string]any{"type": "object", "required": []any{"type"}}}},
	}
	good := map[string]any{"id": "x", "kind": "a", "n": 2.0, "note": nil, "tags": []any{"t"},
		"err": map[string]any{"type": "p"}, "extra": map[string]any{"on": true}}
	if err := f.Validate("Thing", good); err != nil {
		t.Fatal(err)
	}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range good {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, c := range []struct {
		v    any
		want string
	}{
		{"x", "not of type object"},
		{with("id", nil), "required member id missing"},
		{with("other", 1.0), "member other is not in the schema"},
		{with("kind", "c"), "not in"},
		{with("n", 1.5), "not of type integer"},
		{with("note", 3.0), "not of type string or null"},
		{with("tags", []any{1.0}), "Thing/tags/0"},
		{with("err", map[string]any{}), "required member type missing"},
		{with("extra", map[string]any{"on": "yes"}), "Thing/extra/on"},
		{with("lost", 1.0), "does not resolve"},
	} {
		if err := f.Validate("Thing", c.v); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.v, err, c.want)
		}
	}
	if err := f.Validate("Missing", good); err == nil {
		t.Error("an unknown schema validates")
	}
}

// The Permission constants are read from internal/security.
func TestPermissions(t *testing.T) {
	p := permissions(t)
	if p["PermCustomersRead"] != "customers.read" || p["PermSystemRead"] != "system.read" {
		t.Fatalf("%v", p)
	}
}
