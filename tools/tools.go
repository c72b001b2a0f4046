//go:build tools

// Package tools pins the development tools that `make generate` runs, in a
// module of its own so that their dependencies stay out of the provider's
// go.mod.
package tools

import (
	_ "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs"
)
