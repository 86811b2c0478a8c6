package manifest

import (
	"math"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/dryad-lang/registry/internal/errs"
)

// MaxRangeLength is the longest version range accepted, in bytes.
const MaxRangeLength = 256

// Range is an npm-style version range such as "^1.2.0", ">=1.0.0 <2.0.0" or
// "1.x || 2.x". It follows npm's rules, prereleases included: a prerelease
// version matches only a range that names a prerelease of the same
// MAJOR.MINOR.PATCH, so "^1.2.0" never picks 1.3.0-beta.
//
// Masterminds' own Constraints are not used because they let a prerelease in
// any comparator admit prereleases of every version, and they accept
// spellings npm does not (commas, "!=").
type Range struct {
	raw  string
	sets [][]comparator // OR of ANDs; an empty AND matches every release
}

// comparator is one primitive test: the version compared to v with op.
type comparator struct {
	op string // "<", "<=", ">", ">=", "="
	v  *semver.Version
}

// ParseRange parses an npm-style range. Besides the usual forms (exact
// "1.2.3" or "=1.2.3", "^1.2.0", "~1.2", ">=1.0.0 <2.0.0", "1.x", "*",
// hyphen ranges "1.0.0 - 2.0.0" and "||" unions) it accepts "latest" and
// the empty string, which both mean any release: Oak writes "latest" into
// dependencies when a package is installed without a version.
func ParseRange(s string) (*Range, error) {
	if len(s) > MaxRangeLength {
		return nil, errs.Errorf(errs.Invalid, "version range %.20q… is %d characters long; the limit is %d", s, len(s), MaxRangeLength)
	}
	for _, c := range s {
		if c < ' ' || c > '~' {
			return nil, errs.Errorf(errs.Invalid, "version range %q has the character %q; ranges are written with ASCII letters, digits, spaces and < > = ~ ^ * . - + |", s, c)
		}
	}
	r := &Range{raw: s}
	t := strings.TrimSpace(s)
	if t == "" || t == "latest" {
		r.sets = [][]comparator{nil}
		return r, nil
	}
	for _, alt := range strings.Split(t, "||") {
		set, err := parseSet(strings.TrimSpace(alt))
		if err != nil {
			return nil, errs.Errorf(errs.Invalid, "%q is not a version range: %s (use forms such as ^1.2.0, ~1.2.0, >=1.0.0 <2.0.0, 1.x, 1.0.0 - 2.0.0, * or latest)", s, err.Error())
		}
		r.sets = append(r.sets, set)
	}
	return r, nil
}

// String returns the range as it was written.
func (r *Range) String() string { return r.raw }

// Check reports whether v satisfies the range.
func (r *Range) Check(v *semver.Version) bool {
	for _, set := range r.sets {
		if setMatches(set, v) {
			return true
		}
	}
	return false
}

// Best returns the highest of versions that satisfies the range, or nil.
// The caller leaves out versions that must not be picked (yanked, deleted).
// Of versions equal in precedence (differing only in build metadata) the
// first one listed wins.
func (r *Range) Best(versions []*semver.Version) *semver.Version {
	var best *semver.Version
	for _, v := range versions {
		if v == nil || !r.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) {
			best = v
		}
	}
	return best
}

func setMatches(set []comparator, v *semver.Version) bool {
	for _, c := range set {
		if !c.matches(v) {
			return false
		}
	}
	if v.Prerelease() == "" {
		return true
	}
	// npm's rule: prereleases are opt-in per MAJOR.MINOR.PATCH.
	for _, c := range set {
		if c.v.Prerelease() != "" && c.v.Major() == v.Major() && c.v.Minor() == v.Minor() && c.v.Patch() == v.Patch() {
			return true
		}
	}
	return false
}

func (c comparator) matches(v *semver.Version) bool {
	d := v.Compare(c.v)
	switch c.op {
	case "<":
		return d < 0
	case "<=":
		return d <= 0
	case ">":
		return d > 0
	case ">=":
		return d >= 0
	default:
		return d == 0
	}
}

// partial is a possibly incomplete version as written in a range: "1",
// "1.2", "1.x", "1.2.3-beta". A missing or wildcard part is "x".
type partial struct {
	major, minor, patch uint64
	xMajor, xMinor      bool // xMajor implies xMinor, xMinor implies xPatch
	xPatch              bool
	pre                 string
}

