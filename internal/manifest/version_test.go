package manifest

import (
	"errors"
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in string
		// want is a piece of the error message; "" means valid.
		want string
	}{
		{"0.0.0", ""},
		{"1.0.0", ""},
		{"1.2.3", ""},
		{"10.20.30", ""},
		{"1.0.0-alpha", ""},
		{"1.0.0-alpha.1", ""},
		{"1.0.0-0.3.7", ""},
		{"1.0.0-x.7.z.92", ""},
		{"1.0.0-x-y-z.--", ""},
		{"1.0.0-0a", ""}, // alphanumeric: a leading zero is allowed
		{"1.0.0+20130313144700", ""},
		{"1.0.0-beta+exp.sha.5114f85", ""},
		{"1.0.0+21AF26D3----117B344", ""},
		{"1.0.0+01", ""}, // build identifiers may have leading zeros
		{"18446744073709551615.0.0", ""},
		{"1.0.0-" + strings.Repeat("a", MaxVersionLength-6), ""},

		{"", "version is empty"},
		{"v1.0.0", `drop the leading "v"`},
		{"V1.0.0", `drop the leading "v"`},
		{"1", "it needs three numbers"},
		{"1.0", "it needs three numbers"},
		{"1.0-beta", "it needs three numbers"},
		{"1.0.0.0", "more than three numbers"},
		{"01.0.0", "leading zeros"},
		{"1.02.0", "leading zeros"},
		{"1.0.00", "leading zeros"},
		{"1.0.0-01", "leading zeros"},
		{"1.0.0-", "the part after '-'"},
		{"1.0.0-a..b", "the part after '-'"},
		{"1.0.0-α", "the part after '-'"},
		{"1.0.0+", "the part after '+'"},
		{"1.0.0+a_b", "the part after '+'"},
		{" 1.0.0", "is not a SemVer 2.0 version"},
		{"1.0.0 ", "is not a SemVer 2.0 version"},
		{"1.0.x", "is not a SemVer 2.0 version"},
		{"^1.0.0", "is not a SemVer 2.0 version"},
		{"latest", "is not a SemVer 2.0 version"},
		{"18446744073709551616.0.0", "too large"},
		{"1.0.0-beta.18446744073709551616", "prerelease number 18446744073709551616 is too large"},
		{"1.0.0-" + strings.Repeat("a", MaxVersionLength-5), "the limit is 128"},
	}
	for _, tt := range tests {
		v, err := ParseVersion(tt.in)
		if tt.want == "" {
			if err != nil {
				t.Errorf("ParseVersion(%q) = %v, want valid", tt.in, err)
			} else if v.Original() != tt.in {
				t.Errorf("ParseVersion(%q) kept %q", tt.in, v.Original())
			}
			continue
		}
		if err == nil {
			t.Errorf("ParseVersion(%q) = %v, want an error containing %q", tt.in, v, tt.want)
			continue
		}
		if !errors.Is(err, errs.Invalid) {
			t.Errorf("ParseVersion(%q): kind %v, want Invalid", tt.in, errs.KindOf(err))
		}
		if msg := errs.Message(err); !strings.Contains(msg, tt.want) {
			t.Errorf("ParseVersion(%q) = %q, want it to contain %q", tt.in, msg, tt.want)
		}
	}
}

// TestVersionOrder checks SemVer precedence on the parsed versions, the
// order in which the registry picks its latest and best versions.
func TestVersionOrder(t *testing.T) {
	// Ascending, from the SemVer 2.0 specification and beyond.
	order := []string{
		"0.0.1", "0.1.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
		"1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "1.10.0",
		"2.0.0-0", "2.0.0", "18446744073709551615.0.0",
	}
	for i := 1; i < len(order); i++ {
		a, b := mustVersion(t, order[i-1]), mustVersion(t, order[i])
		if !a.LessThan(b) {
			t.Errorf("%s should sort before %s", a, b)
		}
	}
	// Build metadata does not take part in precedence.
	if !mustVersion(t, "1.0.0+a").Equal(mustVersion(t, "1.0.0+b")) {
		t.Error("1.0.0+a and 1.0.0+b should have equal precedence")
	}
}
