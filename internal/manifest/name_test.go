package manifest

import (
	"errors"
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		// want is a piece of the error message; "" means valid.
		want string
	}{
		{"a", ""},
		{"mylib", ""},
		{"my-lib", ""},
		{"my_lib", ""},
		{"0lib", ""},
		{"9", ""},
		{"lib2go", ""},
		{"a-b_c-d", ""},
		{"trailing-", ""},
		{strings.Repeat("a", MaxNameLength), ""},

		{"", "is empty"},
		{strings.Repeat("a", MaxNameLength+1), "65 characters long; the limit is 64"},
		{"-lib", "must start with a lowercase letter or a digit"},
		{"_lib", "must start with a lowercase letter or a digit"},
		{".lib", "must start with a lowercase letter or a digit"},
		{"MyLib", `uppercase letters; package names are lowercase (try "mylib")`},
		{"myLib", `(try "mylib")`},
		{"my lib", `has the character ' '`},
		{"my.lib", `has the character '.'`},
		{"my/lib", `has the character '/'`},
		{"@scope/lib", "must start with a lowercase letter or a digit"},
		{"café", `has the character 'é'`},
		{"ｌｉｂ", `has the character 'ｌ'`},
		{"lib\x00", `has the character '\x00'`},
		{"lib\xff", "has the character '\uFFFD'"},
		{"a\nb", `has the character '\n'`},

		// Reserved: routes, the language's own words, nothing-words and
		// Windows device names, in every spelling that normalises to one.
		{"api", "is reserved"},
		{"admin", "is reserved"},
		{"packages", "is reserved"},
		{"dryad", "is reserved"},
		{"oak", "is reserved"},
		{"oak-modules", "is reserved"},
		{"oak_modules", "is reserved"},
		{"std", "is reserved"},
		{"null", "is reserved"},
		{"latest", "is reserved"},
		{"con", "is reserved"},
		{"nul", "is reserved"},
		{"com1", "is reserved"},
		{"lpt9", "is reserved"},
		// Close to reserved names but not them.
		{"oak-utils", ""},
		{"com10", ""},
		{"apis", ""},
		{"dryad-http", ""},
	}
	for _, tt := range tests {
		err := ValidateName(tt.name)
		if tt.want == "" {
			if err != nil {
				t.Errorf("ValidateName(%q) = %v, want valid", tt.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("ValidateName(%q) = nil, want an error containing %q", tt.name, tt.want)
			continue
		}
		if !errors.Is(err, errs.Invalid) {
			t.Errorf("ValidateName(%q): kind %v, want Invalid", tt.name, errs.KindOf(err))
		}
		if msg := errs.Message(err); !strings.Contains(msg, tt.want) || !strings.HasPrefix(msg, "package name ") {
			t.Errorf("ValidateName(%q) = %q, want it to contain %q", tt.name, msg, tt.want)
		}
	}
}

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"foo", "foo"},
		{"foo-bar", "foo-bar"},
		{"foo_bar", "foo-bar"},
		{"Foo_Bar", "foo-bar"},
		{"a_b-c_d", "a-b-c-d"},
		{"__", "--"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeName(tt.in); got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Spellings of one package normalise alike; others do not.
	same := [][2]string{{"foo-bar", "foo_bar"}, {"foo_bar", "FOO-BAR"}}
	for _, p := range same {
		if NormalizeName(p[0]) != NormalizeName(p[1]) {
			t.Errorf("%q and %q should be the same package", p[0], p[1])
		}
	}
	differ := [][2]string{{"foobar", "foo-bar"}, {"foo-bar", "foo--bar"}, {"foo", "foo-"}}
	for _, p := range differ {
		if NormalizeName(p[0]) == NormalizeName(p[1]) {
			t.Errorf("%q and %q should be different packages", p[0], p[1])
		}
	}
}

func TestIsReserved(t *testing.T) {
	for _, n := range []string{"api", "API", "oak_modules", "Oak-Modules", "COM1", "undefined", "git"} {
		if !IsReserved(n) {
			t.Errorf("IsReserved(%q) = false", n)
		}
	}
	for _, n := range []string{"apiary", "oakmodules", "com0", "mylib", ""} {
		if IsReserved(n) {
			t.Errorf("IsReserved(%q) = true", n)
		}
	}
	// Every reserved entry is written in normalised form, or it could
	// never match.
	for n := range reservedNames {
		if NormalizeName(n) != n {
			t.Errorf("reserved name %q is not normalised", n)
		}
	}
}

func TestSplitSpec(t *testing.T) {
	for _, tt := range []struct {
		spec, name, version string
		ok                  bool
	}{
		{"mylib@1.2.3", "mylib", "1.2.3", true},
		{"mylib@1.0.0-rc.1+build", "mylib", "1.0.0-rc.1+build", true},
		{"mylib", "", "", false},
		{"@1.0.0", "", "", false},
		{"mylib@", "", "", false},
	} {
		name, version, ok := SplitSpec(tt.spec)
		if name != tt.name || version != tt.version || ok != tt.ok {
			t.Errorf("SplitSpec(%q) = %q, %q, %v", tt.spec, name, version, ok)
		}
	}
}
