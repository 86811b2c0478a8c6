package registry

import (
	"context"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/manifest"
	"github.com/dryad-lang/registry/internal/store"
)

// ImpactAction is a change whose effect on dependents can be previewed.
type ImpactAction string

// The changes an impact is computed for.
const (
	ImpactYank   ImpactAction = "yank"
	ImpactDelete ImpactAction = "delete"
)

// DefaultImpactLimit is how many entries an impact lists when the caller
// does not say; MaxImpactLimit is the most it lists. The counts always
// cover every affected version.
const (
	DefaultImpactLimit = 100
	MaxImpactLimit     = 1000
)

// ImpactQuery names a proposed change: yanking or deleting Name@Version,
// or deleting the whole package when Version is empty.
type ImpactQuery struct {
	Name    string
	Version string
	Action  ImpactAction
	// Limit bounds Impact.Entries; DefaultImpactLimit when zero.
	Limit int
}

// Impact is what a yank or delete would change for other packages: every
// live version of another package whose dependency range would then
// resolve to a different version, or to none.
type Impact struct {
	// Package is the changed package's canonical name; Version the
	// changed version, "" for a whole-package delete.
	Package string
	Version string
	Action  ImpactAction
	// Versions counts the affected dependent versions, Packages the
	// packages they belong to: all of them, whatever Limit cut.
	Versions int
	Packages int
	// Entries lists the first affected versions, by package name then
	// newest version first.
	Entries []ImpactEntry
}

// Truncated reports whether Entries lists fewer versions than are
// affected.
func (i *Impact) Truncated() bool { return len(i.Entries) < i.Versions }

// ImpactEntry is one dependent version whose resolution changes.
type ImpactEntry struct {
	// Package is the dependent's name, Version its version and Range the
	// range it asks of the changed package.
	Package string
	Version string
	Range   string
	// From is the version the range picks now; To the one it would pick
	// after the change, "" when no version would satisfy it any more.
	From string
	To   string
	// Owners are the usernames of the dependent package's owners.
	Owners []string
}

// Unresolvable reports whether nothing would satisfy the range after the
// change.
func (e *ImpactEntry) Unresolvable() bool { return e.To == "" }

// affected is an ImpactEntry with the dependent package's id, for the
// owners lookup.
type affected struct {
	packageID int64
	entry     ImpactEntry
}

// Impact previews a yank or delete: which dependents' ranges would then
// resolve differently, with the same rule that resolves ranges for
// installs (bestMatch: the highest version neither yanked nor deleted that
// satisfies the range, npm's prerelease rule included). Anyone may ask:
// the dependents, their ranges and the owners are all public already.
func (s *Service) Impact(ctx context.Context, q ImpactQuery) (*Impact, error) {
	switch q.Action {
	case ImpactYank, ImpactDelete:
	default:
		return nil, errs.Errorf(errs.Invalid, "action %q is not one of yank or delete", q.Action)
	}
	if q.Action == ImpactYank && q.Version == "" {
		return nil, errs.New(errs.Invalid, "a yank needs a version; only a delete applies to the whole package")
	}
	switch {
	case q.Limit == 0:
		q.Limit = DefaultImpactLimit
	case q.Limit < 1 || q.Limit > MaxImpactLimit:
		return nil, errs.Errorf(errs.Invalid, "limit must be 1 to %d", MaxImpactLimit)
	}
	pk, err := s.lookupPackage(ctx, q.Name)
	if err != nil {
		return nil, err
	}
	vs, err := s.store.ListVersions(ctx, pk.ID)
	if err != nil {
		return nil, err
	}
	var target *store.Version
	if q.Version != "" {
		if target, err = findVersion(pk, vs, q.Version); err != nil {
			return nil, err
		}
	}
	rows, err := s.impactRows(ctx, s.store, pk, vs, target, q.Action)
	if err != nil {
		return nil, err
	}
	out := &Impact{Package: pk.Name, Action: q.Action, Versions: len(rows), Entries: []ImpactEntry{}}
	if target != nil {
		out.Version = target.Version
	}
	for i := range rows {
		if i == 0 || rows[i].packageID != rows[i-1].packageID {
			out.Packages++
		}
	}
	shown := rows[:min(len(rows), q.Limit)]
	if err := s.fillOwners(ctx, shown); err != nil {
		return nil, err
	}
	for _, r := range shown {
		out.Entries = append(out.Entries, r.entry)
	}
	return out, nil
}

