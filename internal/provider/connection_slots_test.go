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
// so the server refuses the provider's log-ins with 53300. The apply backs
// off within connect_timeout and succeeds once the slot frees up; the
// debug log shows the waits.
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
		// Release the slot a second after the provider's first refusal
		// (seen in the debug log), or after 20 s: the plan may take a while.
		go func() {
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				if b, _ := os.ReadFile(logFile); strings.Contains(string(b), slotsWait) {
					break
				}
			}
			time.Sleep(time.Second)
			_ = held.Close(context.Background())
		}()
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, o.Name),
		Steps: []resource.TestStep{{
			PreConfig: hold,
			// connect_timeout 27: a setting of its own, so a client of its own.
			Config: acctest.ProviderBlock(admin, "connect_timeout = 27") + fmt.Sprintf(`
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
