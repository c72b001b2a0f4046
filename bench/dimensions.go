package bench

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// A Dimension is one resource type measured against its no-op stand-in
// (bench/noop), on loopback and through the latency proxy, at N of its own
// (a -<name>-n flag of cmd/bench). Each has three configurations: the
// no-op, azurepg, and azurepg through the proxy.
type Dimension struct {
	// Name names the dimension in the report and in its flag (-grants-n).
	Name string
	// Resource is the azurepg resource type measured.
	Resource string
	// Noop, Azurepg and RTT are its configurations (kinds).
	Noop, Azurepg, RTT string
	// What says in the report what the N resources are.
	What string
}

// Kinds are the dimension's configurations, in table order.
func (d Dimension) Kinds() []string { return []string{d.Noop, d.Azurepg, d.RTT} }

func (d Dimension) has(kind string) bool { return kind == d.Noop || kind == d.Azurepg || kind == d.RTT }

// The grants dimension: N azurepg_grant (each on one table, owned by a role
// the admin is a member of) against noop_grant, at Options.GrantCounts.
const (
	KindAzurepgGrant = "azurepg_grant"
	KindNoopGrant    = "noop_grant"
	// KindAzurepgGrantRTT is azurepg_grant through the latency proxy.
	KindAzurepgGrantRTT = "azurepg_grant_rtt"
)

// The roles dimension: N azurepg_role (NOLOGIN roles the provider creates)
// against noop_role, at Options.RoleCounts.
const (
	KindAzurepgRole    = "azurepg_role"
	KindNoopRole       = "noop_role"
	KindAzurepgRoleRTT = "azurepg_role_rtt"
)

// The memberships dimension: N azurepg_role_membership (N seeded roles made
// members of one seeded group role) against noop_role_membership, at
// Options.MembershipCounts.
const (
	KindAzurepgMembership    = "azurepg_role_membership"
	KindNoopMembership       = "noop_role_membership"
	KindAzurepgMembershipRTT = "azurepg_role_membership_rtt"
)

// The dimensions beside the principals.
var (
	DimGrants = Dimension{Name: "grants", Resource: "azurepg_grant", Noop: KindNoopGrant, Azurepg: KindAzurepgGrant, RTT: KindAzurepgGrantRTT,
		What: "each `SELECT` for one role on one table of the schema `bench` (database `postgres`); the tables belong to `bench_owner`, " +
			"of which the Entra admin is a member, so each write acts as the owner"}
	DimRoles = Dimension{Name: "roles", Resource: "azurepg_role", Noop: KindNoopRole, Azurepg: KindAzurepgRole, RTT: KindAzurepgRoleRTT,
		What: "each a `NOLOGIN` role that the provider creates (`bench-role-00001`, ...) and drops on destroy"}
	DimMemberships = Dimension{Name: "memberships", Resource: "azurepg_role_membership", Noop: KindNoopMembership,
		Azurepg: KindAzurepgMembership, RTT: KindAzurepgMembershipRTT,
		What: "N roles seeded by the benchmark (`bench-member-00001`, ...), each made a member of the one group role `bench_group`"}
)

// Dimensions in the order they run and the report shows them.
var Dimensions = []Dimension{DimGrants, DimRoles, DimMemberships}

// GrantKinds, RoleKinds and MembershipKinds are the dimensions' configurations.
var (
	GrantKinds      = DimGrants.Kinds()
	RoleKinds       = DimRoles.Kinds()
	MembershipKinds = DimMemberships.Kinds()
)

// AllKinds are every configuration, in the order they run (the default).
func AllKinds() []string {
	out := slices.Clone(Kinds)
	for _, d := range Dimensions {
		out = append(out, d.Kinds()...)
	}
	return out
}

// dimensionOf is the dimension a kind belongs to (false for the principals' kinds).
func dimensionOf(kind string) (Dimension, bool) {
	for _, d := range Dimensions {
		if d.has(kind) {
			return d, true
		}
	}
	return Dimension{}, false
}

