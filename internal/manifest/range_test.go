package manifest

import (
	"errors"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"

	"github.com/dryad-lang/registry/internal/errs"
)

func mustVersion(t testing.TB, s string) *semver.Version {
	t.Helper()
	v, err := ParseVersion(s)
	if err != nil {
		t.Fatalf("ParseVersion(%q): %v", s, err)
	}
	return v
}

func mustRange(t testing.TB, s string) *Range {
	t.Helper()
	r, err := ParseRange(s)
	if err != nil {
		t.Fatalf("ParseRange(%q): %v", s, err)
	}
	return r
}

// TestRangeCheck checks which versions each range admits, with npm's
// meaning for every form, prereleases included.
func TestRangeCheck(t *testing.T) {
	tests := []struct {
		rng     string
		in, out []string
	}{
		// Caret: same left-most non-zero number.
		{"^1.2.0", []string{"1.2.0", "1.2.9", "1.9.9", "1.99.0+build"}, []string{"1.1.9", "2.0.0", "2.0.0-0", "1.3.0-beta", "1.2.0-rc.1", "0.9.0"}},
		{"^1.2.3-beta.2", []string{"1.2.3-beta.2", "1.2.3-beta.10", "1.2.3", "1.9.0"}, []string{"1.2.3-beta.1", "1.2.3-alpha", "1.2.4-beta", "2.0.0"}},
		{"^0.2.3", []string{"0.2.3", "0.2.99"}, []string{"0.3.0", "0.2.2", "1.0.0"}},
		{"^0.0.3", []string{"0.0.3"}, []string{"0.0.4", "0.0.2", "0.1.0"}},
		{"^0.0.0", []string{"0.0.0"}, []string{"0.0.1"}},
		{"^1", []string{"1.0.0", "1.99.99"}, []string{"2.0.0", "0.9.9"}},
		{"^1.x", []string{"1.0.0", "1.5.0"}, []string{"2.0.0"}},
		{"^1.2", []string{"1.2.0", "1.9.0"}, []string{"1.1.0", "2.0.0"}},
		{"^0.2", []string{"0.2.0", "0.2.9"}, []string{"0.3.0"}},
		{"^0.0", []string{"0.0.0", "0.0.9"}, []string{"0.1.0"}},
		{"^0", []string{"0.0.0", "0.9.9"}, []string{"1.0.0"}},

		// Tilde: same minor when one is given.
		{"~1.2.0", []string{"1.2.0", "1.2.99"}, []string{"1.3.0", "1.1.9", "1.2.1-beta"}},
		{"~1.2", []string{"1.2.0", "1.2.5"}, []string{"1.3.0", "1.1.0"}},
		{"~1", []string{"1.0.0", "1.9.0"}, []string{"2.0.0", "0.1.0"}},
		{"~0.2.3", []string{"0.2.3", "0.2.4"}, []string{"0.3.0", "0.2.2"}},
		{"~1.2.3-beta.2", []string{"1.2.3-beta.2", "1.2.3-beta.4", "1.2.3", "1.2.9"}, []string{"1.2.4-beta", "1.3.0", "1.2.3-beta.1"}},
		{"~>1.2", []string{"1.2.0", "1.2.7"}, []string{"1.3.0"}},

		// Comparators and their conjunction.
		{">=1.0.0 <2.0.0", []string{"1.0.0", "1.5.2", "1.99.99"}, []string{"0.9.9", "2.0.0", "1.5.0-beta", "2.0.0-beta"}},
		{">= 1.0.0  < 2.0.0", []string{"1.0.0", "1.9.0"}, []string{"2.0.0"}},
		{">1.2.3", []string{"1.2.4", "2.0.0"}, []string{"1.2.3", "1.2.4-beta"}},
		{"<1.2.3", []string{"1.2.2", "0.0.0"}, []string{"1.2.3", "1.2.3-beta"}},
		{"<=1.2.3", []string{"1.2.3", "1.0.0"}, []string{"1.2.4"}},
		{">1", []string{"2.0.0"}, []string{"1.9.9", "1.0.0"}},
		{">1.2", []string{"1.3.0"}, []string{"1.2.9"}},
		{">=1.2", []string{"1.2.0", "5.0.0"}, []string{"1.1.9"}},
		{"<1.2", []string{"1.1.99"}, []string{"1.2.0"}},
		{"<=1.2", []string{"1.2.99"}, []string{"1.3.0"}},
		{"<=1", []string{"1.99.0"}, []string{"2.0.0"}},
		{"<*", nil, []string{"0.0.0", "1.0.0"}},
		{">*", nil, []string{"0.0.0", "1.0.0"}},
		{">=*", []string{"0.0.0", "9.9.9"}, []string{"1.0.0-beta"}},
		{">=1.0.0-rc.1 <1.0.0", []string{"1.0.0-rc.1", "1.0.0-rc.2"}, []string{"1.0.0", "1.0.0-beta", "0.9.0"}},

		// X-ranges and partial versions.
		{"1.x", []string{"1.0.0", "1.9.9"}, []string{"2.0.0", "0.9.0", "1.2.0-beta"}},
		{"1.X", []string{"1.0.0"}, []string{"2.0.0"}},
		{"1.*", []string{"1.0.0"}, []string{"2.0.0"}},
		{"1", []string{"1.0.0", "1.9.9"}, []string{"2.0.0"}},
		{"1.2.x", []string{"1.2.0", "1.2.9"}, []string{"1.3.0", "1.1.0"}},
		{"1.2", []string{"1.2.0", "1.2.9"}, []string{"1.3.0"}},
		{"*", []string{"0.0.0", "1.0.0", "99.0.0"}, []string{"1.0.0-beta"}},
		{"x", []string{"1.0.0"}, []string{"1.0.0-beta"}},
		{"x.x.x", []string{"1.0.0"}, nil},
		{"=1.x", []string{"1.4.0"}, []string{"2.0.0"}},

		// Exact versions.
		{"1.2.3", []string{"1.2.3", "1.2.3+build"}, []string{"1.2.4", "1.2.2", "1.2.3-beta"}},
		{"=1.2.3", []string{"1.2.3"}, []string{"1.2.4"}},
		{"1.2.3-beta.1", []string{"1.2.3-beta.1"}, []string{"1.2.3", "1.2.3-beta.2"}},

		// Hyphen ranges: inclusive, a partial upper bound covers its range.
		{"1.2.3 - 2.3.4", []string{"1.2.3", "2.0.0", "2.3.4"}, []string{"1.2.2", "2.3.5", "2.3.4-beta"}},
		{"1.2 - 2.3.4", []string{"1.2.0", "2.3.4"}, []string{"1.1.9"}},
		{"1.2.3 - 2.3", []string{"2.3.99"}, []string{"2.4.0"}},
		{"1.2.3 - 2", []string{"2.99.0"}, []string{"3.0.0"}},
		{"1.2.3 - *", []string{"1.2.3", "99.0.0"}, []string{"1.2.2"}},
		{"* - 2.0.0", []string{"0.0.0", "2.0.0"}, []string{"2.0.1"}},
		{"1.0.0 - 2.0.0-rc.1", []string{"2.0.0-rc.0", "1.5.0"}, []string{"2.0.0", "1.5.0-beta"}},

		// Unions.
		{"1.x || >=2.5.0", []string{"1.2.0", "2.5.0", "3.0.0"}, []string{"2.0.0", "2.4.9"}},
		{"^1.0.0 || ^3.0.0", []string{"1.5.0", "3.1.0"}, []string{"2.0.0", "4.0.0"}},
		{"1.0.0||2.0.0", []string{"1.0.0", "2.0.0"}, []string{"1.5.0"}},
		{"<1.0.0 || >=2.0.0-beta <2.0.0", []string{"0.5.0", "2.0.0-beta.1"}, []string{"1.0.0", "2.0.0", "2.1.0-beta"}},

		// What Oak writes for a package installed without a version.
		{"latest", []string{"0.0.0", "1.0.0", "99.99.99"}, []string{"1.0.0-beta"}},
		{"", []string{"1.0.0"}, []string{"1.0.0-beta"}},
		{"  ", []string{"1.0.0"}, nil},

		// Bounds at the edge of uint64 have no upper limit rather than
		// wrapping around to zero.
		{"^18446744073709551615.0.0", []string{"18446744073709551615.0.0", "18446744073709551615.1.0"}, []string{"0.0.0"}},
		{">18446744073709551615", nil, []string{"18446744073709551615.0.0", "0.0.0"}},
		{"~1.18446744073709551615", []string{"1.18446744073709551615.3"}, []string{"1.0.0"}},
	}
	for _, tt := range tests {
		r := mustRange(t, tt.rng)
		if r.String() != tt.rng {
			t.Errorf("ParseRange(%q).String() = %q", tt.rng, r.String())
		}
		for _, v := range tt.in {
			if !r.Check(mustVersion(t, v)) {
				t.Errorf("%q should match %s", tt.rng, v)
			}
		}
		for _, v := range tt.out {
			if r.Check(mustVersion(t, v)) {
				t.Errorf("%q should not match %s", tt.rng, v)
			}
		}
	}
}