// findVersion finds a present version of pk by its number: 404 when there
// is none, 410 when it was deleted.
func findVersion(pk *store.Package, vs []store.Version, version string) (*store.Version, error) {
	sv, err := manifest.ParseVersion(version)
	if err != nil {
		return nil, errs.Errorf(errs.NotFound, "%s has no version %q", pk.Name, version)
	}
	key := manifest.Key(sv)
	for i := range vs {
		if vs[i].Key != key {
			continue
		}
		if vs[i].DeletedAt != nil {
			return nil, errs.Errorf(errs.Gone, "%s@%s was deleted", pk.Name, vs[i].Version)
		}
		return &vs[i], nil
	}
	return nil, errs.Errorf(errs.NotFound, "%s has no version %q", pk.Name, version)
}

// impactRows lists the dependent versions whose resolution of pk changes
// when target is yanked or deleted (every version of pk when target is
// nil), in one query for the dependents whatever their number. vs are
// pk's versions as they are now.
func (s *Service) impactRows(ctx context.Context, q store.Queries, pk *store.Package, vs []store.Version, target *store.Version, action ImpactAction) ([]affected, error) {
	after := make([]store.Version, len(vs))
	copy(after, vs)
	now := s.utcNow()
	for i := range after {
		if target != nil && after[i].ID != target.ID {
			continue
		}
		// Both a yank and a delete take the version out of resolution;
		// the copy's fields only feed bestMatch.
		if action == ImpactYank {
			after[i].Yanked = true
		} else {
			after[i].DeletedAt = &now
		}
	}
	deps, err := q.DependentVersions(ctx, pk.NormalizedName)
	if err != nil {
		return nil, err
	}
	// A range is resolved once per distinct range, not once per version:
	// many versions of many dependents share "^1.2.0".
	type move struct{ from, to string }
	moves := make(map[string]*move)
	var out []affected
	for _, d := range deps {
		m, ok := moves[d.Range]
		if !ok {
			m = &move{}
			// A stored range was valid when published; one that no
			// longer parses resolves to nothing before and after.
			if r, err := manifest.ParseRange(d.Range); err == nil {
				if b := bestMatch(vs, r); b != nil {
					m.from = b.Version
				}
				if b := bestMatch(after, r); b != nil {
					m.to = b.Version
				}
			}
			moves[d.Range] = m
		}
		if m.from == m.to {
			continue
		}
		out = append(out, affected{packageID: d.PackageID, entry: ImpactEntry{
			Package: d.Package, Version: d.Version, Range: d.Range, From: m.from, To: m.to}})
	}
	// The query orders by package; newest version first within one.
	for start := 0; start < len(out); {
		end := start + 1
		for end < len(out) && out[end].packageID == out[start].packageID {
			end++
		}
		manifest.NewestFirst(out[start:end], func(a *affected) string { return a.entry.Version })
		start = end
	}
	return out, nil
}

// fillOwners sets the owners of the rows' packages, in one lookup.
func (s *Service) fillOwners(ctx context.Context, rows []affected) error {
	owners, err := s.ownersOf(ctx, rows)
	if err != nil {
		return err
	}
	for i := range rows {
		rows[i].entry.Owners = []string{}
		for _, o := range owners[rows[i].packageID] {
			rows[i].entry.Owners = append(rows[i].entry.Owners, o.Username)
		}
	}
	return nil
}

// ownersOf reads the owners of the rows' distinct packages in one query;
// rows come grouped by package.
func (s *Service) ownersOf(ctx context.Context, rows []affected) (map[int64][]store.OwnerContact, error) {
	var ids []int64
	for _, r := range rows {
		if len(ids) == 0 || ids[len(ids)-1] != r.packageID {
			ids = append(ids, r.packageID)
		}
	}
	out := make(map[int64][]store.OwnerContact, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	owners, err := s.store.OwnersOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, o := range owners {
		out[o.PackageID] = append(out[o.PackageID], o)
	}
	return out, nil
}
