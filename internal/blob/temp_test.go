package blob

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestRemoveStaleTemp(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	for name, age := range map[string]time.Duration{"blob-old": time.Hour, "blob-new": time.Second, ".archive-spool-old": 2 * time.Hour} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(dir, "a-folder"), 0o750)
	cutoff := now.Add(-5 * time.Minute)

	names := func(fs []TempFile) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Name)
		}
		slices.Sort(out)
		return out
	}
	want := []string{".archive-spool-old", "blob-old"}
	stale, err := StaleTemp(dir, cutoff)
	if err != nil || !slices.Equal(names(stale), want) || stale[0].Size != 7 {
		t.Fatalf("StaleTemp = %+v, %v; want %v", stale, err, want)
	}
	removed, err := RemoveStaleTemp(dir, cutoff)
	if err != nil || !slices.Equal(names(removed), want) {
		t.Fatalf("RemoveStaleTemp = %v, %v", names(removed), err)
	}
	left, _ := os.ReadDir(dir)
	var leftNames []string
	for _, e := range left {
		leftNames = append(leftNames, e.Name())
	}
	if !slices.Equal(leftNames, []string{"a-folder", "blob-new"}) {
		t.Errorf("left in the folder: %v", leftNames)
	}
}