// parseSet parses one alternative of a range: a hyphen range or a
// space-separated list of comparators that must all hold.
func parseSet(s string) ([]comparator, error) {
	if s == "" {
		return nil, errString("an alternative around || is empty")
	}
	fields := strings.Fields(s)
	if len(fields) == 3 && fields[1] == "-" {
		from, err := parsePartial(fields[0])
		if err != nil {
			return nil, err
		}
		to, err := parsePartial(fields[2])
		if err != nil {
			return nil, err
		}
		return hyphen(from, to), nil
	}
	var set []comparator
	for rest := s; ; {
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			break
		}
		n := 0
		for n < len(rest) && strings.IndexByte("<>=~^", rest[n]) >= 0 {
			n++
		}
		op := rest[:n]
		rest = strings.TrimLeft(rest[n:], " ")
		end := strings.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		word := rest[:end]
		rest = rest[end:]
		switch {
		case word == "-":
			return nil, errString("a hyphen range needs exactly one version on each side of \" - \"")
		case word == "":
			return nil, errString("operator " + strconv.Quote(op) + " is not followed by a version")
		}
		p, err := parsePartial(word)
		if err != nil {
			return nil, err
		}
		cs, err := desugar(op, p)
		if err != nil {
			return nil, err
		}
		set = append(set, cs...)
	}
	return set, nil
}

// parsePartial parses "1", "1.2", "1.2.3", "1.2.3-pre+build" with "x", "X" or
// "*" allowed in place of any number.
func parsePartial(s string) (partial, error) {
	var p partial
	if s[0] == 'v' || s[0] == 'V' {
		return p, errString(strconv.Quote(s) + " starts with \"v\"; drop it")
	}
	core, build, hasBuild := strings.Cut(s, "+")
	core, pre, hasPre := strings.Cut(core, "-")
	parts := strings.Split(core, ".")
	if len(parts) > 3 {
		return p, errString(strconv.Quote(s) + " has more than three numbers")
	}
	p.xMajor, p.xMinor, p.xPatch = true, true, true
	for i, part := range parts {
		if part == "x" || part == "X" || part == "*" {
			continue
		}
		if i > 0 && (i == 1 && p.xMajor || i == 2 && p.xMinor) {
			return p, errString(strconv.Quote(s) + " has a number after a wildcard")
		}
		n, err := parseNumber(part)
		if err != nil {
			return p, errString(strconv.Quote(s) + ": " + err.Error())
		}
		switch i {
		case 0:
			p.major, p.xMajor = n, false
		case 1:
			p.minor, p.xMinor = n, false
		case 2:
			p.patch, p.xPatch = n, false
		}
	}
	if (hasPre || hasBuild) && p.xPatch {
		return p, errString(strconv.Quote(s) + " has a prerelease or build part but not three numbers")
	}
	if hasPre || hasBuild {
		// Validate the qualifiers with the strict version parser.
		full := strconv.FormatUint(p.major, 10) + "." + strconv.FormatUint(p.minor, 10) + "." + strconv.FormatUint(p.patch, 10)
		if hasPre {
			full += "-" + pre
		}
		if hasBuild {
			full += "+" + build
		}
		if _, err := semver.StrictNewVersion(full); err != nil {
			return p, errString(strconv.Quote(s) + " has an invalid prerelease or build part")
		}
		p.pre = pre
	}
	return p, nil
}

func parseNumber(s string) (uint64, error) {
	if s == "" {
		return 0, errString("a number is missing")
	}
	if !isDigits(s) {
		return 0, errString(strconv.Quote(s) + " is not a number")
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, errString(strconv.Quote(s) + " has a leading zero")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, errString(strconv.Quote(s) + " is too large")
	}
	return n, nil
}

// desugar turns one written comparator into primitive comparators, with
// npm's meaning for each operator and wildcard.
func desugar(op string, p partial) ([]comparator, error) {
	switch op {
	case "", "=":
		return xrange(p), nil
	case "~", "~>":
		return tilde(p), nil
	case "^":
		return caret(p), nil
	case "<", "<=", ">", ">=":
		return primitive(op, p), nil
	}
	return nil, errString("unknown operator " + strconv.Quote(op) + "; use one of < <= > >= = ~ ^")
}

// none is a comparator set that matches nothing (npm's "<0.0.0-0").
func none() []comparator {
	return []comparator{{"<", semver.New(0, 0, 0, "0", "")}}
}

