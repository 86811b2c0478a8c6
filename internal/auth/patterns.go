package auth

import (
	"fmt"
	"strings"

	"github.com/dryad-lang/registry/internal/errs"
)

// maxPackageNameLen is the registry's longest package name.
const maxPackageNameLen = 64

// ValidatePackagePattern returns an errs.Invalid error unless p is a package
// name (a lower-case letter or digit, then up to 63 lower-case letters,
// digits, '-' or '_') or such a name followed by one trailing '*', which
// stands for any rest of the name: "mylib-*".
func ValidatePackagePattern(p string) error {
	if !isPackageName(strings.TrimSuffix(p, "*")) {
		return errs.New(errs.Invalid, fmt.Sprintf(
			"package pattern %q is not valid; use a package name like mylib, or a prefix followed by one * like mylib-*", p))
	}
	return nil
}

// isPackageName reports whether s matches ^[a-z0-9][a-z0-9_-]{0,63}$.
func isPackageName(s string) bool {
	if s == "" || len(s) > maxPackageNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// MatchPackage reports whether the package name is allowed by patterns. An
// empty list allows every package. A trailing '*' matches any rest, empty
// included: "mylib-*" matches "mylib-core" but not "mylib" (its '-' is
// literal), while "mylib*" matches both. As everywhere in the registry, '-'
// and '_' are the same character and case does not count, so "mylib-*" also
// matches "mylib_core".
func MatchPackage(patterns []string, name string) bool {
	if len(patterns) == 0 {
		return true
	}
	name = foldPackageName(name)
	for _, p := range patterns {
		p = foldPackageName(p)
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(name, prefix) {
				return true
			}
		} else if p == name {
			return true
		}
	}
	return false
}

// foldPackageName maps the spellings of one package name to one form.
func foldPackageName(s string) string {
	return strings.ReplaceAll(strings.ToLower(s), "_", "-")
}