func TestParseRangeErrors(t *testing.T) {
	tests := []struct{ rng, want string }{
		{"v1.2.3", `starts with "v"`},
		{"^v1", `starts with "v"`},
		{"1.2.3.4", "more than three numbers"},
		{"01.2.3", "leading zero"},
		{"1.02", "leading zero"},
		{"1.2.3-01", "invalid prerelease or build part"},
		{"1.2-beta", "not three numbers"},
		{"1.x-beta", "not three numbers"},
		{"1.2.3-", "invalid prerelease or build part"},
		{"1.2.3+", "invalid prerelease or build part"},
		{"1.x.3", "a number after a wildcard"},
		{"x.1", "a number after a wildcard"},
		{"1..2", "a number is missing"},
		{"1.", "a number is missing"},
		{"a.b.c", `"a" is not a number`},
		{"18446744073709551616", "too large"},
		{">=", `operator ">=" is not followed by a version`},
		{"^", `operator "^" is not followed by a version`},
		{"=>1.0.0", `unknown operator "=>"`},
		{"^~1.0.0", `unknown operator "^~"`},
		{">>1", `unknown operator ">>"`},
		{"!=1.0.0", `"!=1" is not a number`},
		{">=1.0.0<2.0.0", "more than three numbers"},
		{"1.0.0, 2.0.0", "is not a number"},
		{"1.0.0 -", "exactly one version on each side"},
		{"- 1.0.0", "exactly one version on each side"},
		{"1 - 2 - 3", "exactly one version on each side"},
		{"1.x ||", "an alternative around || is empty"},
		{"|| 1.x", "an alternative around || is empty"},
		{"||", "an alternative around || is empty"},
		{"1.x | 2.x", `"|" is not a number`},
		{"latest || 1.x", `"latest" is not a number`},
		{"^1.0.0\t", `the character '\t'`},
		{"^1.0.0\n", `the character '\n'`},
		{"≥1.0.0", `the character '≥'`},
		{strings.Repeat("1", MaxRangeLength+1), "the limit is 256"},
	}
	for _, tt := range tests {
		r, err := ParseRange(tt.rng)
		if err == nil {
			t.Errorf("ParseRange(%q) = %v, want an error containing %q", tt.rng, r, tt.want)
			continue
		}
		if !errors.Is(err, errs.Invalid) {
			t.Errorf("ParseRange(%q): kind %v, want Invalid", tt.rng, errs.KindOf(err))
		}
		if msg := errs.Message(err); !strings.Contains(msg, tt.want) {
			t.Errorf("ParseRange(%q) = %q, want it to contain %q", tt.rng, msg, tt.want)
		}
	}
}

