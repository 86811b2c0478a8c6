package registry

import (
	"fmt"
	"sort"

	"github.com/Masterminds/semver/v3"

	"github.com/dryad-lang/registry/internal/manifest"
	"github.com/dryad-lang/registry/internal/store"
)

// versionKey is a version without build metadata: SemVer ignores build
// metadata for precedence, so 1.0.0+a and 1.0.0+b are the same version.
func versionKey(v *semver.Version) string {
	k := fmt.Sprintf("%d.%d.%d", v.Major(), v.Minor(), v.Patch())
	if p := v.Prerelease(); p != "" {
		k += "-" + p
	}
	return k
}

// semverOf parses a stored version; stored versions were validated at
// publish time, so a failure means a corrupted row and sorts it lowest.
func semverOf(v *store.Version) *semver.Version {
	sv, err := manifest.ParseVersion(v.Version)
	if err != nil {
		return semver.New(0, 0, 0, "invalid", "")
	}
	return sv
}

// live reports whether a version may be installed by a range: not deleted
// and not yanked.
func live(v *store.Version) bool { return v.DeletedAt == nil && !v.Yanked }

// latestOf picks the version installs get by default: the highest live
// version that is not a prerelease, else the highest live prerelease, else
// nil. Upload order does not matter.
func latestOf(vs []store.Version) *store.Version {
	var best, bestPre *store.Version
	var bestV, bestPreV *semver.Version
	for i := range vs {
		v := &vs[i]
		if !live(v) {
			continue
		}
		sv := semverOf(v)
		if sv.Prerelease() == "" {
			if bestV == nil || sv.GreaterThan(bestV) {
				best, bestV = v, sv
			}
		} else if bestPreV == nil || sv.GreaterThan(bestPreV) {
			bestPre, bestPreV = v, sv
		}
	}
	if best != nil {
		return best
	}
	return bestPre
}

// newestFirst sorts versions by descending SemVer precedence.
func newestFirst(vs []store.Version) {
	svs := make(map[int64]*semver.Version, len(vs))
	for i := range vs {
		svs[vs[i].ID] = semverOf(&vs[i])
	}
	sort.SliceStable(vs, func(i, j int) bool {
		return svs[vs[i].ID].GreaterThan(svs[vs[j].ID])
	})
}

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
