package registry_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
	"github.com/dryad-lang/registry/internal/testenv"
	"github.com/dryad-lang/registry/internal/textdiff"
)

func TestDiffVersions(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	dana := f.SignUp("dana")
	for _, d := range []string{"moss", "fern", "reed"} {
		f.Publish(dana, pkg(d, "1.0.0"))
		f.Publish(dana, pkg(d, "2.0.0"))
	}
	var big strings.Builder
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&big, "line %d\n", i)
	}
	f.Publish(dana, testenv.Package{Name: "ivy", Version: "1.2.0",
		Fields: map[string]any{"description": "old words", "license": "MIT", "keywords": []string{"a"},
			"dependencies": map[string]string{"moss": "^1.0.0", "fern": "^1.0.0"}, "dev_dependencies": map[string]string{"reed": "*"}},
		Files: map[string]string{
			"src/main.dryad": "fn main() {\n  print(1)\n}\n",
			"src/gone.dryad": "x\n",
			"tool.sh":        "echo\n",
			"big.txt":        big.String(),
			"logo.bin":       "\x00\x01",
			"same.txt":       "same\n",
		}})
	f.Publish(dana, testenv.Package{Name: "ivy", Version: "1.3.0",
		Fields: map[string]any{"description": "new words", "keywords": []string{"a", "b"},
			"dependencies": map[string]string{"moss": "^2.0.0", "reed": "^1.0.0"}, "dev_dependencies": map[string]string{"reed": "*"}},
		Files: map[string]string{
			"src/main.dryad": "fn main() {\n  print(2)\n}\n",
			"src/new.dryad":  "fn added() {}\n",
			"tool.sh*":       "echo\n",
			"big.txt":        strings.ReplaceAll(big.String(), "line", "LINE"),
			"logo.bin":       "\x00\x02",
			"same.txt":       "same\n",
		}})

	d, err := f.Service.DiffVersions(ctx, "ivy", "1.2.0", "1.3.0")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, c := range d.Files {
		files = append(files, fmt.Sprintf("%s %s %d>%d bin=%v big=%v mode=%v hunks=%d", c.Kind, c.Path, c.OldSize, c.NewSize, c.Binary, c.TooLarge, c.ModeChanged, len(c.Hunks)))
	}
	want := []string{
		"changed big.txt 28890>28890 bin=false big=true mode=false hunks=0",
		"changed logo.bin 2>2 bin=true big=false mode=false hunks=0",
		"changed oaklibs.json",
		"removed src/gone.dryad 2>0 bin=false big=false mode=false hunks=0",
		"changed src/main.dryad 25>25 bin=false big=false mode=false hunks=1",
		"added src/new.dryad 0>14 bin=false big=false mode=false hunks=0",
		"changed tool.sh 5>5 bin=false big=false mode=true hunks=0",
	}
	if len(files) != len(want) {
		t.Fatalf("files:\n%s", strings.Join(files, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(files[i], want[i]) {
			t.Errorf("file %d: %s, want %s", i, files[i], want[i])
		}
	}
	// lib/ivy.dryad and same.txt.
	if d.Unchanged != 2 {
		t.Errorf("unchanged %d, want 2", d.Unchanged)
	}
	main := d.Files[4]
	var lines []string
	for _, l := range main.Hunks[0].Lines {
		lines = append(lines, string(" -+"[l.Op])+strings.TrimSuffix(l.Text, "\n"))
	}
	if got := strings.Join(lines, "|"); got != " fn main() {|-  print(1)|+  print(2)| }" {
		t.Errorf("hunk of src/main.dryad: %s", got)
	}
	if main.Hunks[0].Lines[1].Op != textdiff.Delete {
		t.Errorf("ops: %+v", main.Hunks[0].Lines)
	}
	var fields []string
	for _, c := range d.Manifest {
		fields = append(fields, c.Field+": "+c.Old+" -> "+c.New)
	}
	if got := strings.Join(fields, "; "); got != `description: old words -> new words; keywords: ["a"] -> ["a","b"]; license: MIT -> ; version: 1.2.0 -> 1.3.0` {
		t.Errorf("manifest changes: %s", got)
	}
	var deps []string
	for _, c := range d.Dependencies {
		deps = append(deps, fmt.Sprintf("%s dev=%v %q->%q", c.Name, c.Dev, c.Old, c.New))
	}
	if got := strings.Join(deps, "; "); got != `fern dev=false "^1.0.0"->""; moss dev=false "^1.0.0"->"^2.0.0"; reed dev=false ""->"^1.0.0"` {
		t.Errorf("dependency changes: %s", got)
	}

	// The other way round, from the cache's key of the reverse pair.
	back, err := f.Service.DiffVersions(ctx, "IVY", "1.3.0", "1.2.0")
	if err != nil {
		t.Fatal(err)
	}
	if back.From != "1.3.0" || back.To != "1.2.0" || back.Package != "ivy" || back.Files[5].Kind != registry.FileRemoved {
		t.Errorf("reverse diff: %s %s→%s %+v", back.Package, back.From, back.To, back.Files[5])
	}

	f.Publish(dana, pkg("ivy", "1.4.0"))
	if _, err := f.Service.DeleteVersion(ctx, dana, "ivy", "1.4.0", ip); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, from, to string
		kind           errs.Kind
		msg            string
	}{
		{"ivy", "1.2.0", "9.9.9", errs.NotFound, `no version "9.9.9"`},
		{"ivy", "nope", "1.3.0", errs.NotFound, `no version "nope"`},
		{"ghost", "1.0.0", "1.1.0", errs.NotFound, ""},
		{"ivy", "1.2.0", "1.4.0", errs.Gone, "deleted"},
		{"ivy", "1.3.0", "1.3.0", errs.Unprocessable, "same version"},
	} {
		_, err := f.Service.DiffVersions(ctx, tt.name, tt.from, tt.to)
		checkErr(t, tt.name+" "+tt.from+"..."+tt.to, err, tt.kind, tt.msg)
	}
}
