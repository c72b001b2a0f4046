// Command profiled serves the azurepg provider exactly as the real binary
// does, but with AZUREPG_BENCH_PROFILE_DIR set writes a CPU profile of the
// whole process (and its CPU time) there (package cpuprof). The benchmark
// installs it as terraform-provider-azurepg for its profiling pass only; the
// timed runs use the real binary.
package main

import (
	"context"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/azurepg/terraform-provider-azurepg/bench/cpuprof"
	"github.com/azurepg/terraform-provider-azurepg/internal/provider"
	"github.com/azurepg/terraform-provider-azurepg/internal/sdklog"
)

func main() {
	// As the real binary does (main.go): no SDK logging unless a TF_LOG* is set.
	sdklog.QuietUnlessAsked()
	stop, err := cpuprof.Start()
	if err != nil {
		log.Fatal(err)
	}
	err = providerserver.Serve(context.Background(), provider.New("bench-profiled"), providerserver.ServeOpts{
		Address: "registry.terraform.io/azurepg/azurepg",
	})
	stop()
	if err != nil {
		log.Fatal(err)
	}
}
