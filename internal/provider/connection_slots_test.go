package provider_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// slotsWait is how the debug log words a wait for a free connection slot.
const slotsWait = "SQLSTATE 53300 (no free connection slot on the server)"

// TestAccApplyWaitsForAFreeConnectionSlot: the provider's login role has
// CONNECTION LIMIT 1 and a side connection holds that slot for a while,
// so the server refuses the provider's log-ins with 53300, until the debug
// log shows that the provider waited. The apply backs off within
// connect_timeout and succeeds once the slot frees up.
func TestAccApplyWaitsForAFreeConnectionSlot(t *testing.T) {
	e := acctest.Emulator(t)
	logFile := filepath.Join(t.TempDir(), "debug.log")
	t.Setenv("TF_LOG", "debug")
	t.Setenv("TF_LOG_PATH", logFile)
	t.Setenv("TF_ACC_LOG", "debug")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	admin := acctest.NewAdmin(t)
	acctest.SuperExec(t, "postgres", "ALTER ROLE "+pgx.Identifier{admin.Name}.Sanitize()+" CONNECTION LIMIT 1")
	o := acctest.NewObject(t, "group", "slots; a \"group\" ü")
	hold := func() {
		tok, err := e.IssueToken(context.Background(), "https://ossrdbms-aad.database.windows.net", admin.ClientID)
		if err != nil {
			t.Fatal(err)
		}
		held, err := pgx.Connect(context.Background(), e.URL(admin.Name, tok.Value, "postgres"))
		if err != nil {
			t.Fatalf("holding the role's one slot: %v", err)
		}
		// Release the slot once the provider has been refused (the wait
		// is in the debug log): only then, so that the refusal is certain
		// however long the plan takes to get there.
		go func() {
			defer held.Close(context.Background())
			for deadline := time.Now().Add(acctest.WaitDeadline); ; time.Sleep(10 * time.Millisecond) {
				if b, _ := os.ReadFile(logFile); strings.Contains(string(b), slotsWait) {
					return
				}
				if time.Now().After(deadline) {
					t.Errorf("waited %s for the provider to be refused a connection slot: it never was", acctest.WaitDeadline)
					return
				}
			}
		}()
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, o.Name),
		Steps: []resource.TestStep{{
			PreConfig: hold,
			// connect_timeout 127: a setting of its own, so a client of its
			// own, and a budget for the wait far longer than the release takes.
			Config: acctest.ProviderBlock(admin, "connect_timeout = 127") + fmt.Sprintf(`
resource "azurepg_principal" "p" {
  name = %q
}
`, o.Name),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("azurepg_principal.p", tfjsonpath.New("name"), knownvalue.StringExact(o.Name)),
			},
		}},
	})
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), slotsWait); n == 0 {
		t.Error("the debug log shows no wait for a free slot: the slot was not held?")
	} else {
		t.Logf("the provider waited %d times for a free connection slot", n)
	}
}