func TestRangeBest(t *testing.T) {
	all := []string{"0.9.0", "1.0.0", "1.2.0", "1.2.5", "1.3.0-beta.1", "1.10.0", "2.0.0-rc.1", "2.0.0", "2.1.0", "3.0.0-alpha"}
	tests := []struct {
		rng, want string // want "" means none
	}{
		{"^1.0.0", "1.10.0"},
		{"~1.2.0", "1.2.5"},
		{"1.2.x", "1.2.5"},
		{"1.x", "1.10.0"},
		{"*", "2.1.0"},
		{"latest", "2.1.0"},
		{"", "2.1.0"},
		{"<2.0.0", "1.10.0"},
		{">=1.0.0 <1.2.5", "1.2.0"},
		{"^2.0.0-rc.1", "2.1.0"},
		{"2.0.0-rc.1", "2.0.0-rc.1"},
		{">=1.3.0-beta.1 <1.4.0", "1.3.0-beta.1"},
		{"^3.0.0-alpha", "3.0.0-alpha"},
		{"^3.0.0", ""},
		{"^4", ""},
		{"1.0.0 || 2.x", "2.1.0"},
		{"0.x", "0.9.0"},
	}
	var vs []*semver.Version
	for _, s := range all {
		vs = append(vs, mustVersion(t, s))
	}
	// Best does not depend on the order it is given, and skips nils.
	reversed := append([]*semver.Version{nil}, vs...)
	for i, j := 1, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	for _, tt := range tests {
		r := mustRange(t, tt.rng)
		for _, list := range [][]*semver.Version{vs, reversed} {
			got := r.Best(list)
			switch {
			case tt.want == "" && got != nil:
				t.Errorf("%q: Best = %s, want none", tt.rng, got)
			case tt.want != "" && (got == nil || got.Original() != tt.want):
				t.Errorf("%q: Best = %v, want %s", tt.rng, got, tt.want)
			}
		}
	}
	if got := mustRange(t, "*").Best(nil); got != nil {
		t.Errorf("Best of no versions = %v", got)
	}
	// Of equal precedence, the first listed wins.
	a, b := mustVersion(t, "1.0.0+a"), mustVersion(t, "1.0.0+b")
	if got := mustRange(t, "^1").Best([]*semver.Version{a, b}); got != a {
		t.Errorf("Best of equal versions = %s, want the first, %s", got, a)
	}
}
