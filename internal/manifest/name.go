package manifest

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dryad-lang/registry/internal/errs"
)

// MaxNameLength is the longest package name, in bytes (names are ASCII).
const MaxNameLength = 64

// reservedNames are names no package may take, in normalised form (see
// NormalizeName). They are the registry's own routes and words, names that
// impersonate the language or its tools, and names that cannot be folders on
// Windows, where Oak unpacks into oak_modules/NAME/.
var reservedNames = map[string]bool{
	// Routes of the web interface and the API.
	"about": true, "account": true, "accounts": true, "admin": true, "api": true,
	"assets": true, "auth": true, "dashboard": true, "docs": true, "download": true,
	"downloads": true, "favicon": true, "git": true, "health": true, "help": true,
	"history": true, "index": true, "login": true, "logout": true, "me": true,
	"metrics": true, "new": true, "owners": true, "package": true, "packages": true,
	"profile": true, "publish": true, "register": true, "resolve": true, "robots": true,
	"search": true, "settings": true, "signin": true, "signup": true, "sitemap": true,
	"static": true, "stats": true, "status": true, "tokens": true, "upload": true,
	"user": true, "users": true, "versions": true, "www": true, "yank": true,
	// The language, its tools and its folders.
	"core": true, "dryad": true, "oak": true, "oak-modules": true, "registry": true,
	"std": true, "stdlib": true,
	// Words that mean "nothing" in JSON, JavaScript and URLs.
	"null": true, "undefined": true, "none": true, "nil": true, "latest": true,
	// Device names Windows refuses as folder names.
	"con": true, "prn": true, "aux": true, "nul": true,
	"com1": true, "com2": true, "com3": true, "com4": true, "com5": true,
	"com6": true, "com7": true, "com8": true, "com9": true,
	"lpt1": true, "lpt2": true, "lpt3": true, "lpt4": true, "lpt5": true,
	"lpt6": true, "lpt7": true, "lpt8": true, "lpt9": true,
}

// IsReserved reports whether name (in any spelling that normalises to a
// reserved name) is kept for the registry and cannot be published.
func IsReserved(name string) bool {
	return reservedNames[NormalizeName(name)]
}

// ValidateName checks that name may be the name of a package: 1 to 64
// characters, lowercase ASCII letters, digits, '-' and '_', starting with a
// letter or digit, and not reserved.
func ValidateName(name string) error {
	if p := nameProblem(name); p != "" {
		return errs.New(errs.Invalid, "package name "+p)
	}
	return nil
}

// nameProblem says what is wrong with name, starting with the quoted name,
// or returns "" when the name is valid.
func nameProblem(name string) string {
	if name == "" {
		return `"" is empty; use lowercase letters, digits, '-' and '_'`
	}
	if len(name) > MaxNameLength {
		return fmt.Sprintf("%.20q… is %d characters long; the limit is %d", name, len(name), MaxNameLength)
	}
	if c := name[0]; !isLowerAlnum(c) && c < utf8.RuneSelf && !('A' <= c && c <= 'Z') {
		return fmt.Sprintf("%q must start with a lowercase letter or a digit", name)
	}
	for _, c := range name {
		if c < utf8.RuneSelf && (isLowerAlnum(byte(c)) || c == '-' || c == '_') {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			return fmt.Sprintf("%q has uppercase letters; package names are lowercase (try %q)", name, strings.ToLower(name))
		}
		return fmt.Sprintf("%q has the character %q; use only lowercase letters, digits, '-' and '_'", name, c)
	}
	if IsReserved(name) {
		return fmt.Sprintf("%q is reserved; choose another name", name)
	}
	return ""
}

// NormalizeName returns the form of name used to decide whether two names
// are the same package: "-" and "_" are interchangeable (foo_bar and foo-bar
// are one name), and letters are lowercased. The registry stores it with a
// unique index so that look-alike names cannot be registered twice.
func NormalizeName(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "_", "-")
}

func isLowerAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
}

// SplitSpec splits "name@version" at its last @; ok is false when either
// side is empty.
func SplitSpec(spec string) (name, version string, ok bool) {
	i := strings.LastIndex(spec, "@")
	if i <= 0 || i == len(spec)-1 {
		return "", "", false
	}
	return spec[:i], spec[i+1:], true
}
