package provider_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// The user stories, end to end, written as users would write them (the
// live suite, internal/live, runs them against Azure):
//  1. an Entra user, group or managed identity becomes a login role by name
//     (TestPrincipalResourceKinds and the getting-started guide);
//  2. azure_ai with the server's managed identity (TestAccAISettingsWithExtension);
//  3. roles made by hand are adopted (TestStoryAdoptExistingRoles);
//  4. an app's managed identity gets access to a database
//     (TestStoryAppIdentityAccess, story_access_test.go).

// TestStoryAdoptExistingRoles: story 3. Roles made by hand are imported with
// an import block whose for_each comes from the azurepg_principals data
// source (Terraform reads the data source while planning), then the second
// plan is empty and the roles are managed like any other.
func TestStoryAdoptExistingRoles(t *testing.T) {
	acctest.Emulator(t)
	// A prefix of our own keeps users made by other tests out of the import.
	prefix := acctest.Name("story3 o'hand")
	u1 := acctest.NewObject(t, "user", prefix+"-ana")
	u2 := acctest.NewObject(t, "user", prefix+"-ben")
	g := acctest.NewObject(t, "group", prefix+"-group")
	acctest.SuperExec(t, "postgres", "SELECT pgaadauth_create_principal($1, false, true)", u1.Name)
	acctest.SuperExec(t, "postgres", "SELECT pgaadauth_create_principal($1, false, false)", u2.Name)
	acctest.SuperExec(t, "postgres", "SELECT pgaadauth_create_principal($1, false, false)", g.Name)
	t.Cleanup(func() {
		acctest.SuperExec(t, "postgres", "DROP ROLE IF EXISTS "+pgx.Identifier{g.Name}.Sanitize())
	})

	config := principalConfig(fmt.Sprintf(`
data "azurepg_principals" "existing" {}

locals {
  users = { for p in data.azurepg_principals.existing.principals : p.name => p if p.type == "user" && startswith(p.name, %q) }
}

import {
  for_each = local.users
  to       = azurepg_principal.users[each.key]
  id       = each.key
}

resource "azurepg_principal" "users" {
  for_each = local.users
  name     = each.key
  mfa      = each.value.mfa
}
`, prefix))
	// terraform-plugin-testing cannot shim for_each instances with string
	// keys into its legacy state, so this story runs the real CLI.
	w := acctest.NewWorkdir(t, providerRequirements+config, nil)
	if out := w.MustRun("apply", "-auto-approve", "-input=false", "-no-color").Stdout; !strings.Contains(out, "2 imported, 0 added, 0 changed, 0 destroyed") {
		t.Fatalf("apply did not import exactly the two users:\n%s", out)
	}
	if err := checkServerPrincipal(t, u1.Name, "user", u1.ObjectID, false, true)(nil); err != nil {
		t.Fatal(err)
	}
	if err := checkServerPrincipal(t, u2.Name, "user", u2.ObjectID, false, false)(nil); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, r := range w.State() {
		if r.Type == "azurepg_principal" {
			got[r.Values["name"].(string)] = r.Values["mfa"]
		}
	}
	if want := map[string]any{u1.Name: true, u2.Name: false}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("managed principals (name: mfa) = %v, want %v", got, want)
	}
	// A second plan is empty: exit code 0 with -detailed-exitcode.
	w.MustRun("plan", "-detailed-exitcode", "-input=false", "-no-color")
	w.MustRun("destroy", "-auto-approve", "-input=false", "-no-color")
	if err := checkRolesGone(t, u1.Name, u2.Name)(nil); err != nil {
		t.Fatal(err)
	}
	if !acctest.RoleExists(t, g.Name) {
		t.Fatalf("the group %q, never managed, was dropped", g.Name)
	}
}

const providerRequirements = `terraform {
  required_providers {
    azurepg = { source = "azurepg/azurepg" }
  }
}
`
