package provider_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// words matches each text in turn (anything may come between them),
// whatever line breaks Terraform puts between their words.
func words(texts ...string) *regexp.Regexp {
	var pats []string
	for _, text := range texts {
		ws := strings.Fields(text)
		for i, w := range ws {
			ws[i] = regexp.QuoteMeta(w)
		}
		pats = append(pats, strings.Join(ws, `\s+`))
	}
	return regexp.MustCompile(`(?s)` + strings.Join(pats, `.*`))
}

func onePrincipal(name, extra string) string {
	return principalConfig(fmt.Sprintf(`resource "azurepg_principal" "p" {
  name = %q
  %s
}`, name, extra))
}

// TestPrincipalResourceCreateErrors: Azure's refusals reach the user with
// Azure's words and the name, and leave no role behind.
func TestPrincipalResourceCreateErrors(t *testing.T) {
	acctest.Emulator(t)
	missing := acctest.Name("nobody") + "@contoso.com"
	mismatch := acctest.NewObject(t, "user", "acc-mismatch")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, missing, mismatch.Name),
		Steps: []resource.TestStep{
			{
				Config: onePrincipal(missing, ""),
				ExpectError: words("Name not found in the Microsoft Entra tenant",
					"creating principal \""+missing+"\": Could not validate AAD user "+missing+
						" because its name is not found in the tenant. Make sure that the user exists in the tenant."),
			},
			{
				Config:      onePrincipal("Shared Name", ""),
				ExpectError: words("Name matches more than one Microsoft Entra object"),
			},
			{
				Config:      onePrincipal("broken@contoso.com", ""),
				ExpectError: words("An unexpected error occurred while trying to validate user (SQLSTATE 0LP01)"),
			},
			{
				Config:      onePrincipal(mismatch.Name, `type = "group"`),
				ExpectError: words(`The tenant says this name is a user, but type is "group". Nothing was created.`),
			},
		},
	})
	for _, n := range []string{missing, "Shared Name", "broken@contoso.com", mismatch.Name} {
		if acctest.RoleExists(t, n) {
			t.Errorf("role %q was created", n)
		}
	}
}

// TestPrincipalResourceAlreadyExists: creating a role that exists fails with
// the import commands (quoted for the shell and for HCL) and drops nothing.
func TestPrincipalResourceAlreadyExists(t *testing.T) {
	acctest.Emulator(t)
	o := acctest.NewObject(t, "group", `acc o'brien "dup"`)
	acctest.SuperExec(t, "postgres", "SELECT pgaadauth_create_principal($1, false, true)", o.Name)
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{o.Name}.Sanitize()) })
	shell := "'" + strings.ReplaceAll(o.Name, "'", `'\''`) + "'"
	hcl := `"` + strings.ReplaceAll(o.Name, `"`, `\"`) + `"`
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		Steps: []resource.TestStep{{
			Config: onePrincipal(o.Name, "admin = true"),
			ExpectError: words("Role already exists", `role "`+o.Name+`" already exists (SQLSTATE 42710)`, // PostgreSQL does not escape the quotes
				"terraform import 'azurepg_principal.<name>' "+shell,
				"import {", "to = azurepg_principal.<name>", "id = "+hcl),
		}},
	})
	// The existing role is untouched: still there, still not an admin.
	if got := readServerPrincipal(t, o.Name); got.label != "aadauth,mfa" || got.inAdminRole {
		t.Fatalf("the existing role changed: %+v", got)
	}
}

// TestPrincipalResourceOwnedObjects: deleting a role that owns objects,
// without reassign_owned_to, fails naming them and changes nothing.
func TestPrincipalResourceOwnedObjects(t *testing.T) {
	acctest.Emulator(t)
	o := acctest.NewObject(t, "user", "acc-owner")
	table := pgx.Identifier{acctest.Name("owned_table")}.Sanitize()
	role := pgx.Identifier{o.Name}.Sanitize()
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, o.Name),
		Steps: []resource.TestStep{
			{Config: onePrincipal(o.Name, "")},
			{
				PreConfig: func() {
					acctest.SuperExec(t, "postgres", "CREATE TABLE "+table+" (); ALTER TABLE "+table+" OWNER TO "+role)
				},
				Config: principalConfig(""),
				ExpectError: words("Role owns objects that need a new owner", "table "+table, `(database "postgres")`,
					"Nothing was changed. Set reassign_owned_to on this resource"),
			},
			{
				PreConfig: func() {
					if !acctest.RoleExists(t, o.Name) {
						t.Fatal("the role is gone although the drop failed")
					}
					acctest.SuperExec(t, "postgres", "DROP TABLE "+table)
				},
				Config: principalConfig(""),
				Check:  func(*terraform.State) error { return checkRolesGone(t, o.Name)(nil) },
			},
		},
	})
}

