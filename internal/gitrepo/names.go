package gitrepo

import (
	"regexp"

	"github.com/dryad-lang/registry/internal/errs"
)

// nameRE is the registry's package-name rule, checked again here because a
// name becomes a folder name: nothing reaches the filesystem unchecked.
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// versionRE is SemVer 2.0.0 (without a leading v). Every string it accepts is
// also a valid git ref component, which is why tags can be built from it.
var versionRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// commitRE matches a full SHA-1 object id; repositories use SHA-1 so that ids
// stay comparable with every git client and mirror.
var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

const (
	mainRef    = "refs/heads/main"
	tagsPrefix = "refs/tags/"
	zeroID     = "0000000000000000000000000000000000000000"
)

func checkName(name string) error {
	if !nameRE.MatchString(name) {
		return errs.Errorf(errs.Invalid, "invalid package name %q", name)
	}
	return nil
}

func checkVersion(version string) error {
	if len(version) > 128 || !versionRE.MatchString(version) {
		return errs.Errorf(errs.Invalid, "invalid version %q: expected a SemVer version such as 1.2.0", version)
	}
	return nil
}

func checkCommit(id string) error {
	if !commitRE.MatchString(id) {
		return errs.Errorf(errs.Invalid, "invalid commit id %q: expected 40 lowercase hex digits", id)
	}
	return nil
}

// tagName is the tag of a version: v{version}.
func tagName(version string) string { return "v" + version }
