package emulator

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

//go:embed pgext
var pgext embed.FS

// DefaultPGBinDir is where Debian's postgresql-15 package puts the server, the
// one the emulator runs by default (PG_MAJOR chooses another, see PGBinDirFor).
const DefaultPGBinDir = "/usr/lib/postgresql/15/bin"

// pgTree is a private, relocated copy of a PostgreSQL installation.
//
// PostgreSQL finds its share and lib directories relative to the location of
// its binaries. By copying the two binaries we run into <root>/usr/lib/postgresql/15/bin
// (or <root>/<cache>/17/bin for a fetched major) and linking everything else,
// the emulator can add its own extension files
// and its label-provider module without touching the system installation,
// and without root.
//
// Every directory of the tree is a real directory of the emulator's own;
// only files are links, each to one file of the system installation. The
// emulator's own files (azure_ai*, pgaadauth_emulator.so) are never linked
// from the system, even when a file of that name is there, and are written
// as new files, never through a link: the system installation is never
// written to, and a foreign azure_ai file in it is never used.
type pgTree struct {
	root   string
	bin    string
	lib    string
	share  string
	sysBin string
	major  int // the server's PostgreSQL major version
}

// paths of the system installation, from pg_config.
type pgPaths struct {
	bindir, pkglibdir, sharedir, version string
}

