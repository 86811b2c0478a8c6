package gitrepo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestNearGC checks the count that decides whether git is asked to tidy a
// repository: from half of git's thresholds, as git counts.
func TestNearGC(t *testing.T) {
	dir := t.TempDir()
	add := func(folder, name string) {
		t.Helper()
		p := filepath.Join(dir, "objects", folder)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if nearGC(dir) {
		t.Error("an empty repository is near gc")
	}
	looseHalf := (gcAutoLoose + 2*256 - 1) / (2 * 256) // loose objects in objects/17 at half gc.auto
	for i := range looseHalf - 1 {
		add("17", fmt.Sprintf("%038x", i))
	}
	if nearGC(dir) {
		t.Errorf("%d loose objects in objects/17 (about %d in all) are near gc", looseHalf-1, 256*(looseHalf-1))
	}
	add("17", fmt.Sprintf("%038x", looseHalf))
	if !nearGC(dir) {
		t.Errorf("%d loose objects in objects/17 are not near gc", looseHalf)
	}

	dir = t.TempDir()
	for i := range gcAutoPackLimit/2 - 1 {
		add("pack", fmt.Sprintf("pack-%040x.pack", i))
		add("pack", fmt.Sprintf("pack-%040x.idx", i))
	}
	if nearGC(dir) {
		t.Errorf("%d packs are near gc", gcAutoPackLimit/2-1)
	}
	add("pack", fmt.Sprintf("pack-%040x.pack", gcAutoPackLimit))
	if !nearGC(dir) {
		t.Errorf("%d packs are not near gc", gcAutoPackLimit/2)
	}
}

// TestHousekeepingRepacks commits more versions than git's pack limit, each
// big enough to be stored as a pack of its own, and checks that git tidied
// them: a repository whose packs only grew would slow every clone.
func TestHousekeepingRepacks(t *testing.T) {
	r := newRepos(t)
	parent := ""
	for n := range gcAutoPackLimit + 5 {
		v := fmt.Sprintf("1.%d.0", n)
		files := packageFiles("packed", v)
		// More objects than fast-import keeps loose (unpackLimit, 100).
		for i := range 120 {
			files = append(files, tfile{path: fmt.Sprintf("data/%03d.txt", i), body: fmt.Sprintf("%s file %d\n", v, i)})
		}
		id, err := r.CommitVersion(context.Background(), Version{
			Package: "packed", Version: v,
			Archive:    bytes.NewReader(canonicalArchive(t, files)),
			AuthorName: "Ada Publisher", AuthorEmail: "ada@users.noreply.example",
			Time: publishTime(n), Parent: parent, Latest: true,
		})
		if err != nil {
			t.Fatalf("CommitVersion %s: %v", v, err)
		}
		parent = id
	}
	packs, _ := filepath.Glob(filepath.Join(r.dir("packed"), "objects", "pack", "*.pack"))
	if len(packs) >= gcAutoPackLimit/2 {
		t.Errorf("%d packs after %d versions: git was never asked to repack", len(packs), gcAutoPackLimit+5)
	}
}
