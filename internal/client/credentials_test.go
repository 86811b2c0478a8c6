package client

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
)

func TestCredentialsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cfg", "dryad-registry", "credentials.json")
	c, err := LoadCredentials(path, false)
	if err != nil || len(c.Registries) != 0 {
		t.Fatalf("missing file: %v, %v", c, err)
	}
	c.Registries["https://r.example"] = &Credential{Username: "alice", Token: "oak_1", TokenID: 1}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
			if info, err := os.Stat(p); err != nil || info.Mode().Perm() != want {
				t.Fatalf("%s: %v, want mode %04o", p, err, want)
			}
		}
	}
	got, err := LoadCredentials(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if cred := got.For("https://r.example"); cred == nil || cred.Token != "oak_1" || cred.Username != "alice" {
		t.Fatalf("read back %+v", got.Registries)
	}
	if u, ok := got.Only(); !ok || u != "https://r.example" {
		t.Fatalf("Only() = %q, %v", u, ok)
	}

	// The last credential removed removes the file.
	delete(got.Registries, "https://r.example")
	if err := got.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file left behind: %v", err)
	}
}

func TestCredentialsLooseModeRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	path := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(path, []byte(`{"registries":{"https://r.example":{"token":"oak_1"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	_, err := LoadCredentials(path, false)
	if errs.KindOf(err) != errs.Forbidden || !strings.Contains(errs.Message(err), "chmod 600 "+path) {
		t.Fatalf("loose file: %v", err)
	}
	// Logout may still read it, to remove it; saving tightens the mode.
	c, err := LoadCredentials(path, true)
	if err != nil || c.For("https://r.example") == nil {
		t.Fatalf("anyMode: %v", err)
	}
	c.Registries["https://other.example"] = &Credential{Token: "oak_2"}
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Fatalf("mode after save %04o", info.Mode().Perm())
	}
}
