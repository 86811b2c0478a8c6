package registry

import (
	"github.com/Masterminds/semver/v3"

	"github.com/dryad-lang/registry/internal/manifest"
	"github.com/dryad-lang/registry/internal/store"
)

// The choice among versions is manifest's (Latest, NewestFirst, Key); these
// apply it to stored rows.

func versionOf(v *store.Version) string { return v.Version }

func semverOf(v *store.Version) *semver.Version { return manifest.Precedence(v.Version) }

// live reports whether a version may be installed by a range: not deleted
// and not yanked.
func live(v *store.Version) bool { return v.DeletedAt == nil && !v.Yanked }

// present reports whether a version is not deleted.
func present(v *store.Version) bool { return v.DeletedAt == nil }

// latestOf picks the version installs get by default, or nil.
func latestOf(vs []store.Version) *store.Version {
	if i := manifest.Latest(vs, versionOf, live); i >= 0 {
		return &vs[i]
	}
	return nil
}

// newestFirst sorts versions by descending SemVer precedence.
func newestFirst(vs []store.Version) { manifest.NewestFirst(vs, versionOf) }

// bestMatch returns the highest live version satisfying r, or nil.
func bestMatch(vs []store.Version, r *manifest.Range) *store.Version {
	var cands []*semver.Version
	byVer := make(map[*semver.Version]*store.Version)
	for i := range vs {
		if !live(&vs[i]) {
			continue
		}
		sv := semverOf(&vs[i])
		cands = append(cands, sv)
		byVer[sv] = &vs[i]
	}
	if b := r.Best(cands); b != nil {
		return byVer[b]
	}
	return nil
}

// liveVersionList lists live version strings, newest first, for messages.
func liveVersionList(vs []store.Version, max int) []string {
	c := append([]store.Version(nil), vs...)
	newestFirst(c)
	var out []string
	for i := range c {
		if live(&c[i]) {
			out = append(out, c[i].Version)
			if len(out) == max {
				break
			}
		}
	}
	return out
}

// normalize is the form of a package name that decides sameness.
func normalize(name string) string { return manifest.NormalizeName(name) }
