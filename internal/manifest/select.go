package manifest

import (
	"fmt"
	"sort"

	"github.com/Masterminds/semver/v3"
)

// The registry's rules for choosing among a package's versions, in one
// place: the version installs get (Latest), the git parent of a version
// (Parent), and the order versions are shown in (NewestFirst). They take
// any slice with accessors, so the service, the git worker and the pages
// choose alike from the rows they already hold.

// Precedence parses a stored version for ordering. Versions were checked
// when they were published, so one that no longer parses is a damaged row;
// it sorts below every valid version rather than failing a whole page.
func Precedence(v string) *semver.Version {
	sv, err := ParseVersion(v)
	if err != nil {
		return semver.New(0, 0, 0, "invalid", "")
	}
	return sv
}

// Key is a version without its build metadata: SemVer ignores build
// metadata for precedence, so 1.0.0+a and 1.0.0+b are one version and
// share a key.
func Key(v *semver.Version) string {
	k := fmt.Sprintf("%d.%d.%d", v.Major(), v.Minor(), v.Patch())
	if p := v.Prerelease(); p != "" {
		k += "-" + p
	}
	return k
}

// Latest returns the index in vs of the version installs get by default
// among the eligible ones: the highest release by SemVer precedence, or
// when there is no release the highest prerelease; -1 when none is
// eligible. Upload order does not matter.
func Latest[T any](vs []T, version func(*T) string, eligible func(*T) bool) int {
	best, bestPre := -1, -1
	var bestV, bestPreV *semver.Version
	for i := range vs {
		if !eligible(&vs[i]) {
			continue
		}
		sv := Precedence(version(&vs[i]))
		if sv.Prerelease() == "" {
			if bestV == nil || sv.GreaterThan(bestV) {
				best, bestV = i, sv
			}
		} else if bestPreV == nil || sv.GreaterThan(bestPreV) {
			bestPre, bestPreV = i, sv
		}
	}
	if best >= 0 {
		return best
	}
	return bestPre
}

// Parent returns the index in vs of the version a new version vs[i]
// descends from: the highest version below it by SemVer precedence among
// the candidates (in the git history: those published before it and not
// deleted by then); -1 for none. A patch of an old line published after a
// new major release thus extends the old line.
func Parent[T any](vs []T, i int, version func(*T) string, candidate func(c, v *T) bool) int {
	sv := Precedence(version(&vs[i]))
	best := -1
	var bestV *semver.Version
	for k := range vs {
		if k == i || !candidate(&vs[k], &vs[i]) {
			continue
		}
		cv := Precedence(version(&vs[k]))
		if cv.Compare(sv) >= 0 {
			continue
		}
		if bestV == nil || cv.GreaterThan(bestV) {
			best, bestV = k, cv
		}
	}
	return best
}

// NewestFirst sorts vs by descending SemVer precedence, keeping the order
// of versions of equal precedence.
func NewestFirst[T any](vs []T, version func(*T) string) {
	svs := make([]*semver.Version, len(vs))
	idx := make([]int, len(vs))
	for i := range vs {
		svs[i], idx[i] = Precedence(version(&vs[i])), i
	}
	sort.SliceStable(idx, func(a, b int) bool { return svs[idx[a]].GreaterThan(svs[idx[b]]) })
	sorted := make([]T, len(vs))
	for k, i := range idx {
		sorted[k] = vs[i]
	}
	copy(vs, sorted)
}
