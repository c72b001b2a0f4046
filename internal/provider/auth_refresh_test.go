package provider_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/jackc/pgx/v5"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// TestAccAuthTokenRefresh: with one-minute tokens, a provider process that
// outlives its first token keeps working and fetches a new one. The emulator
// refuses an expired token for new connections, as Azure does (checked
// below); the pooled connections are dropped before the second apply (as
// Azure drops idle connections, or a failover would), so that it must open
// new ones. Between the steps the test waits until every token issued to
// the identity has expired (about a minute), whatever the first step took.
func TestAccAuthTokenRefresh(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	e.SetTokenLifetime(admin.ClientID, time.Minute)
	names := make([]string, 25)
	for i := range names {
		names[i] = acctest.NewObject(t, "group", "acc-refresh").Name
	}
	config := func(n int) string {
		return acctest.ProviderBlock(admin, "") + fmt.Sprintf(`
resource "azurepg_principal" "p" {
  count = %d
  name  = %s[count.index]
}
`, n, hclList(names[:n]))
	}
	var first emulator.Token
	var began time.Time
	var before int // token requests before the second step
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, names...),
		Steps: []resource.TestStep{
			{
				PreConfig: func() { began = time.Now() },
				Config:    config(20),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_principal.p[19]", tfjsonpath.New("name"), knownvalue.StringExact(names[19])),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					func(*terraform.State) error {
						if n := e.TokenRequestsFor(admin.ClientID); n < 1 {
							return fmt.Errorf("the provider asked for no token (%d requests)", n)
						}
						// A token of the identity, to show below that it expired.
						tok, err := e.IssueToken(context.Background(), acctest.ResourcePublic, admin.ClientID)
						first = tok
						return err
					},
				),
			},
			{
				PreConfig: func() {
					// Wait until every token issued to the identity has expired.
					acctest.SleepUntil(e.LastTokenExpiry(admin.ClientID))
					conn, err := pgx.Connect(context.Background(), e.URL(admin.Name, first.Value, "postgres"))
					if err == nil {
						conn.Close(context.Background())
						t.Fatal("the expired token still logs in: the test would not exercise the refresh")
					}
					var dropped int
					acctest.SuperQueryRow(t, "postgres",
						"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = $1", []any{admin.Name}, &dropped)
					before = e.TokenRequestsFor(admin.ClientID)
					t.Logf("every token expired %s after the test began; dropped %d pooled connections", time.Since(began).Round(time.Second), dropped)
				},
				// Refresh the 20 principals and create 5 more over new connections.
				Config: config(25),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("azurepg_principal.p[24]", tfjsonpath.New("name"), knownvalue.StringExact(names[24])),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkServerPrincipal(t, names[24], "group", mustObject(t, names[24]).ObjectID, false, false),
					func(*terraform.State) error {
						if n := e.TokenRequestsFor(admin.ClientID); n <= before {
							return fmt.Errorf("no new token was asked for after every token had expired (%d requests, %d before)", n, before)
						}
						return nil
					},
				),
			},
		},
	})
	t.Logf("whole test: %s, %d token requests", time.Since(began).Round(time.Second), e.TokenRequestsFor(admin.ClientID))
}

func mustObject(t *testing.T, name string) emulator.Object {
	t.Helper()
	o, ok := acctest.Emulator(t).Object(name)
	if !ok {
		t.Fatalf("no tenant object %q", name)
	}
	return o
}
