package manifest_test

import (
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/manifest"
)

type row struct {
	v       string
	yanked  bool
	seq     int // publish order
	deleted int // deleted after the row published at this seq; 0 when not deleted
}

func ver(r *row) string { return r.v }

func rows(spec string) []row {
	var out []row
	for i, f := range strings.Fields(spec) {
		r := row{v: strings.TrimSuffix(f, "!"), seq: i + 1}
		r.yanked = strings.HasSuffix(f, "!")
		out = append(out, r)
	}
	return out
}

func TestLatest(t *testing.T) {
	live := func(r *row) bool { return !r.yanked }
	for _, tt := range []struct {
		spec, want string
	}{
		{"1.0.0 1.2.0 1.1.0", "1.2.0"},
		{"1.0.0 2.0.0-beta.1", "1.0.0"},                           // a release wins over a newer prerelease
		{"2.0.0-beta.1 2.0.0-beta.2 2.0.0-alpha", "2.0.0-beta.2"}, // no release: the highest prerelease
		{"1.0.0 1.2.0! 1.1.0", "1.1.0"},                           // yanked versions are not chosen
		{"1.0.0! 2.0.0-rc.1", "2.0.0-rc.1"},
		{"1.0.0!", ""},
		{"", ""},
		{"1.10.0 1.9.0 1.2.0", "1.10.0"}, // numeric, not textual, order
		{"1.0.0+build.2 1.0.0", "1.0.0+build.2"},
		{"not-a-version 0.0.1", "0.0.1"}, // a damaged row sorts lowest
	} {
		vs := rows(tt.spec)
		got := ""
		if i := manifest.Latest(vs, ver, live); i >= 0 {
			got = vs[i].v
		}
		if got != tt.want {
			t.Errorf("Latest(%s) = %q, want %q", tt.spec, got, tt.want)
		}
	}
}

func TestParent(t *testing.T) {
	// In publish order: 1.0.0, 2.0.0, 1.1.0, 1.0.1, then 3.0.0 after 2.0.0
	// was deleted (deleted stands for "deleted once this seq was published").
	vs := []row{{v: "1.0.0", seq: 1}, {v: "2.0.0", seq: 2, deleted: 4}, {v: "1.1.0", seq: 3}, {v: "1.0.1", seq: 4}, {v: "3.0.0", seq: 5}}
	earlierAndAlive := func(c, v *row) bool { return c.seq < v.seq && (c.deleted == 0 || c.deleted >= v.seq) }
	for i, want := range []string{"", "1.0.0", "1.0.0", "1.0.0", "1.1.0"} {
		got := ""
		if p := manifest.Parent(vs, i, ver, earlierAndAlive); p >= 0 {
			got = vs[p].v
		}
		if got != want {
			t.Errorf("Parent(%s) = %q, want %q", vs[i].v, got, want)
		}
	}
}

func TestNewestFirst(t *testing.T) {
	vs := rows("1.0.0 1.10.0 1.2.0-rc.1 1.2.0 0.9.0")
	manifest.NewestFirst(vs, ver)
	var got []string
	for _, r := range vs {
		got = append(got, r.v)
	}
	if strings.Join(got, " ") != "1.10.0 1.2.0 1.2.0-rc.1 1.0.0 0.9.0" {
		t.Errorf("NewestFirst = %v", got)
	}
}

func TestKey(t *testing.T) {
	for in, want := range map[string]string{"1.0.0": "1.0.0", "1.0.0+b.1": "1.0.0", "2.1.3-rc.1+x": "2.1.3-rc.1"} {
		if got := manifest.Key(manifest.Precedence(in)); got != want {
			t.Errorf("Key(%s) = %s, want %s", in, got, want)
		}
	}
}
