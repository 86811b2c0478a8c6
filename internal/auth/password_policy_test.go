package auth

import (
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
)

func TestCommonPasswordList(t *testing.T) {
	n := len(commonPasswords())
	if n < 990 || n > 1000 {
		t.Errorf("common password list has %d distinct entries, want about 1000", n)
	}
	for _, p := range []string{"password", "123456", "qwerty", "PASSWORD", "QwErTy", "iloveyou", "trustno1"} {
		if !IsCommonPassword(p) {
			t.Errorf("IsCommonPassword(%q) = false", p)
		}
	}
	for _, p := range []string{"", "correct horse battery", "dryad-registry-7fq2"} {
		if IsCommonPassword(p) {
			t.Errorf("IsCommonPassword(%q) = true", p)
		}
	}
}

func TestCheckPasswordPolicy(t *testing.T) {
	for _, tc := range []struct {
		name, password, username, email string
		want                            *errs.Kind
		msg                             string
	}{
		{"good", "correct horse battery", "alice", "alice@example.com", nil, ""},
		{"8 characters", "v9#kLm2q", "alice", "alice@example.com", nil, ""},
		{"7 characters", "v9#kLm2", "alice", "alice@example.com", kind(errs.Invalid), "at least 8 characters"},
		{"empty", "", "alice", "alice@example.com", kind(errs.Invalid), "at least 8 characters"},
		// 8 characters but 16 bytes: length counts characters.
		{"8 accented characters", "éàüöçñßø", "alice", "alice@example.com", nil, ""},
		{"72 bytes", strings.Repeat("x7", 36), "alice", "alice@example.com", nil, ""},
		{"73 bytes", strings.Repeat("x", 73), "alice", "alice@example.com", kind(errs.Invalid), "at most 72 bytes"},
		{"73 bytes of 37 characters", strings.Repeat("é", 36) + "x", "alice", "alice@example.com", kind(errs.Invalid), "at most 72 bytes"},
		{"common", "password", "alice", "alice@example.com", kind(errs.Invalid), "most common"},
		{"common digits", "12345678", "alice", "alice@example.com", kind(errs.Invalid), "most common"},
		{"common in capitals", "PASSWORD1", "alice", "alice@example.com", kind(errs.Invalid), "most common"},
		{"common qwerty", "qwerty123", "alice", "alice@example.com", kind(errs.Invalid), "most common"},
		{"username", "alice_wonder", "Alice_Wonder", "alice@example.com", kind(errs.Invalid), "username"},
		{"email", "alice@example.com", "alice", "Alice@Example.com", kind(errs.Invalid), "email"},
		{"no username given", "unusual-phrase-9", "", "", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, CheckPasswordPolicy(tc.password, tc.username, tc.email), tc.want, tc.msg)
		})
	}
}

// The short common passwords are refused for length first; the message must
// still tell the user what to fix.
func TestCheckPasswordPolicyShortCommon(t *testing.T) {
	for _, p := range []string{"123456", "qwerty"} {
		checkErr(t, CheckPasswordPolicy(p, "alice", "alice@example.com"), kind(errs.Invalid), "at least 8 characters")
	}
}
