package security

import (
	"slices"
	"strings"
)

// Role names a set of permissions. Staff accounts and API tokens each carry one.
type Role string

const (
	RoleOwner    Role = "owner"
	RoleAdmin    Role = "admin"
	RoleSupport  Role = "support"
	RoleBilling  Role = "billing"
	RoleAuditor  Role = "auditor"
	RoleReadOnly Role = "readonly"
)

// Roles lists every role in the order of docs/roles.md.
var Roles = []Role{RoleOwner, RoleAdmin, RoleSupport, RoleBilling, RoleAuditor, RoleReadOnly}

// Permission names one action a route or command performs.
type Permission string

const (
	PermCustomersRead  Permission = "customers.read"  // open a customer's personal data, with a stated reason
	PermCustomersWrite Permission = "customers.write" // create customers and change their master data
	PermStaffManage    Permission = "staff.manage"    // add, list, disable staff; reset their passwords
	PermTokensManage   Permission = "tokens.manage"   // create, list and revoke API tokens
	PermJobsRead       Permission = "jobs.read"       // see the job queue, failed jobs included
	PermJobsManage     Permission = "jobs.manage"     // retry or cancel jobs
	PermMailRead       Permission = "mail.read"       // see the outbox (no addresses or bodies)
	PermSystemRead     Permission = "system.read"     // version, schema and configuration (secrets masked)
)

// grants is the role x permission table. docs/roles.md shows the same table and a
// test keeps the two equal.
var grants = map[Role][]Permission{
	RoleOwner:    {PermCustomersRead, PermCustomersWrite, PermStaffManage, PermTokensManage, PermJobsRead, PermJobsManage, PermMailRead, PermSystemRead},
	RoleAdmin:    {PermCustomersRead, PermCustomersWrite, PermTokensManage, PermJobsRead, PermJobsManage, PermMailRead, PermSystemRead},
	RoleSupport:  {PermCustomersRead, PermCustomersWrite, PermSystemRead},
	RoleBilling:  {PermCustomersRead, PermSystemRead},
	RoleAuditor:  {PermJobsRead, PermMailRead, PermSystemRead},
	RoleReadOnly: {PermJobsRead, PermSystemRead},
}

// Permissions lists every permission in the order of docs/roles.md.
var Permissions = []Permission{PermCustomersRead, PermCustomersWrite, PermStaffManage, PermTokensManage, PermJobsRead, PermJobsManage, PermMailRead, PermSystemRead}

// Can reports whether role grants perm.
func (r Role) Can(p Permission) bool { return slices.Contains(grants[r], p) }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { _, ok := grants[r]; return ok }

// Principal is who is acting: an API token or, later, a staff session.
type Principal struct {
	Kind string // "token"
	ID   string
	Name string
	Role Role
}

// RoleTable renders the role x permission table of docs/roles.md.
func RoleTable() string {
	var b strings.Builder
	b.WriteString("| permission |")
	for _, r := range Roles {
		b.WriteString(" " + string(r) + " |")
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(Roles)) + "\n")
	for _, p := range Permissions {
		b.WriteString("| `" + string(p) + "` |")
		for _, r := range Roles {
			if r.Can(p) {
				b.WriteString(" yes |")
			} else {
				b.WriteString(" no |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
