// Package cpuprof lets a provider binary built for the benchmark profile
// itself: with AZUREPG_BENCH_PROFILE_DIR set, Start writes a CPU profile of
// the whole process to cpu-<pid>.pprof there, and the process's CPU time (in
// nanoseconds) to cpu-<pid>.txt when the returned stop function runs.
package cpuprof

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"
)

// EnvDir names the directory to write to; unset, Start does nothing.
const EnvDir = "AZUREPG_BENCH_PROFILE_DIR"

// Start starts profiling when EnvDir is set; call stop before exiting.
func Start() (stop func(), err error) {
	dir := os.Getenv(EnvDir)
	if dir == "" {
		return func() {}, nil
	}
	pid := os.Getpid()
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("cpu-%d.pprof", pid)))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
			cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("cpu-%d.txt", pid)), []byte(fmt.Sprintf("%d\n", cpu.Nanoseconds())), 0o644)
		}
	}, nil
}