// TestPrincipalResourceHostileName: a name that would be SQL if it were
// concatenated is created verbatim, and nothing else changes.
func TestPrincipalResourceHostileName(t *testing.T) {
	acctest.Emulator(t)
	victim := acctest.Name("victim")
	acctest.SuperExec(t, "postgres", "CREATE ROLE "+pgx.Identifier{victim}.Sanitize())
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{victim}.Sanitize()) })
	hostile := acctest.NewObject(t, "group", `x"; DROP ROLE `+victim+`; --`)
	byOID := acctest.Name(`y'); DROP ROLE ` + victim + `; --`)
	if len(hostile.Name) > 63 || len(byOID) > 63 {
		t.Fatalf("test names too long: %d, %d bytes", len(hostile.Name), len(byOID))
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, hostile.Name, byOID),
		Steps: []resource.TestStep{{
			Config: principalConfig(
				fmt.Sprintf(`resource "azurepg_principal" "by_name" {
  name = %q
}`, hostile.Name),
				fmt.Sprintf(`resource "azurepg_principal" "by_oid" {
  name      = %q
  type      = "group"
  object_id = %q
}`, byOID, hostile.ObjectID)),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("azurepg_principal.by_name", tfjsonpath.New("id"), knownvalue.StringExact(hostile.Name)),
				statecheck.ExpectKnownValue("azurepg_principal.by_oid", tfjsonpath.New("id"), knownvalue.StringExact(byOID)),
			},
			Check: resource.ComposeAggregateTestCheckFunc(
				checkServerPrincipal(t, hostile.Name, "group", hostile.ObjectID, false, false),
				checkServerPrincipal(t, byOID, "group", hostile.ObjectID, false, false),
				func(*terraform.State) error {
					if !acctest.RoleExists(t, victim) {
						return fmt.Errorf("role %q was dropped", victim)
					}
					return nil
				},
			),
		}},
	})
	if !acctest.RoleExists(t, victim) {
		t.Fatalf("role %q was dropped", victim)
	}
}

// TestPrincipalResourceValidation: mistakes are caught at plan time, before
// anything reaches the server.
func TestPrincipalResourceValidation(t *testing.T) {
	acctest.Emulator(t)
	// 63 bytes, 33 characters: accepted (the limit counts bytes).
	fits := acctest.Name("n")
	for len(fits) < 62 {
		fits += "é"
	}
	if len(fits) == 62 {
		fits += "x"
	}
	o := acctest.NewObject(t, "service_principal", "acc-63")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, fits),
		Steps: []resource.TestStep{
			{
				Config:      onePrincipal(strings.Repeat("é", 32), ""), // 32 characters, 64 bytes
				PlanOnly:    true,
				ExpectError: words("Attribute name string length must be between 1 and 63, got: 64"),
			},
			{
				Config:      onePrincipal("", ""),
				PlanOnly:    true,
				ExpectError: words("Attribute name string length must be between 1 and 63, got: 0"),
			},
			{
				Config:      principalConfig(`resource "azurepg_principal" "p" { name = "a\u0000b" }`), // HCL escape for NUL
				PlanOnly:    true,
				ExpectError: words("must not contain a NUL character"),
			},
			{
				Config:      onePrincipal("alice@contoso.com", `type = "robot"`),
				PlanOnly:    true,
				ExpectError: words(`Attribute type value must be one of: ["user" "group" "service"], got: "robot"`),
			},
			{
				Config:      onePrincipal("alice@contoso.com", "type = \"user\"\n  object_id = \"6f2b2c0e-0a55-4b0e-9d55-3a6a9f0c1a0\""),
				PlanOnly:    true,
				ExpectError: words("Attribute object_id must be a UUID"),
			},
			{
				Config:      onePrincipal("alice@contoso.com", `object_id = "6f2b2c0e-0a55-4b0e-9d55-3a6a9f0c1a05"`),
				PlanOnly:    true,
				ExpectError: words(`Attribute "type" must be specified when "object_id" is specified`),
			},
			{
				Config: onePrincipal(fits, fmt.Sprintf("type = \"service\"\n  object_id = %q", o.ObjectID)),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_principal.p", tfjsonpath.New("name"), knownvalue.StringExact(fits)),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					func(*terraform.State) error {
						if len(fits) != 63 || !acctest.RoleExists(t, fits) {
							return fmt.Errorf("the 63-byte name %q (%d bytes) was not created verbatim", fits, len(fits))
						}
						return nil
					},
				),
			},
		},
	})
}

// TestPrincipalResourceNotAdmin: a login that is not an Entra admin gets
// Azure's refusal and is told to log in as an admin.
func TestPrincipalResourceNotAdmin(t *testing.T) {
	acctest.Emulator(t)
	mi := acctest.NewObject(t, "managed_identity", "acc-not-admin")
	acctest.SuperExec(t, "postgres", "SELECT pgaadauth_create_principal($1, false, false)", mi.Name)
	t.Cleanup(func() { acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{mi.Name}.Sanitize()) })
	target := acctest.NewObject(t, "user", "acc-not-created")
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, target.Name),
		Steps: []resource.TestStep{{
			Config: acctest.ProviderBlock(mi, "") + fmt.Sprintf(`
resource "azurepg_principal" "p" {
  name = %q
}`, target.Name),
			ExpectError: words("Not allowed to manage principals", "permission denied for function pgaadauth_create_principal",
				"Only Microsoft Entra admins of the server", "may create or drop Entra principals",
				"create only local password-based users", "Log in as an Entra admin"),
		}},
	})
}
