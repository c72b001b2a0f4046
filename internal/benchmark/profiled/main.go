// Command profiled serves the azurepg provider exactly as the real binary
// does, but writes a CPU profile of the whole process (and its CPU time) to
// AZUREPG_BENCH_PROFILE_DIR when that is set. The benchmark installs it as
// terraform-provider-azurepg for its profiling pass only; the timed runs use
// the real binary.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/azurepg/terraform-provider-azurepg/internal/provider"
)

func main() {
	dir := os.Getenv("AZUREPG_BENCH_PROFILE_DIR")
	var prof *os.File
	if dir != "" {
		var err error
		prof, err = os.Create(filepath.Join(dir, fmt.Sprintf("cpu-%d.pprof", os.Getpid())))
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(prof); err != nil {
			log.Fatal(err)
		}
	}
	err := providerserver.Serve(context.Background(), provider.New("bench-profiled"), providerserver.ServeOpts{
		Address: "registry.terraform.io/azurepg/azurepg",
	})
	if prof != nil {
		pprof.StopCPUProfile()
		_ = prof.Close()
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
			cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("cpu-%d.txt", os.Getpid())),
				[]byte(fmt.Sprintf("%d\n", cpu.Nanoseconds())), 0o644)
		}
	}
	if err != nil {
		log.Fatal(err)
	}
}
