// Command terraform-provider-azurepg serves the azurepg Terraform provider.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/azurepg/terraform-provider-azurepg/internal/provider"
	"github.com/azurepg/terraform-provider-azurepg/internal/sdklog"
)

// version is set by goreleaser with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	debug := flag.Bool("debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	if !*debug {
		// Nobody reads the SDK's TRACE lines unless a TF_LOG* variable is
		// set; formatting them costs a third of the provider's CPU. In debug
		// mode the logs go to the developer's terminal: keep them.
		sdklog.QuietUnlessAsked()
	}

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/azurepg/azurepg",
		Debug:   *debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}
