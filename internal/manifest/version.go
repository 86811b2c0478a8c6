package manifest

import (
	"errors"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/dryad-lang/registry/internal/errs"
)

// MaxVersionLength is the longest version string accepted, in bytes. Versions
// appear in URLs, file names and git tags; SemVer itself sets no limit.
const MaxVersionLength = 128

// ParseVersion parses a strict SemVer 2.0 version: MAJOR.MINOR.PATCH with
// optional -prerelease and +build parts. Shorthands other tools accept
// ("v1.0.0", "1.0", "1.0.0.0", leading zeros) are refused, so that one
// version has one spelling.
func ParseVersion(s string) (*semver.Version, error) {
	if s == "" {
		return nil, errs.New(errs.Invalid, "version is empty; use a SemVer 2.0 version such as 1.0.0")
	}
	if len(s) > MaxVersionLength {
		return nil, errs.Errorf(errs.Invalid, "version %.20q… is %d characters long; the limit is %d", s, len(s), MaxVersionLength)
	}
	v, err := semver.StrictNewVersion(s)
	if err != nil {
		return nil, errs.Errorf(errs.Invalid, "%q is not a SemVer 2.0 version such as 1.0.0%s", s, versionHint(s, err))
	}
	// Masterminds compares numeric prerelease identifiers as strings when
	// they overflow uint64, which would order versions wrongly.
	for _, id := range strings.Split(v.Prerelease(), ".") {
		if id != "" && isDigits(id) {
			if _, err := strconv.ParseUint(id, 10, 64); err != nil {
				return nil, errs.Errorf(errs.Invalid, "%q is not a usable version: the prerelease number %s is too large", s, id)
			}
		}
	}
	return v, nil
}

// versionHint explains the most common mistakes in a version string.
func versionHint(s string, err error) string {
	core, _, _ := strings.Cut(s, "+")
	core, _, _ = strings.Cut(core, "-")
	switch {
	case s[0] == 'v' || s[0] == 'V':
		return " (drop the leading \"v\")"
	case strings.Count(core, ".") < 2:
		return " (it needs three numbers: MAJOR.MINOR.PATCH)"
	case strings.Count(core, ".") > 2:
		return " (it has more than three numbers)"
	case hasHugeNumber(core):
		return " (a number is too large; the limit is 18446744073709551615)"
	case errors.Is(err, semver.ErrSegmentStartsZero):
		return " (numbers must not have leading zeros)"
	case errors.Is(err, semver.ErrInvalidPrerelease):
		return " (the part after '-' must be dot-separated identifiers of letters, digits and '-')"
	case errors.Is(err, semver.ErrInvalidMetadata):
		return " (the part after '+' must be dot-separated identifiers of letters, digits and '-')"
	}
	return ""
}

// hasHugeNumber reports whether one of the dot-separated numbers of core
// does not fit in 64 bits, which Masterminds refuses without saying why.
func hasHugeNumber(core string) bool {
	for _, part := range strings.Split(core, ".") {
		if isDigits(part) {
			if _, err := strconv.ParseUint(part, 10, 64); err != nil {
				return true
			}
		}
	}
	return false
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