func ge(major, minor, patch uint64, pre string) comparator {
	return comparator{">=", semver.New(major, minor, patch, pre, "")}
}

// below returns "<major.minor.patch-0" unless the bound overflowed, in which
// case there is no upper bound.
func below(major, minor, patch uint64, ok bool) []comparator {
	if !ok {
		return nil
	}
	return []comparator{{"<", semver.New(major, minor, patch, "0", "")}}
}

func inc(n uint64) (uint64, bool) { return n + 1, n != math.MaxUint64 }

// nextMajor and nextMinor are the exclusive upper bounds of "same major" and
// "same minor" ranges.
func nextMajor(p partial) []comparator {
	m, ok := inc(p.major)
	return below(m, 0, 0, ok)
}

func nextMinor(p partial) []comparator {
	m, ok := inc(p.minor)
	return below(p.major, m, 0, ok)
}

func xrange(p partial) []comparator {
	switch {
	case p.xMajor:
		return nil
	case p.xMinor:
		return append([]comparator{ge(p.major, 0, 0, "")}, nextMajor(p)...)
	case p.xPatch:
		return append([]comparator{ge(p.major, p.minor, 0, "")}, nextMinor(p)...)
	}
	return []comparator{{"=", semver.New(p.major, p.minor, p.patch, p.pre, "")}}
}

func tilde(p partial) []comparator {
	switch {
	case p.xMajor:
		return nil
	case p.xMinor:
		return append([]comparator{ge(p.major, 0, 0, "")}, nextMajor(p)...)
	case p.xPatch:
		return append([]comparator{ge(p.major, p.minor, 0, "")}, nextMinor(p)...)
	}
	return append([]comparator{ge(p.major, p.minor, p.patch, p.pre)}, nextMinor(p)...)
}

func caret(p partial) []comparator {
	switch {
	case p.xMajor:
		return nil
	case p.xMinor:
		return append([]comparator{ge(p.major, 0, 0, "")}, nextMajor(p)...)
	case p.xPatch:
		lo := ge(p.major, p.minor, 0, "")
		if p.major == 0 {
			return append([]comparator{lo}, nextMinor(p)...)
		}
		return append([]comparator{lo}, nextMajor(p)...)
	}
	lo := ge(p.major, p.minor, p.patch, p.pre)
	switch {
	case p.major > 0:
		return append([]comparator{lo}, nextMajor(p)...)
	case p.minor > 0:
		return append([]comparator{lo}, nextMinor(p)...)
	}
	n, ok := inc(p.patch)
	return append([]comparator{lo}, below(0, 0, n, ok)...)
}

func primitive(op string, p partial) []comparator {
	if !p.xPatch {
		return []comparator{{op, semver.New(p.major, p.minor, p.patch, p.pre, "")}}
	}
	if p.xMajor {
		if op == "<" || op == ">" {
			return none()
		}
		return nil
	}
	switch op {
	case ">":
		// ">1" means ">=2.0.0", ">1.2" means ">=1.3.0".
		if p.xMinor {
			m, ok := inc(p.major)
			if !ok {
				return none()
			}
			return []comparator{ge(m, 0, 0, "")}
		}
		m, ok := inc(p.minor)
		if !ok {
			return none()
		}
		return []comparator{ge(p.major, m, 0, "")}
	case ">=":
		return []comparator{ge(p.major, p.minor, 0, "")}
	case "<":
		return below(p.major, p.minor, 0, true)
	}
	// "<=1" means "<2.0.0-0", "<=1.2" means "<1.3.0-0".
	if p.xMinor {
		return nextMajor(p)
	}
	return nextMinor(p)
}

func hyphen(from, to partial) []comparator {
	var set []comparator
	if !from.xMajor {
		set = append(set, ge(from.major, from.minor, from.patch, from.pre))
	}
	switch {
	case to.xMajor:
	case to.xMinor:
		set = append(set, nextMajor(to)...)
	case to.xPatch:
		set = append(set, nextMinor(to)...)
	default:
		set = append(set, comparator{"<=", semver.New(to.major, to.minor, to.patch, to.pre, "")})
	}
	return set
}

// errString is a plain error used inside the parser; ParseRange turns it
// into the user-facing message.
type errString string

func (e errString) Error() string { return string(e) }
