package auth

import (
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
)

func TestValidateUsername(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want *errs.Kind
		msg  string
	}{
		{"abc", nil, ""},
		{"Alice_Wonder-42", nil, ""},
		{"_x-", nil, ""},
		{strings.Repeat("a", 20), nil, ""},
		{"ab", kind(errs.Invalid), "3 to 20"},
		{"", kind(errs.Invalid), "3 to 20"},
		{strings.Repeat("a", 21), kind(errs.Invalid), "3 to 20"},
		{"al ice", kind(errs.Invalid), "only letters"},
		{"alice.b", kind(errs.Invalid), "only letters"},
		{"alice@x", kind(errs.Invalid), "only letters"},
		{"ålice", kind(errs.Invalid), "only letters"},
		{"аlice", kind(errs.Invalid), "only letters"}, // Cyrillic а
	} {
		t.Run(tc.in, func(t *testing.T) {
			checkErr(t, ValidateUsername(tc.in), tc.want, tc.msg)
		})
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"Alice", "alice"},
		{"ALICE_w", "alice_W"},
	} {
		if NormalizeUsername(tc.a) != NormalizeUsername(tc.b) {
			t.Errorf("usernames %q and %q normalise differently", tc.a, tc.b)
		}
	}
	if NormalizeUsername("alice-w") == NormalizeUsername("alice_w") {
		t.Error(`usernames "alice-w" and "alice_w" must stay distinct`)
	}
	if got := NormalizeEmail("Alice.Smith@Example.COM"); got != "alice.smith@example.com" {
		t.Errorf("NormalizeEmail = %q", got)
	}
}

func TestValidateEmail(t *testing.T) {
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com" // 254 bytes
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"alice@example.com", true},
		{"alice.smith+oak@mail.example.co.uk", true},
		{"A_B@Example.org", true},
		{long, true},
		{long[:len(long)-4] + "x.com", false}, // 255 bytes
		{"", false},
		{"alice", false},
		{"alice@localhost", false},
		{"alice@@example.com", false},
		{"al@ice@example.com", false},
		{"@example.com", false},
		{"alice@", false},
		{"alice@.example.com", false},
		{"alice@example.com.", false},
		{"alice@example..com", false},
		{"alice @example.com", false},
		{" alice@example.com", false},
		{"alice@example.com\n", false},
		{"alice@exa\tmple.com", false},
		{"Alice <alice@example.com>", false},
		{"<alice@example.com>", false},
		{"alice@example.com (Alice)", false},
		{`"a b"@example.com`, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			err := ValidateEmail(tc.in)
			if tc.ok {
				checkErr(t, err, nil)
			} else {
				checkErr(t, err, kind(errs.Invalid), "valid email address")
			}
		})
	}
}
