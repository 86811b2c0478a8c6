package gitrepo

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/testenv"
)

func TestReplace(t *testing.T) {
	ctx := t.Context()
	r := newRepos(t)
	v1 := commit(t, r, "demo", "1.0.0", "", 0, false)
	commit(t, r, "demo", "1.1.0", v1, 1, true)

	// Readers keep finding a repository while it is replaced again and
	// again.
	var stop atomic.Bool
	var missing atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for !stop.Load() {
			if ok, err := r.Exists("demo"); err != nil || !ok {
				missing.Add(1)
			}
		}
	})
	var rewritten string
	for i := range 10 {
		stage, remove, err := r.Stage()
		if err != nil {
			t.Fatal(err)
		}
		// The history without 1.0.0: 1.1.0 becomes a root.
		rewritten = commit(t, stage, "demo", "1.1.0", "", 1, true)
		if err := r.Replace(ctx, "demo", stage); err != nil {
			t.Fatalf("replace %d: %v", i, err)
		}
		remove()
	}
	stop.Store(true)
	wg.Wait()
	if n := missing.Load(); n > 0 {
		t.Errorf("the repository was missing %d times during replacements", n)
	}
	tags, err := r.Tags(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if len(tags) != 1 || tags["1.1.0"] != rewritten {
		t.Errorf("tags after replace: %v, want 1.1.0 at %s alone", tags, rewritten)
	}
	dir := filepath.Join(r.Root(), "demo.git")
	if _, err := testenv.Git(t, dir, "cat-file", "-e", v1); err == nil {
		t.Errorf("the replaced history's commit %s is still there", v1)
	}
	// Writers carry on in the new repository.
	commit(t, r, "demo", "1.2.0", rewritten, 2, true)
	if entries, _ := os.ReadDir(r.Root()); len(entries) != 1 {
		t.Errorf("git folder after replacements: %v, want demo.git alone", entries)
	}

	// Without a live repository the staged one is moved in.
	stage, remove, err := r.Stage()
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	fresh := commit(t, stage, "new", "1.0.0", "", 0, true)
	if err := r.Replace(ctx, "new", stage); err != nil {
		t.Fatal(err)
	}
	if m, err := r.Main(ctx, "new"); err != nil || m != fresh {
		t.Errorf("main of a moved-in repository = %s, %v; want %s", m, err, fresh)
	}
	if err := r.Replace(ctx, "absent", stage); !errors.Is(err, errs.NotFound) {
		t.Errorf("replace without a staged repository: %v, want NotFound", err)
	}
	if err := r.Replace(ctx, "demo", r); !errors.Is(err, errs.Invalid) {
		t.Errorf("replace from the live folder itself: %v, want Invalid", err)
	}
}

// TestSwapByRenames checks the exchange used where the filesystem has no
// atomic one.
func TestSwapByRenames(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, d := range []string{a, b} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "name"), []byte(filepath.Base(d)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := swapByRenames(a, b); err != nil {
		t.Fatal(err)
	}
	for d, want := range map[string]string{a: "b", b: "a"} {
		if got, _ := os.ReadFile(filepath.Join(d, "name")); string(got) != want {
			t.Errorf("%s holds %q, want %q", d, got, want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("left behind: %v", entries)
	}
}
