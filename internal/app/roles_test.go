package app

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"tillit/internal/docsync"
	"tillit/internal/security"
	"tillit/internal/store/storetest"
)

// apiPermissions reads the permission each API operation needs from the OpenAPI
// document's x-permission, keyed "METHOD /path".
func apiPermissions(t *testing.T) map[string]security.Permission {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			Permission string `json:"x-permission"`
			Security   *[]any `json:"security"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]security.Permission{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if !strings.HasPrefix(path, "/api/v1/") {
				continue
			}
			if op.Permission == "" {
				t.Errorf("%s %s has no x-permission", strings.ToUpper(method), path)
			}
			out[strings.ToUpper(method)+" "+path] = security.Permission(op.Permission)
		}
	}
	return out
}

// routeTable renders the route x permission list of docs/roles.md.
func routeTable(perms map[string]security.Permission) string {
	keys := make([]string, 0, len(perms))
	for k := range perms {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		pi, pj := strings.SplitN(keys[i], " ", 2)[1], strings.SplitN(keys[j], " ", 2)[1]
		if pi != pj {
			return pi < pj
		}
		return keys[i] < keys[j]
	})
	var b strings.Builder
	b.WriteString("| route | permission |\n|---|---|\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "| `%s` | `%s` |\n", k, perms[k])
	}
	return b.String()
}

// TestRoleMatrix walks every API route with a token of every role and fails on any
// cell that differs from the documented table (issue 4, item 2): a role whose grants
// include the route's permission is never refused with 403, and any other role always is.
func TestRoleMatrix(t *testing.T) {
	perms := apiPermissions(t)
	docsync.Check(t, "../../docs/roles.md", "routes", routeTable(perms), *update)
	st := storetest.SQLite(t)
	h := newAPIHarness(t, st)
	tokens := security.NewTokens(st, nil)
	for _, role := range security.Roles {
		raw, _, err := tokens.Create(context.Background(), "matrix "+string(role), role, 0)
		if err != nil {
			t.Fatal(err)
		}
		for route, perm := range perms {
			method, path, _ := strings.Cut(route, " ")
			path = strings.ReplaceAll(path, "{id}", "no-such-id")
			c := call{method: method, path: path, token: raw}
			if method == "POST" {
				c.contentType, c.body = "application/json", "{}"
			}
			a := h.do(c)
			allowed := role.Can(perm)
			if allowed && a.status == 403 {
				t.Errorf("%s: %s refused (403) though the role has %s: %s", role, route, perm, a.body)
			}
			if !allowed && a.status != 403 {
				t.Errorf("%s: %s answered %d, want 403 (the role lacks %s)", role, route, a.status, perm)
			}
		}
	}
}
