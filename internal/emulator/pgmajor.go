package emulator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
)

// PGMajorEnv is the environment variable that chooses the PostgreSQL major the
// emulator runs when Options.PGBinDir is empty: 15 (the default), 17 or 18.
// make exports it (make test PG_MAJOR=17), and any test binary reads it.
const PGMajorEnv = "PG_MAJOR"

// DefaultPGMajor is the major the emulator runs when PG_MAJOR is not set.
const DefaultPGMajor = 15

// ConfiguredPGBinDir is the bin directory of the major PG_MAJOR names.
func ConfiguredPGBinDir() (string, error) {
	major := DefaultPGMajor
	if s := os.Getenv(PGMajorEnv); s != "" {
		var err error
		if major, err = strconv.Atoi(s); err != nil {
			return "", fmt.Errorf("%s=%q is not a PostgreSQL major version (15, 17 or 18)", PGMajorEnv, s)
		}
	}
	return PGBinDirFor(major)
}

// PGBinDirFor is where the server binaries of a PostgreSQL major are: Debian's
// postgresql-15 for 15; for 17 and 18 the cache that tools/scripts/postgres.sh
// fills (the npm build of the server, Debian's headers, a pg_config of ours).
func PGBinDirFor(major int) (string, error) {
	switch major {
	case 15:
		return DefaultPGBinDir, nil
	case 16:
		// The same reason tools/scripts/postgres.sh gives.
		return "", errors.New("PG_MAJOR=16 is not supported: no reachable registry has PostgreSQL 16 server headers (postgresql-server-dev-16) to build the emulator's label module with")
	case 17, 18:
	default:
		return "", fmt.Errorf("PG_MAJOR=%d is not supported (15, 17 or 18)", major)
	}
	dir := filepath.Join(pgCacheRoot(), strconv.Itoa(major))
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err != nil {
		return "", fmt.Errorf("PostgreSQL %d is not fetched into %s: run `make deps PG_MAJOR=%d` (bash tools/scripts/postgres.sh %d)", major, dir, major, major)
	}
	return filepath.Join(dir, "bin"), nil
}

// pgCacheRoot is tools/scripts/postgres.sh's cache. The server's OS user must
// read it: root runs the server as "postgres", who cannot enter /root, so
// root's cache is under /var/cache.
func pgCacheRoot() string {
	if os.Geteuid() == 0 {
		return "/var/cache/azurepg-postgres"
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return filepath.Join(cache, "azurepg-postgres")
}

// PGMajor is the running server's major version (server_version_num / 10000),
// for tests whose expectations depend on it.
func (e *Emulator) PGMajor() int { return e.pgMajor }

func (e *Emulator) readPGMajor(ctx context.Context) error {
	var num int
	if err := e.super.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&num); err != nil {
		return fmt.Errorf("reading the server's version: %w", err)
	}
	e.pgMajor = num / 10000
	return nil
}

// majorOf reads the major from pg_config --version ("PostgreSQL 15.14 (Debian ...)").
func majorOf(version string) (int, error) {
	m := regexp.MustCompile(`^PostgreSQL (\d+)`).FindStringSubmatch(version)
	if m == nil {
		return 0, fmt.Errorf("cannot read a major version from pg_config --version %q", version)
	}
	return strconv.Atoi(m[1])
}

// azureAIVersion is the one azure_ai version Azure ships on a major, per
// Microsoft Learn's extension version table: 1.3.1 on PostgreSQL 12-17,
// 2.0.0 on 18.
func azureAIVersion(major int) string {
	if major >= 18 {
		return "2.0.0"
	}
	return "1.3.1"
}
