package main

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/config"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite generated parts of README.md")

// TestREADMEConfigTable keeps the README's configuration table equal to the
// variables the registry reads (go test -run TestREADMEConfigTable -update-docs
// rewrites it).
func TestREADMEConfigTable(t *testing.T) {
	var table strings.Builder
	table.WriteString("| variable | default | meaning |\n|---|---|---|\n")
	for _, v := range config.Vars() {
		def := "`" + v.Default + "`"
		if v.Default == "" {
			def = ""
		}
		doc := strings.ReplaceAll(v.Doc, "|", "\\|")
		table.WriteString("| `" + v.Name + "` | " + def + " | " + doc + " |\n")
	}
	checkGenerated(t, "config-table", table.String())
}

// TestREADMERateLimits keeps the README's table of rate limits equal to the
// policy table at the default settings.
func TestREADMERateLimits(t *testing.T) {
	cfg, err := config.Load(config.Options{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	table.WriteString("| limit | counts | default | setting |\n|---|---|---|---|\n")
	for _, p := range limitTable(cfg).All() {
		setting := "fixed"
		if p.Setting != "" {
			setting = "`" + p.Setting + "`"
		}
		table.WriteString("| `" + p.Name + "` | " + p.Covers + " | " + p.Describe() + " | " + setting + " |\n")
	}
	checkGenerated(t, "rate-limits", table.String())
}

// checkGenerated compares the part of README.md between the markers
// <!-- name:start --> and <!-- name:end --> with content, and rewrites it
// with -update-docs.
func checkGenerated(t *testing.T, name, content string) {
	t.Helper()
	start, end := "<!-- "+name+":start -->\n", "<!-- "+name+":end -->"
	path := "../../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, start), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %s markers", name)
	}
	want := s[:i+len(start)] + content + s[j:]
	if want == s {
		return
	}
	if *updateDocs {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's %s is out of date; run: go test ./cmd/dryad-registry -run TestREADME -update-docs", name)
}
