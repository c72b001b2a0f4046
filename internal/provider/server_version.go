package provider

import (
	"context"
	"fmt"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// serverOlderThan is the server's PostgreSQL major version when it is older
// than minimum, for plan-time errors about features of newer versions; 0
// when it is not older, or when the server cannot be reached at plan time
// (the apply then says why).
func serverOlderThan(ctx context.Context, d *providerData, srv serverModel, minimum int) int {
	if d == nil {
		return 0 // not configured (validate)
	}
	if srv.Host.IsUnknown() || srv.Port.IsUnknown() {
		return 0
	}
	client, diags := d.clientOf(srv)
	if diags.HasError() {
		return 0
	}
	major, err := client.ServerMajor(ctx)
	if err != nil || major >= minimum {
		return 0
	}
	return major
}

// checkMaintain refuses the MAINTAIN privilege at plan time on a server
// older than PostgreSQL 17, which does not know it.
func checkMaintain(ctx context.Context, d *providerData, srv serverModel, privileges types.Set, diags *diag.Diagnostics) {
	if privileges.IsNull() || privileges.IsUnknown() {
		return
	}
	var privs []string
	diags.Append(privileges.ElementsAs(ctx, &privs, false)...)
	if !slices.Contains(privs, "MAINTAIN") {
		return
	}
	if major := serverOlderThan(ctx, d, srv, 17); major != 0 {
		diags.AddAttributeError(path.Root("privileges"), "MAINTAIN needs PostgreSQL 17",
			fmt.Sprintf("The server runs PostgreSQL %d. The MAINTAIN privilege (VACUUM, ANALYZE, REINDEX, REFRESH MATERIALIZED "+
				"VIEW, CLUSTER and LOCK TABLE on a table) exists from PostgreSQL 17 on. Remove it, or use a server on 17 or later.", major))
	}
}