func readPGPaths(binDir string) (pgPaths, error) {
	pgConfig := filepath.Join(binDir, "pg_config")
	out, err := exec.Command(pgConfig, "--bindir", "--pkglibdir", "--sharedir", "--version").Output()
	if err != nil {
		return pgPaths{}, fmt.Errorf("running %s (install postgresql-15 and postgresql-server-dev-15): %w", pgConfig, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 4 {
		return pgPaths{}, fmt.Errorf("unexpected output of %s: %q", pgConfig, out)
	}
	return pgPaths{bindir: lines[0], pkglibdir: lines[1], sharedir: lines[2], version: lines[3]}, nil
}

func buildPGTree(root, binDir string, logf func(string, ...any)) (*pgTree, error) {
	paths, err := readPGPaths(binDir)
	if err != nil {
		return nil, err
	}
	// Mirror the system layout below root so that relative lookups resolve inside it.
	t := &pgTree{
		root:   root,
		bin:    filepath.Join(root, paths.bindir),
		lib:    filepath.Join(root, paths.pkglibdir),
		share:  filepath.Join(root, paths.sharedir),
		sysBin: paths.bindir,
	}
	for _, name := range []string{"postgres", "initdb"} {
		if err := copyFile(filepath.Join(paths.bindir, name), filepath.Join(t.bin, name), 0o755); err != nil {
			return nil, err
		}
	}
	if err := linkRuntimeLibs(root, paths); err != nil {
		return nil, err
	}
	if err := linkTree(paths.pkglibdir, t.lib, func(rel string) bool {
		return strings.HasPrefix(filepath.Base(rel), "pgaadauth_emulator")
	}); err != nil {
		return nil, err
	}
	if err := linkTree(paths.sharedir, t.share, func(rel string) bool {
		return filepath.Dir(rel) == "extension" && strings.HasPrefix(filepath.Base(rel), "azure_ai")
	}); err != nil {
		return nil, err
	}
	so, err := labelModule(binDir, paths.version, logf)
	if err != nil {
		return nil, err
	}
	if err := copyFile(so, filepath.Join(t.lib, "pgaadauth_emulator.so"), 0o755); err != nil {
		return nil, err
	}
	major, err := majorOf(paths.version)
	if err != nil {
		return nil, err
	}
	t.major = major
	if err := writeAzureAI(filepath.Join(t.share, "extension"), azureAIVersion(major)); err != nil {
		return nil, err
	}
	return t, nil
}

// linkRuntimeLibs links the shared libraries the server's binaries load from
// ../lib (the npm build's RUNPATH is $ORIGIN/../lib, and the tree holds copies
// of the binaries). Debian's ../lib is the pkglibdir, which buildPGTree links.
func linkRuntimeLibs(root string, paths pgPaths) error {
	libDir := filepath.Join(filepath.Dir(paths.bindir), "lib")
	if libDir == paths.pkglibdir {
		return nil
	}
	entries, err := os.ReadDir(libDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(root, libDir), 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if err := os.Symlink(filepath.Join(libDir, e.Name()), filepath.Join(root, libDir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// writeAzureAI writes the emulator's azure_ai extension: the one version Azure
// ships on the server's major, with no other script, so no update path.
// pgext holds one script, 1.3.1's; another version is written from it with
// its version. GUESS: 2.0.0 (PostgreSQL 18) has the same SQL as 1.3.1; no
// public source says what changed. TestLiveAzureAIDefaultVersion
// (internal/live) reports the versions a real server offers.
func writeAzureAI(extDir, version string) error {
	const shipped = "1.3.1"
	control, err := withVersion("pgext/azure_ai.control", "default_version = '%s'", shipped, version)
	if err != nil {
		return err
	}
	if err := writeNewFile(filepath.Join(extDir, "azure_ai.control"), bytes.NewReader(control), 0o644); err != nil {
		return err
	}
	script, err := withVersion("pgext/azure_ai--"+shipped+".sql", "SELECT '%s'::text", shipped, version)
	if err != nil {
		return err
	}
	return writeNewFile(filepath.Join(extDir, "azure_ai--"+version+".sql"), bytes.NewReader(script), 0o644)
}

// withVersion reads an embedded file and puts version where format, filled
// with from, stands in it once.
func withVersion(file, format, from, version string) ([]byte, error) {
	data, err := pgext.ReadFile(file)
	if err != nil {
		return nil, err
	}
	old := fmt.Sprintf(format, from)
	if !bytes.Contains(data, []byte(old)) {
		return nil, fmt.Errorf("%s has no %q to set the version on", file, old)
	}
	return bytes.Replace(data, []byte(old), []byte(fmt.Sprintf(format, version)), 1), nil
}

// labelModule builds the C module with PGXS once per source and server
// version, caching the result, and returns the path of the shared object.
func labelModule(binDir, version string, logf func(string, ...any)) (string, error) {
	src, err := pgext.ReadFile("pgext/pgaadauth_emulator.c")
	if err != nil {
		return "", err
	}
	makefile, err := pgext.ReadFile("pgext/Makefile")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(bytes.Join([][]byte{src, makefile, []byte(version)}, []byte{0}))
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "azurepg-emulator", hex.EncodeToString(sum[:8]))
	so := filepath.Join(dir, "pgaadauth_emulator.so")
	if _, err := os.Stat(so); err == nil {
		return so, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	build, err := os.MkdirTemp(filepath.Dir(dir), "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(build)
	if err := os.WriteFile(filepath.Join(build, "pgaadauth_emulator.c"), src, 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(build, "Makefile"), makefile, 0o644); err != nil {
		return "", err
	}
	logf("building the label-provider module with PGXS in %s", build)
	cmd := exec.Command("make", "-C", build, "PG_CONFIG="+filepath.Join(binDir, "pg_config"), "with_llvm=no")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the pgaadauth label module (needs make, gcc and postgresql-server-dev-15): %w\n%s", err, out)
	}
	// Publish atomically so that concurrent test binaries never load a half-written file.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp := so + ".tmp-" + filepath.Base(build)
	if err := copyFile(filepath.Join(build, "pgaadauth_emulator.so"), tmp, 0o755); err != nil {
		return "", err
	}
	return so, os.Rename(tmp, so)
}

// linkTree recreates the directories of src below dst as real directories
// and symlinks its files, except those skip names (by path relative to src).
func linkTree(src, dst string, skip func(rel string) bool) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if skip(rel) {
			return nil
		}
		return os.Symlink(path, target)
	})
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeNewFile(dst, in, mode)
}

// writeNewFile writes a file of the emulator's own: whatever is at dst (a
// link into the system installation included) is removed, not followed, and
// the file is created anew (O_EXCL: never through a link).
func writeNewFile(dst string, r io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.Remove(dst); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