func isDimensionKind(kind string) bool { _, ok := dimensionOf(kind); return ok }

// counts are the N a dimension runs at (GrantCounts, RoleCounts or MembershipCounts).
func (o *Options) counts(d Dimension) *[]int {
	switch d.Name {
	case DimRoles.Name:
		return &o.RoleCounts
	case DimMemberships.Name:
		return &o.MembershipCounts
	}
	return &o.GrantCounts
}

// DimensionCounts are the N a dimension ran at (empty when it did not run).
func (r *Result) DimensionCounts(d Dimension) []int {
	switch d.Name {
	case DimRoles.Name:
		return r.RoleCounts
	case DimMemberships.Name:
		return r.MembershipCounts
	}
	return r.GrantCounts
}

func (r *Result) setDimensionCounts(d Dimension, counts []int) {
	switch d.Name {
	case DimRoles.Name:
		r.RoleCounts = counts
	case DimMemberships.Name:
		r.MembershipCounts = counts
	default:
		r.GrantCounts = counts
	}
}

// Names of what the grants dimension seeds on the server (database postgres).
const (
	grantSchema  = "bench"
	grantOwner   = "bench_owner"
	grantGrantee = "bench-reader@contoso.com"
	grantTable   = "t%05d" // as format() in HCL; seedGrantTables writes the same names
)

// Names of the roles dimension (the provider creates them) and of what the
// memberships dimension seeds.
const (
	roleNameFormat   = "bench-role-%05d"
	membershipGroup  = "bench_group"
	memberNameFormat = "bench-member-%05d" // seedMembers writes the same names
)

// dimensionConfiguration is main.tf for n resources of a dimension's kind.
func dimensionConfiguration(d Dimension, kind string, n int) string {
	provider, source, block := "azurepg", "azurepg/azurepg", "provider \"azurepg\" {}\n\n"
	if kind == d.Noop {
		provider, source, block = "noop", "azurepg/noop", ""
	}
	head := fmt.Sprintf("terraform {\n  required_providers {\n    %s = { source = %q }\n  }\n}\n\n%s", provider, source, block)
	switch d.Name {
	case DimRoles.Name:
		return head + fmt.Sprintf(`resource "%s_role" "r" {
  count = %d
  name  = format(%q, count.index + 1)
}
`, provider, n, roleNameFormat)
	case DimMemberships.Name:
		return head + fmt.Sprintf(`resource "%s_role_membership" "m" {
  count  = %d
  role   = %q
  member = format(%q, count.index + 1)
}
`, provider, n, membershipGroup, memberNameFormat)
	}
	return head + fmt.Sprintf(`resource "%[1]s_grant" "g" {
  count       = %[2]d
  role        = %[3]q
  database    = "postgres"
  object_type = "table"
  schema      = %[4]q
  objects     = [format(%[5]q, count.index + 1)]
  privileges  = ["SELECT"]
}
`, provider, n, grantGrantee, grantSchema, grantTable)
}

// seed creates, as the superuser, what a dimension's resources refer to,
// for up to n of them (setOnly: see seedGrantTables).
func seed(ctx context.Context, em *emulator.Emulator, d Dimension, n int, setOnly bool) error {
	switch d.Name {
	case DimGrants.Name:
		return seedGrantTables(ctx, em, n, setOnly)
	case DimMemberships.Name:
		return seedMembers(ctx, em, n)
	}
	return nil // the provider creates the roles
}

