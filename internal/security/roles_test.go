package security

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite generated documentation")

// docs/roles.md documents the role x permission table; the code is the same table.
func TestRolesDocMatchesGrants(t *testing.T) {
	const path = "../../docs/roles.md"
	const begin, end = "<!-- roles:begin -->\n", "<!-- roles:end -->"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the roles markers", path)
	}
	want := doc[:i+len(begin)] + RoleTable() + doc[j:]
	if *update {
		os.WriteFile(path, []byte(want), 0o644)
		return
	}
	if doc != want {
		t.Fatalf("%s differs from the grants in roles.go; run go test ./internal/security -run RolesDoc -update after checking the change is intended", path)
	}
}

func TestEveryRoleAndPermissionIsKnown(t *testing.T) {
	for _, r := range Roles {
		if !r.Valid() {
			t.Errorf("role %s has no grants entry", r)
		}
		for _, p := range grants[r] {
			found := false
			for _, q := range Permissions {
				found = found || p == q
			}
			if !found {
				t.Errorf("role %s grants %s, which Permissions does not list", r, p)
			}
		}
	}
	if Role("king").Valid() || Role("king").Can(PermJobsRead) {
		t.Error("an unknown role is valid")
	}
}
