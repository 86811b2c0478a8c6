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
	const start, end = "<!-- config-table:start -->\n", "<!-- config-table:end -->"
	path := "../../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
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
	s := string(b)
	i, j := strings.Index(s, start), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("README.md lacks the config-table markers")
	}
	want := s[:i+len(start)] + table.String() + s[j:]
	if want == s {
		return
	}
	if *updateDocs {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Error("README.md configuration table is out of date; run: go test ./cmd/dryad-registry -run TestREADMEConfigTable -update-docs")
}
