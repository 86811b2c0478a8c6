package main

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// layers ranks the packages of ARCHITECTURE.md: a package may import only
// packages of a strictly lower rank (or its own subpackages' interface
// package). Packages not listed may be imported by anyone and import only
// the standard library and modules.
var layers = map[string]int{
	"cmd/dryad-registry": 100,
	"internal/server":    90,
	"internal/api":       80, "internal/web": 80, "internal/gitrepo": 80, "internal/webhook": 80, "internal/backup": 80, "internal/metrics": 80,
	"internal/client": 80, "internal/notify": 80,
	"internal/registry": 70, "internal/registry/registrytest": 71,
	"internal/store": 60, "internal/store/sqlstore": 61, "internal/store/sqlite": 62, "internal/store/postgres": 62, "internal/store/storetest": 62,
	"internal/blob": 60, "internal/blob/fs": 61, "internal/blob/s3": 61, "internal/blob/blobtest": 62,
	"internal/cache": 60, "internal/cache/memory": 61, "internal/cache/redis": 61, "internal/cache/cachetest": 62,
	"internal/ratelimit": 60, "internal/ratelimit/memory": 61, "internal/ratelimit/redis": 61, "internal/ratelimit/ratelimittest": 62,
	"internal/auth": 60, "internal/manifest": 60, "internal/archive": 60, "internal/markdown": 60, "internal/tlog": 60, "internal/textdiff": 60,
	"internal/httpx": 65, "internal/logging": 66, "internal/jobs": 60,
	"internal/config": 40,
	"internal/errs":   10, "internal/testenv": 5,
	"internal/e2e": 110,
}

const module = "github.com/dryad-lang/registry/"

// storeUsers are the only packages that may import the metadata store:
// the domain, the backup that copies it whole, the drivers and their
// suite, the wiring that opens it, and test support. Everything above the
// domain reads and changes the registry through its rules.
var storeUsers = map[string]bool{
	"internal/registry": true, "internal/registry/registrytest": true, "internal/backup": true,
	"internal/store/sqlstore": true, "internal/store/sqlite": true, "internal/store/postgres": true, "internal/store/storetest": true,
	"cmd/dryad-registry": true, "internal/e2e": true,
}

// TestImportDirection enforces that imports point downward only, as
// ARCHITECTURE.md draws them: drivers import their interface package, never
// the reverse, and nothing imports server or cmd.
func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		from := strings.TrimPrefix(p.ImportPath, module)
		rank, ok := layers[from]
		if !ok {
			t.Errorf("package %s has no place in the layers of ARCHITECTURE.md; add it to layers in imports_test.go", from)
			continue
		}
		seen++
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			to := strings.TrimPrefix(imp, module)
			if to == "internal/store" && !storeUsers[from] {
				t.Errorf("%s imports internal/store: only %v may; go through the registry", from, storeUserList())
			}
			toRank, ok := layers[to]
			if !ok {
				continue // reported as its own package
			}
			if toRank >= rank {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must point downward", from, rank, to, toRank)
			}
		}
	}
	if seen < 10 {
		t.Fatalf("only %d packages checked", seen)
	}
}

func storeUserList() []string {
	var out []string
	for k := range storeUsers {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
