package emulator_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azurepg/terraform-provider-azurepg/internal/emulator"
)

// copyPGInstall makes a copy of the system's PostgreSQL 15 below a new root:
// the binaries and share/ copied, lib/ linked file by file. pg_config finds
// its directories relative to itself, so the copy is a system installation
// of its own to the emulator (Options.PGBinDir points at its bin).
func copyPGInstall(t *testing.T) (root, binDir, extDir, libDir string) {
	t.Helper()
	root, err := os.MkdirTemp("", "pg-install-copy-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	// Readable by the server's OS user when the tests run as root.
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	sysBin := emulator.DefaultPGBinDir
	sysLib := filepath.Join(filepath.Dir(sysBin), "lib")
	sysShare := "/usr/share/postgresql/15"
	binDir = filepath.Join(root, sysBin)
	libDir = filepath.Join(root, sysLib)
	for _, name := range []string{"pg_config", "postgres", "initdb"} {
		copyOne(t, filepath.Join(sysBin, name), filepath.Join(binDir, name))
	}
	walk(t, sysLib, func(rel string, d fs.DirEntry) {
		if d.IsDir() {
			mkdir(t, filepath.Join(libDir, rel))
			return
		}
		if err := os.Symlink(filepath.Join(sysLib, rel), filepath.Join(libDir, rel)); err != nil {
			t.Fatal(err)
		}
	})
	share := filepath.Join(root, sysShare)
	walk(t, sysShare, func(rel string, d fs.DirEntry) {
		switch {
		case d.IsDir():
			mkdir(t, filepath.Join(share, rel))
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(filepath.Join(sysShare, rel))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, filepath.Join(share, rel)); err != nil {
				t.Fatal(err)
			}
		default:
			copyOne(t, filepath.Join(sysShare, rel), filepath.Join(share, rel))
		}
	})
	return root, binDir, filepath.Join(share, "extension"), libDir
}

func walk(t *testing.T, root string, fn func(rel string, d fs.DirEntry)) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		fn(rel, d)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func copyOne(t *testing.T, src, dst string) {
	t.Helper()
	mkdir(t, filepath.Dir(dst))
	info, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, info.Mode().Perm())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// snapshot is every entry below root: kind, mode, link target or content hash.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	walk(t, root, func(rel string, d fs.DirEntry) {
		path := filepath.Join(root, rel)
		info, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case d.IsDir():
			m[rel] = "dir " + info.Mode().String()
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(path)
			m[rel] = "link " + target
		default:
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			m[rel] = "file " + info.Mode().String() + " " + hex.EncodeToString(sum[:])
		}
	})
	return m
}

// The emulator neither writes into nor uses foreign files of the PostgreSQL
// installation it runs: foreign azure_ai files (another version, a control
// file, a script of the emulator's own version's name) and a foreign
// pgaadauth_emulator.so in a copy of the system installation stay as they
// were, and the server offers only the emulator's azure_ai 1.3.1.
func TestEmulatorIsolatedFromPGInstall(t *testing.T) {
	need(t) // and the label module is built (cached) by the package's emulator
	root, binDir, extDir, libDir := copyPGInstall(t)
	foreign := map[string]string{
		filepath.Join(extDir, "azure_ai.control"):           "comment = 'foreign'\ndefault_version = '9.9.9'\nschema = azure_ai\nrelocatable = false\ntrusted = true\n",
		filepath.Join(extDir, "azure_ai--9.9.9.sql"):        "CREATE FUNCTION azure_ai.version() RETURNS text LANGUAGE sql AS $$ SELECT 'foreign 9.9.9'::text $$;\n",
		filepath.Join(extDir, "azure_ai--1.3.1.sql"):        "CREATE FUNCTION azure_ai.version() RETURNS text LANGUAGE sql AS $$ SELECT 'foreign 1.3.1'::text $$;\n",
		filepath.Join(extDir, "azure_ai--1.3.1--9.9.9.sql"): "SELECT 1;\n",
		filepath.Join(libDir, "pgaadauth_emulator.so"):      "not a shared object\n",
	}
	for path, content := range foreign {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, root)

	e, err := emulator.Start(testCtx(t), emulator.Options{PGBinDir: binDir})
	if err != nil {
		t.Fatalf("starting an emulator on the copy: %v", err)
	}
	tok, err := e.IssueToken(testCtx(t), resourcePublic, "")
	if err != nil {
		e.Stop()
		t.Fatal(err)
	}
	conn := mustOpen(t, e.URL(e.AdminName(), tok.Value, "postgres"))
	if v := scalar[string](t, conn, "SELECT string_agg(version, ',' ORDER BY version) FROM pg_available_extension_versions WHERE name = 'azure_ai'"); v != "1.3.1" {
		t.Errorf("available azure_ai versions %q, want the emulator's 1.3.1 only", v)
	}
	if c := scalar[string](t, conn, "SELECT default_version || ' ' || comment FROM pg_available_extensions WHERE name = 'azure_ai'"); !strings.HasPrefix(c, "1.3.1 azure_ai (emulated)") {
		t.Errorf("azure_ai's control file is not the emulator's: %q", c)
	}
	exec(t, conn, "CREATE DATABASE isolation")
	db := mustOpen(t, e.URL(e.AdminName(), tok.Value, "isolation"))
	exec(t, db, "CREATE EXTENSION azure_ai")
	if v := scalar[string](t, db, "SELECT azure_ai.version()"); v != "1.3.1" {
		t.Errorf("azure_ai.version() = %q, want the emulator's 1.3.1", v)
	}
	// The label module is the emulator's too: the foreign one would not load,
	// and the server would not have started (shared_preload_libraries).
	db.Close(testCtx(t))
	conn.Close(testCtx(t))
	e.Stop()

	after := snapshot(t, root)
	for path, was := range before {
		if now, ok := after[path]; !ok || now != was {
			t.Errorf("%s changed: %q, now %q", path, was, now)
		}
	}
	for path := range after {
		if _, ok := before[path]; !ok {
			t.Errorf("%s appeared in the installation", path)
		}
	}
	for path, content := range foreign {
		if b, _ := os.ReadFile(path); string(b) != content {
			t.Errorf("%s was rewritten", path)
		}
	}
}
