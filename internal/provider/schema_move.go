package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/azurepg/terraform-provider-azurepg/internal/hclquote"
)

var _ resource.ResourceWithMoveState = (*schemaResource)(nil)

// postgresqlSchemaType is the general PostgreSQL provider's resource
// (cyrilgdn/postgresql) whose state a `moved` block may hand to
// azurepg_schema.
const postgresqlSchemaType = "postgresql_schema"

// MoveState accepts `moved { from = postgresql_schema.x  to = azurepg_schema.x }`
// (Terraform 1.8 and later).
//
// The mover cannot reach the server (Terraform calls it on an unconfigured
// provider): it copies database, name, owner and drop_cascade from the
// source state (its Read always records the database and the owner), and
// the refresh that follows in the same plan reads the schema.
func (r *schemaResource) MoveState(context.Context) []resource.StateMover {
	return []resource.StateMover{mover(postgresqlSchemaType, func(s postgresqlSchemaState) string {
		if s.Name == "" || s.Database == "" {
			return "name or database"
		}
		return ""
	}, schemaRemovedImportAdvice("<database>", "<schema>"), movePostgresqlSchema)}
}

// postgresqlSchemaState is what the move reads of a postgresql_schema
// (SDKv2 state: an unset string is "", policy a list of objects).
type postgresqlSchemaState struct {
	Name        string           `json:"name"`
	Database    string           `json:"database"`
	Owner       string           `json:"owner"`
	DropCascade bool             `json:"drop_cascade"`
	Policy      []map[string]any `json:"policy"`
}

func movePostgresqlSchema(src postgresqlSchemaState, diags *diag.Diagnostics) (schemaModel, bool) {
	owner := types.StringNull() // read by the refresh
	if src.Owner != "" {
		owner = types.StringValue(src.Owner)
	}
	if len(src.Policy) > 0 {
		diags.AddWarning("Schema privileges are not moved",
			fmt.Sprintf("The %s %q had %d policy block(s). The privileges they granted stay on the server, but "+
				"azurepg_schema does not manage privileges: declare them as azurepg_grant resources (object_type = \"schema\", "+
				"privileges USAGE and CREATE), or they are no longer managed by Terraform.", postgresqlSchemaType, src.Name, len(src.Policy)))
	}
	return schemaModel{
		ID:          types.StringValue(schemaID.Encode(src.Database, src.Name)),
		Database:    types.StringValue(src.Database),
		Name:        types.StringValue(src.Name),
		Owner:       owner,
		DropCascade: types.BoolValue(src.DropCascade),
	}, true
}

// schemaRemovedImportAdvice is the other way to hand a schema over: forget
// the old resource without dropping the schema, and import it.
func schemaRemovedImportAdvice(database, name string) string {
	return strings.Join([]string{
		"  removed {",
		"    from = postgresql_schema.<name>",
		"    lifecycle {",
		"      destroy = false",
		"    }",
		"  }",
		"  import {",
		"    to = azurepg_schema.<name>",
		"    id = " + hclquote.String(schemaID.Encode(database, name)),
		"  }",
	}, "\n")
}
