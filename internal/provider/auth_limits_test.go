package provider_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest"
)

// TestAccAuthManagedIdentityThrottled: the managed-identity endpoint answers
// 410 twice and 429 (Retry-After: 1) twice before it hands out a token. An
// apply of 8 principals (4 connections opened in parallel) succeeds within
// the connect timeout, with exactly 5 requests to the endpoint (one token
// fetch and its 4 retries) and never two at once.
func TestAccAuthManagedIdentityThrottled(t *testing.T) {
	e := acctest.Emulator(t)
	admin := acctest.NewAdmin(t)
	ti := acctest.StartIdentityThrottle(t, e.TokenEndpoint())
	ti.Refuse(http.StatusGone, 2)
	ti.Throttle(2)
	t.Setenv("IDENTITY_ENDPOINT", ti.URL)
	var names []string
	var cfg strings.Builder
	for i := range 8 {
		o := acctest.NewObject(t, "user", "acc-throttle")
		names = append(names, o.Name)
		fmt.Fprintf(&cfg, "resource \"azurepg_principal\" \"p%d\" {\n  name = %q\n}\n", i, o.Name)
	}
	// connect_timeout 41: settings of their own, so a new token cache.
	config := acctest.ProviderBlock(admin, "connect_timeout = 41") + cfg.String()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProviderFactories,
		CheckDestroy:             checkRolesGone(t, names...),
		Steps: []resource.TestStep{{
			Config: config,
			Check: func(*terraform.State) error {
				for _, n := range names {
					if !acctest.RoleExists(t, n) {
						return fmt.Errorf("role %q was not created", n)
					}
				}
				return nil
			},
		}},
	})
	c := ti.Counts()
	want := []int{410, 410, 429, 429, 200}
	if fmt.Sprint(c.Statuses) != fmt.Sprint(want) || c.MaxInFlight != 1 {
		t.Errorf("the endpoint answered %v (%d at most at once), want %v (1 at once)", c.Statuses, c.MaxInFlight, want)
	}
	t.Logf("identity endpoint: %d requests %v, at most %d at once", c.Requests, c.Statuses, c.MaxInFlight)
}
