package bench

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// Machine is what the numbers were measured on.
type Machine struct {
	CPU        string     `json:"cpu"`
	Cores      int        `json:"cores"`
	Memory     string     `json:"memory"`
	Kernel     string     `json:"kernel"`
	Go         string     `json:"go"`
	Terraform  string     `json:"terraform"`
	PostgreSQL string     `json:"postgresql"`
	Commit     string     `json:"commit"`
	LoadStart  [3]float64 `json:"load_start"`
	LoadEnd    [3]float64 `json:"load_end"`
}

func describeMachine(ctx context.Context, repoRoot, terraform string, em *emulator.Emulator) Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), LoadStart: loadAverage()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "MemTotal:") {
				m.Memory = strings.Join(strings.Fields(strings.TrimPrefix(line, "MemTotal:")), " ")
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := exec.CommandContext(ctx, terraform, "version", "-json").Output(); err == nil {
		var v struct {
			Version string `json:"terraform_version"`
		}
		if json.Unmarshal(b, &v) == nil {
			m.Terraform = v.Version
		}
	}
	_ = em.Superuser().QueryRow(ctx, "SHOW server_version").Scan(&m.PostgreSQL)
	git := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty")
	git.Dir = repoRoot
	if b, err := git.Output(); err == nil {
		m.Commit = strings.TrimSpace(string(b))
	}
	return m
}
