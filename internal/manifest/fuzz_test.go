package manifest

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/Masterminds/semver/v3"

	"github.com/dryad-lang/registry/internal/errs"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, must
// refuse only with errs.Invalid, and what it accepts must satisfy the rules
// the rest of the registry relies on without checking again.
func FuzzParse(f *testing.F) {
	f.Add([]byte(with()))
	f.Add([]byte(`{"name":"a","version":"1.0.0-rc.1+b","dependencies":{"b":"^1 || 2.x"},"author":{"name":"A","email":"e"},"repository":{"type":"git","url":"https://h/r"},"keywords":["k"]}`))
	f.Add([]byte("\ufeff" + with(`"Name": "x"`)))
	f.Add([]byte(with(`"dependencies": {"mylib": "1"}`)))
	f.Add([]byte(`{"name":"a","version":"1.0.0"} {}`))
	f.Add([]byte(`{"name":"a","version":"1.0.0","name":"b"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte{0xff, 0xfe})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			if !errors.Is(err, errs.Invalid) {
				t.Fatalf("refused with kind %v: %v", errs.KindOf(err), err)
			}
			return
		}
		if !utf8.ValidString(m.Description + m.Author + m.License + m.Main + m.Homepage + m.Repository) {
			t.Fatalf("accepted text that is not UTF-8: %+v", m)
		}
		if err := ValidateName(m.Name); err != nil {
			t.Fatalf("accepted name %q: %v", m.Name, err)
		}
		if _, err := ParseVersion(m.Version); err != nil {
			t.Fatalf("accepted version %q: %v", m.Version, err)
		}
		if m.Type != "library" && m.Type != "project" {
			t.Fatalf("accepted type %q", m.Type)
		}
		if len(m.Keywords) > MaxKeywords || len(m.Dependencies) > MaxDependencies || len(m.DevDependencies) > MaxDependencies {
			t.Fatalf("accepted more than the limits: %+v", m)
		}
		for _, deps := range []map[string]string{m.Dependencies, m.DevDependencies} {
			for name, rng := range deps {
				if ValidateName(name) != nil || NormalizeName(name) == NormalizeName(m.Name) {
					t.Fatalf("accepted dependency %q of %q", name, m.Name)
				}
				if _, err := ParseRange(rng); err != nil {
					t.Fatalf("accepted range %q: %v", rng, err)
				}
			}
		}
		// Parsing is deterministic.
		again, err := Parse(data)
		if err != nil || again.Name != m.Name || again.Version != m.Version {
			t.Fatalf("a second Parse differs: %+v, %v", again, err)
		}
	})
}

// FuzzParseRange feeds arbitrary text to ParseRange: it must never panic,
// must refuse only with errs.Invalid, and an accepted range must check any
// version without panicking, keep its text, and agree with Best.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"^1.2.0", "~1.2", ">=1.0.0 <2.0.0", "1.x", "*", "1.2.3 - 2", "1.x || >=2.5.0", "latest", "",
		"^18446744073709551615", ">=1.0.0-rc.1 <1.0.0", "~>1", "<*", "x.x.x", "1.2.3-beta+b"} {
		f.Add(s, "1.2.3")
	}
	f.Add("^0.0.1", "0.0.1-alpha")
	f.Add(">1.2", "18446744073709551615.18446744073709551615.18446744073709551615")
	f.Fuzz(func(t *testing.T, rng, version string) {
		r, err := ParseRange(rng)
		if err != nil {
			if !errors.Is(err, errs.Invalid) {
				t.Fatalf("refused with kind %v: %v", errs.KindOf(err), err)
			}
			return
		}
		if r.String() != rng {
			t.Fatalf("String() = %q, want %q", r.String(), rng)
		}
		probes := []*semver.Version{semver.New(0, 0, 0, "", ""), semver.New(1, 2, 3, "", ""), semver.New(1, 2, 3, "beta.1", ""),
			semver.New(^uint64(0), ^uint64(0), ^uint64(0), "", "")}
		if v, err := ParseVersion(version); err == nil {
			probes = append(probes, v)
		}
		var matching []*semver.Version
		for _, v := range probes {
			if r.Check(v) {
				matching = append(matching, v)
			}
		}
		best := r.Best(probes)
		if (best == nil) != (len(matching) == 0) {
			t.Fatalf("Best = %v but matching = %v", best, matching)
		}
		for _, v := range matching {
			if v.GreaterThan(best) {
				t.Fatalf("Best = %s, but %s matches and is higher", best, v)
			}
		}
	})
}

// FuzzNormalizeName checks the rules every name lookup relies on: the
// normal form is stable, ignores case and the - / _ spelling, and a valid
// name's normal form is itself valid, so the unique index over normal
// forms is what decides whether two spellings are one package.
func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"my-pkg", "MY_PKG", "my_pkg", "a", "0x", "-lead", "caf\u00e9", "K\u212a", "\u0130i", strings.Repeat("a", 70), "admin", "Admin_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		n := NormalizeName(name)
		if NormalizeName(n) != n {
			t.Fatalf("NormalizeName(%q) = %q, which normalises again to %q", name, n, NormalizeName(n))
		}
		for _, other := range []string{strings.ToUpper(name), strings.ReplaceAll(name, "-", "_"), strings.ReplaceAll(name, "_", "-")} {
			if ValidateName(name) == nil && NormalizeName(other) != n {
				t.Fatalf("%q and %q normalise apart: %q, %q", name, other, n, NormalizeName(other))
			}
		}
		if ValidateName(name) != nil {
			return
		}
		if err := ValidateName(n); err != nil {
			t.Fatalf("valid %q normalises to invalid %q: %v", name, n, err)
		}
		if IsReserved(name) {
			t.Fatalf("ValidateName accepted reserved %q", name)
		}
		if strings.ContainsRune(n, '_') || strings.ToLower(n) != n {
			t.Fatalf("normal form %q keeps _ or capitals", n)
		}
	})
}
