package gitrepo

import (
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/registry"
)

// versions builds a publish history from specs "VERSION" (published), with
// optional flags: "VERSION deleted@N" (deleted at hour N), "VERSION yanked".
// The n-th spec is published at hour n.
func versions(specs ...string) []registry.GitVersion {
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	vs := make([]registry.GitVersion, len(specs))
	for i, s := range specs {
		f := strings.Fields(s)
		v := registry.GitVersion{ID: int64(i + 1), Version: f[0], PublishedAt: base.Add(time.Duration(i) * time.Hour)}
		for _, flag := range f[1:] {
			switch {
			case flag == "yanked":
				// Yanks never change a git history: the flag only
				// documents the case.
			case strings.HasPrefix(flag, "deleted@"):
				var h int
				for _, c := range strings.TrimPrefix(flag, "deleted@") {
					h = h*10 + int(c-'0')
				}
				at := base.Add(time.Duration(h) * time.Hour)
				v.DeletedAt = &at
			}
		}
		vs[i] = v
	}
	return vs
}

func TestParentIndex(t *testing.T) {
	tests := []struct {
		name    string
		history []string
		want    map[string]string // version -> parent version ("" for none)
	}{
		{"in order", []string{"1.0.0", "1.1.0", "2.0.0"},
			map[string]string{"1.0.0": "", "1.1.0": "1.0.0", "2.0.0": "1.1.0"}},
		{"a patch of an old line extends that line", []string{"1.0.0", "1.1.0", "2.0.0", "1.0.1"},
			map[string]string{"1.0.1": "1.0.0"}},
		{"only versions published before count", []string{"2.0.0", "1.0.0", "1.5.0"},
			map[string]string{"2.0.0": "", "1.0.0": "", "1.5.0": "1.0.0"}},
		{"prereleases sort below their release", []string{"1.0.0", "2.0.0-rc.1", "2.0.0", "2.0.0-rc.2"},
			map[string]string{"2.0.0-rc.1": "1.0.0", "2.0.0": "2.0.0-rc.1", "2.0.0-rc.2": "2.0.0-rc.1"}},
		{"build metadata is ignored", []string{"1.0.0+a", "1.0.1+b"},
			map[string]string{"1.0.1+b": "1.0.0+a"}},
		{"a version deleted before is skipped", []string{"1.0.0", "1.1.0 deleted@1", "1.2.0"},
			map[string]string{"1.2.0": "1.0.0"}},
		{"a version deleted at the same instant is skipped", []string{"1.0.0", "1.1.0 deleted@2", "1.2.0"},
			map[string]string{"1.2.0": "1.0.0"}},
		// Deleting rewrites the history: the versions published after a
		// deleted one lose it as a parent too.
		{"a version deleted after is skipped as well", []string{"1.0.0", "1.1.0 deleted@5", "1.2.0"},
			map[string]string{"1.2.0": "1.0.0"}},
		{"a deleted first version leaves new roots", []string{"1.0.0 deleted@9", "1.1.0", "2.0.0"},
			map[string]string{"1.1.0": "", "2.0.0": "1.1.0"}},
		{"yanks do not matter", []string{"1.0.0", "1.1.0 yanked", "1.2.0"},
			map[string]string{"1.2.0": "1.1.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := versions(tt.history...)
			for v, want := range tt.want {
				i := indexOf(vs, v)
				if i < 0 {
					t.Fatalf("no version %s", v)
				}
				got := ""
				if p := parentIndex(vs, i); p >= 0 {
					got = vs[p].Version
				}
				if got != want {
					t.Errorf("parent of %s = %q, want %q", v, got, want)
				}
			}
		})
	}
}

func TestMainOf(t *testing.T) {
	tests := []struct {
		name    string
		latest  string
		history []string
		want    string
	}{
		{"the latest", "1.1.0", []string{"1.0.0", "1.1.0", "2.0.0 yanked"}, "1.1.0"},
		{"every version yanked: the highest release", "", []string{"1.0.0 yanked", "2.0.0 yanked", "3.0.0-rc.1 yanked"}, "2.0.0"},
		{"every version yanked, only prereleases", "", []string{"1.0.0-a yanked", "1.0.0-b yanked"}, "1.0.0-b"},
		{"deleted versions never", "", []string{"1.0.0 yanked", "2.0.0 deleted@3"}, "1.0.0"},
		{"every version deleted", "", []string{"1.0.0 deleted@3"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if v := mainOf(&registry.GitPackage{Latest: tt.latest}, versions(tt.history...)); v != nil {
				got = v.Version
			}
			if got != tt.want {
				t.Errorf("main = %q, want %q", got, tt.want)
			}
		})
	}
}
