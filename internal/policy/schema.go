package policy

import (
	"encoding/json"
	"reflect"
)

// Schema returns the JSON Schema (draft 2020-12) of the policy file,
// generated from the Go types by reflection so that it cannot drift from
// them; docs/policy.schema.json is its committed output and a test keeps the
// two equal. Editors use it for completion and checks (yaml-language-server
// reads the `# yaml-language-server: $schema=` comment). The schema checks
// shape only; Parse is the authority on meaning.
func Schema() []byte {
	g := &schemaGen{defs: map[string]any{}}
	root := g.object(reflect.TypeFor[Policy]())
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = "https://tillit.example/schemas/policy.schema.json"
	root["title"] = "Tillit policy file"
	root["description"] = "One company's terms and privacy promises; see docs/policy.md."
	root["$defs"] = g.defs
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		panic(err) // only maps, slices and strings: cannot fail
	}
	return append(b, '\n')
}

type schemaGen struct{ defs map[string]any }

const durationPattern = `^([0-9]+y)?([0-9]+m)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+min)?$`

func (g *schemaGen) ref(name string, build func() map[string]any) map[string]any {
	if _, ok := g.defs[name]; !ok {
		g.defs[name] = map[string]any{} // placeholder against recursion
		g.defs[name] = build()
	}
	return map[string]any{"$ref": "#/$defs/" + name}
}

func (g *schemaGen) of(t reflect.Type) map[string]any {
	switch t {
	case reflect.TypeFor[Text]():
		return g.ref("Text", func() map[string]any {
			langs := map[string]any{}
			for _, l := range enums["Lang"] {
				langs[l] = map[string]any{"type": "string", "minLength": 1}
			}
			return map[string]any{
				"description": "A text for every language, or a map from language (sv, da, nb, en) to text.",
				"oneOf": []any{
					map[string]any{"type": "string"},
					map[string]any{"type": "object", "properties": langs, "additionalProperties": false, "minProperties": 1},
				},
			}
		})
	case reflect.TypeFor[Duration]():
		return g.ref("Duration", func() map[string]any {
			return map[string]any{"type": "string", "pattern": durationPattern, "minLength": 2,
				"description": "Number-unit pairs, largest unit first: 7y, 1y6m, 30d, 2w, 4h, 15min.", "examples": []any{"1y", "30d", "4h"}}
		})
	case reflect.TypeFor[Lifetime]():
		return g.ref("Lifetime", func() map[string]any {
			return map[string]any{"description": "A duration or session.",
				"anyOf": []any{map[string]any{"const": "session"}, g.of(reflect.TypeFor[Duration]())}}
		})
	case reflect.TypeFor[Retention]():
		return g.ref("Retention", func() map[string]any {
			return map[string]any{
				"description": "bookkeeping_law (the country's statutory bookkeeping retention) or a period after an event.",
				"oneOf": []any{
					map[string]any{"const": RetentionBookkeepingLaw},
					g.object(reflect.TypeFor[retentionFields]()),
				},
			}
		})
	case reflect.TypeFor[Country]():
		return g.ref("Country", func() map[string]any {
			return map[string]any{"type": "string", "pattern": "^[A-Z]{2}$", "description": "ISO 3166-1 alpha-2 code, upper case."}
		})
	}
	if vals, ok := enums[t.Name()]; ok && t.Kind() == reflect.String {
		return g.ref(t.Name(), func() map[string]any {
			e := make([]any, len(vals))
			for i, v := range vals {
				e[i] = v
			}
			return map[string]any{"type": "string", "enum": e}
		})
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.of(t.Elem())
	case reflect.Struct:
		return g.ref(t.Name(), func() map[string]any { return g.object(t) })
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.of(t.Elem())}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Int:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	}
	panic("policy: schema: unsupported type " + t.String())
}

func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []any
	for _, f := range fieldsOf(t) {
		props[f.key] = g.of(t.Field(f.index).Type)
		if f.required {
			required = append(required, f.key)
		}
	}
	o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}
