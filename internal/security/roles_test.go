package security

import (
	"flag"
	"testing"

	"tillit/internal/docsync"
)

var update = flag.Bool("update", false, "rewrite generated documentation")

// docs/roles.md documents the role x permission table; the code is the same table.
func TestRolesDocMatchesGrants(t *testing.T) {
	docsync.Check(t, "../../docs/roles.md", "roles", RoleTable(), *update)
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
