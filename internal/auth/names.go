package auth

import (
	"net/mail"
	"strings"
	"unicode"

	"github.com/dryad-lang/registry/internal/errs"
)

// Username and email limits. 254 is the longest address SMTP can deliver to.
const (
	MinUsernameLen = 3
	MaxUsernameLen = 20
	MaxEmailLen    = 254
)

// ValidateUsername returns an errs.Invalid error unless s is 3 to 20 ASCII
// letters, digits, '-' or '_'. ASCII only: usernames appear in URLs and as
// package owners, where look-alike Unicode letters would let one user pass
// for another.
func ValidateUsername(s string) error {
	if len(s) < MinUsernameLen || len(s) > MaxUsernameLen {
		return errs.New(errs.Invalid, "username must be 3 to 20 characters long")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return errs.New(errs.Invalid, "username may contain only letters (a-z, A-Z), digits, '-' and '_'")
		}
	}
	return nil
}

// NormalizeUsername returns the form under which usernames are unique:
// "Alice" and "alice" are the same account.
func NormalizeUsername(s string) string { return strings.ToLower(s) }

// NormalizeEmail returns the form under which email addresses are unique.
// The whole address is lower-cased: few mail systems treat the local part's
// case as significant, and two accounts differing only by it are a mistake.
func NormalizeEmail(s string) string { return strings.ToLower(s) }

// ValidateEmail returns an errs.Invalid error unless s is a bare address
// such as name@example.com: at most 254 bytes, no spaces, no display name or
// angle brackets, exactly one '@', and a dot inside the domain.
func ValidateEmail(s string) error {
	invalid := errs.New(errs.Invalid, "enter a valid email address, like name@example.com")
	if s == "" || len(s) > MaxEmailLen {
		return invalid
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return invalid
	}
	if strings.Count(s, "@") != 1 {
		return invalid
	}
	addr, err := mail.ParseAddress(s)
	// An address that parses to something other than itself had a display
	// name, angle brackets or a comment around it.
	if err != nil || addr.Name != "" || addr.Address != s {
		return invalid
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || !strings.Contains(domain, ".") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return invalid
	}
	return nil
}
