package auth

import (
	_ "embed"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/dryad-lang/registry/internal/errs"
)

// MinPasswordChars is the shortest password accepted, counted in characters
// so that accented letters are not penalised.
const MinPasswordChars = 8

// commonPasswordsText is the 1 000 most common passwords, one per line:
// SecLists, Passwords/Common-Credentials/10-million-password-list-top-1000.txt
// (github.com/danielmiessler/SecLists, copyright Daniel Miessler, MIT
// licence), unchanged. The check ignores case, so commonPasswords holds
// its casing variants (Password, PASSWORD) once.
//
//go:embed common_passwords.txt
var commonPasswordsText string

// commonPasswords is the embedded list as a lower-cased set, built once.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 1000)
	for line := range strings.Lines(commonPasswordsText) {
		if p := strings.TrimSpace(line); p != "" {
			set[strings.ToLower(p)] = struct{}{}
		}
	}
	return set
})

// IsCommonPassword reports whether password, ignoring case, is on the
// embedded list of the most common passwords.
func IsCommonPassword(password string) bool {
	_, ok := commonPasswords()[strings.ToLower(password)]
	return ok
}

// CheckPasswordPolicy returns an errs.Invalid error saying what to change
// when password is too short, too long, too common, or the same as the
// account's username or email; nil when it may be used.
func CheckPasswordPolicy(password, username, email string) error {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordChars:
		return errs.New(errs.Invalid, "password must be at least 8 characters long; choose a longer one")
	case len(password) > MaxPasswordBytes:
		return errPasswordTooLong()
	case IsCommonPassword(password):
		return errs.New(errs.Invalid, "this password is one of the most common passwords and is guessed first; choose a less predictable one")
	case username != "" && strings.EqualFold(password, username):
		return errs.New(errs.Invalid, "password must not be your username; choose another one")
	case email != "" && strings.EqualFold(password, email):
		return errs.New(errs.Invalid, "password must not be your email address; choose another one")
	}
	return nil
}

func errPasswordTooLong() error {
	return errs.New(errs.Invalid, "password must be at most 72 bytes long (72 plain letters, fewer with accents or emoji); choose a shorter one")
}
