// Command terraform-provider-stub serves one of the schema-only stub
// providers of package stubproviders, for terraform validate in tests. The
// provider is chosen by the name the binary is run as
// (terraform-provider-azurerm, terraform-provider-postgresql, ...), so one
// build linked under several names serves them all through dev_overrides.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/azurepg/terraform-provider-azurepg/internal/acctest/stubproviders"
)

func main() {
	name := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
	name = strings.TrimPrefix(name, "terraform-provider-")
	if i := strings.Index(name, "_"); i > 0 { // terraform-provider-NAME_vX.Y.Z
		name = name[:i]
	}
	p, ok := stubproviders.Providers()[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "terraform-provider-stub: no stub provider named %q (run it as terraform-provider-<name>)\n", name)
		os.Exit(2)
	}
	err := providerserver.Serve(context.Background(), stubproviders.New(p), providerserver.ServeOpts{
		Address:         p.Source,
		ProtocolVersion: p.Protocol,
	})
	if err != nil {
		log.Fatal(err)
	}
}