// seedGrantTables creates, as the superuser, n tables in the schema bench
// of the database postgres, owned by bench_owner, of which the Entra admin
// is made a member, and the role that the grants are for. The membership
// inherits (the admin has the owner's privileges), or, with setOnly
// (PostgreSQL 16+), it has SET and not INHERIT, as the admin holds the
// roles it creates there (an azurepg_role owning a schema): the admin then
// grants as the owner by SET ROLE.
func seedGrantTables(ctx context.Context, em *emulator.Emulator, n int, setOnly bool) error {
	options := ""
	if setOnly {
		if em.PGMajor() < 16 {
			return fmt.Errorf("-grants-set-only needs PostgreSQL 16 or later (PG_MAJOR=17); the emulator runs %d", em.PGMajor())
		}
		options = " WITH INHERIT FALSE, SET TRUE"
	}
	_, err := em.Superuser().Exec(ctx, fmt.Sprintf(`
CREATE ROLE %[1]s;
CREATE ROLE %[2]s;
GRANT %[1]s TO %[3]s%[6]s;
CREATE SCHEMA %[4]s AUTHORIZATION %[1]s;
SET ROLE %[1]s;
DO $$ BEGIN
  FOR i IN 1..%[5]d LOOP
    EXECUTE format('CREATE TABLE %[4]s.%%I (id int)', 't' || lpad(i::text, 5, '0')); -- grantTable
  END LOOP;
END $$;
RESET ROLE;`, pgx.Identifier{grantOwner}.Sanitize(), pgx.Identifier{grantGrantee}.Sanitize(), pgx.Identifier{em.AdminName()}.Sanitize(),
		pgx.Identifier{grantSchema}.Sanitize(), n, options))
	if err != nil {
		return fmt.Errorf("creating %d tables for the grants: %w", n, err)
	}
	return nil
}

// seedMembers creates, as the superuser, the group role and n NOLOGIN
// roles to make members of it, in one statement. The Entra admin grants
// the group as Azure's admin would: by CREATEROLE on PostgreSQL 15, by the
// azure_pg_admin enhancement on 16+ (the emulator models both).
func seedMembers(ctx context.Context, em *emulator.Emulator, n int) error {
	_, err := em.Superuser().Exec(ctx, fmt.Sprintf(`
CREATE ROLE %[1]s;
DO $$ BEGIN
  FOR i IN 1..%[2]d LOOP
    EXECUTE format('CREATE ROLE %%I', 'bench-member-' || lpad(i::text, 5, '0')); -- memberNameFormat
  END LOOP;
END $$;`, pgx.Identifier{membershipGroup}.Sanitize(), n))
	if err != nil {
		return fmt.Errorf("creating %d roles for the memberships: %w", n, err)
	}
	return nil
}

// check checks the server side after each phase of a dimension's azurepg
// configuration: n resources after apply and the plans, none after destroy.
func (r *runner) check(ctx context.Context, d Dimension, phase string, n int) error {
	var query, what string
	var args []any
	switch d.Name {
	case DimGrants.Name:
		query, what = `SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace,
			aclexplode(c.relacl) x WHERE s.nspname = $1 AND x.grantee = (SELECT oid FROM pg_roles WHERE rolname = $2) AND x.privilege_type = 'SELECT'`,
			"tables the grantee holds SELECT on"
		args = []any{grantSchema, grantGrantee}
	case DimRoles.Name:
		// NOLOGIN, no Entra label: what azurepg_role creates by default.
		query, what = `SELECT count(*) FROM pg_roles r WHERE r.rolname LIKE 'bench-role-%' AND NOT r.rolcanlogin
			AND NOT EXISTS (SELECT 1 FROM pg_shseclabel s WHERE s.objoid = r.oid AND s.provider LIKE 'pgaadauth%')`,
			"NOLOGIN bench roles"
	case DimMemberships.Name:
		query, what = `SELECT count(*) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
			WHERE g.rolname = $1 AND u.rolname LIKE 'bench-member-%'`, "members of "+membershipGroup
		args = []any{membershipGroup}
	}
	var got int
	if err := r.em.Superuser().QueryRow(ctx, query, args...).Scan(&got); err != nil {
		return err
	}
	want := n
	if phase == PhaseDestroy {
		want = 0
	}
	if got != want {
		return fmt.Errorf("after %s the server has %d %s, want %d", phase, got, what, want)
	}
	return nil
}
