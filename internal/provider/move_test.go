package provider

import (
	"encoding/json"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// TestMovePostgresqlRoleToRole: a postgresql_role's state becomes an
// azurepg_role's model without a server (the refresh after the move reads
// it): the attributes both have are copied, postgresql_role's "infinity"
// is an unset valid_until, and the password stays behind. A state without
// a name is refused. (Principals and memberships move in
// principal_move_test.go and role_membership_move_test.go, through
// Terraform.)
func TestMovePostgresqlRoleToRole(t *testing.T) {
	var src postgresqlRoleState
	if err := json.Unmarshal([]byte(`{"name":"app \"owner\"","login":false,"inherit":true,"create_database":true,
		"create_role":false,"connection_limit":-1,"valid_until":"infinity","password":"not copied"}`), &src); err != nil {
		t.Fatal(err)
	}
	if what := roleNameMissing(src); what != "" {
		t.Fatalf("a state with a name lacks %q", what)
	}
	var diags diag.Diagnostics
	m, ok := movePostgresqlRoleToRole(src, &diags)
	if !ok || diags.HasError() {
		t.Fatalf("not moved: %v", diags)
	}
	name := types.StringValue(`app "owner"`)
	want := roleModel{
		ID: name, Name: name,
		Login: types.BoolValue(false), Inherit: types.BoolValue(true), CreateDatabase: types.BoolValue(true), CreateRole: types.BoolValue(false),
		ConnectionLimit: types.Int64Value(-1), ValidUntil: types.StringNull(),
		PasswordWO: types.StringNull(), PasswordWOVersion: types.Int64Null(), ReassignOwnedTo: types.StringNull(),
	}
	if m != want {
		t.Errorf("moved to %+v, want %+v", m, want)
	}

	src.ValidUntil = new(string)
	*src.ValidUntil = "2030-01-01T00:00:00Z"
	if m, _ := movePostgresqlRoleToRole(src, &diags); m.ValidUntil.ValueString() != "2030-01-01T00:00:00Z" {
		t.Errorf("valid_until moved as %v", m.ValidUntil)
	}
	for _, s := range []postgresqlRoleState{{}, {Name: new(string)}} {
		if roleNameMissing(s) != "role name" {
			t.Errorf("a state without a name (%+v) is not refused", s)
		}
	}
}
