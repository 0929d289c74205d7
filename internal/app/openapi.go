package app

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"tillit/internal/consent"
	"tillit/internal/customer"
	"tillit/internal/disclosure"
	"tillit/internal/incident"
	"tillit/internal/policy"
	"tillit/internal/privacy"
)

//go:embed openapi.json
var openAPIBase []byte

// openAPI is the document served at /api/openapi.json: the platform's own part with
// each room's paths and schemas merged in, so a room documents its routes beside them.
var openAPI = mustMergeOpenAPI(openAPIBase, customer.OpenAPI, policy.OpenAPI, privacy.OpenAPI, consent.OpenAPI, incident.OpenAPI, disclosure.OpenAPI)

func mustMergeOpenAPI(base []byte, rooms ...[]byte) []byte {
	b, err := mergeOpenAPI(base, rooms...)
	if err != nil {
		panic(err)
	}
	return b
}

func mergeOpenAPI(base []byte, rooms ...[]byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	paths := doc["paths"].(map[string]any)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	tags := map[string]bool{}
	for _, t := range doc["tags"].([]any) {
		tags[t.(map[string]any)["name"].(string)] = true
	}
	for i, room := range rooms {
		var frag struct {
			Paths      map[string]any `json:"paths"`
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(room, &frag); err != nil {
			return nil, fmt.Errorf("room document %d: %w", i, err)
		}
		for p, ops := range frag.Paths {
			if _, dup := paths[p]; dup {
				return nil, fmt.Errorf("path %s is documented twice", p)
			}
			paths[p] = ops
		}
		for n, s := range frag.Components.Schemas {
			if _, dup := schemas[n]; dup {
				return nil, fmt.Errorf("schema %s is defined twice", n)
			}
			schemas[n] = s
		}
	}
	// Every API operation may answer 429 (rate-limited authentication), and every
	// tag used gets a declaration.
	for p, ops := range paths {
		for _, op := range ops.(map[string]any) {
			o, ok := op.(map[string]any)
			if !ok {
				continue
			}
			if strings.HasPrefix(p, "/api/v1/") {
				o["responses"].(map[string]any)["429"] = map[string]any{"$ref": "#/components/responses/TooManyRequests"}
			}
			for _, t := range asSlice(o["tags"]) {
				if name := t.(string); !tags[name] {
					tags[name] = true
					doc["tags"] = append(doc["tags"].([]any), map[string]any{"name": name, "description": name + "."})
				}
			}
		}
	}
	return json.MarshalIndent(doc, "", "  ")
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
