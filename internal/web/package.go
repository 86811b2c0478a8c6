package web

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/cache"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/manifest"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/tlog"
)

// The package page's model: built from the registry's read models once per
// change of the package, and cached like the API's documents under the
// package's cache scope.

// packageView is everything a package's page shows about one version of
// it: the latest, or the one asked for. URLs in it are paths relative to
// the registry's base URL.
type packageView struct {
	Name   string
	Latest string
	// Version is the version shown; IsLatest tells whether it is Latest.
	Version  versionView
	IsLatest bool

	Description string
	Author      string
	License     string
	Keywords    []string
	// Homepage and Repository are http(s) URLs, or "" when the manifest
	// gave none or something else.
	Homepage   string
	Repository string
	// ReadmeHTML is the shown version's README, rendered and sanitised at
	// publish time.
	ReadmeHTML string

	Versions     []versionView
	Dependencies []dependencyView
	// Dependents may lag other packages' changes by a few seconds: the
	// first maxDependentsShown of DependentsTotal, by name.
	Dependents      []registry.Dependent
	DependentsTotal int
	Owners          []string
	Downloads       downloadsView
	// Daily counts the package's downloads on each of the last
	// registry.StatsDays days, oldest first, zeros included.
	Daily     []registry.DayCount
	CreatedAt time.Time
	UpdatedAt time.Time
}

// versionView is one version in a page.
type versionView struct {
	// Name is the package's canonical name.
	Name         string
	Version      string
	DownloadURL  string
	Checksum     string
	FileSize     int64
	UnpackedSize int64
	FileCount    int
	PublishedAt  time.Time
	Publisher    string
	Yanked       bool
	Prerelease   bool
	Downloads    int64
	// Previous is the version before this one in the package's list
	// (the next older one not deleted), "" for the first; the versions
	// list links their diff.
	Previous string
	// InLog is the version's publish record in the transparency log; nil
	// in lists, and for versions not recorded.
	InLog *logEntryView
}

// logEntryView is a record of the transparency log.
type logEntryView struct {
	Index int64
	Since time.Time
}

type downloadsView struct {
	Total      int64
	Last30Days int64
}

// dependencyView is one dependency of a version, as its manifest names it.
type dependencyView struct {
	Name  string
	Range string
	Dev   bool
}

func newVersionView(v *registry.Version) versionView {
	return versionView{Name: v.Package, Version: v.Version, DownloadURL: "/packages/" + v.Package + "/" + v.Version + ".tar.gz",
		Checksum: v.Checksum, FileSize: v.Size, UnpackedSize: v.UnpackedSize, FileCount: v.FileCount,
		PublishedAt: v.PublishedAt, Publisher: v.Publisher, Yanked: v.Yanked, Prerelease: v.Prerelease, Downloads: v.Downloads}
}

// dependentsTTL bounds how stale the dependents a package page shows may be.
const dependentsTTL = 30 * time.Second

// packagePageView returns the page model of a package showing version (the
// latest when ""), from the cache when it is there: 404 for an unknown
// package or version, 410 for a deleted one.
func (w *Web) packagePageView(ctx context.Context, name, version string) (*packageView, error) {
	vkey := ""
	if version != "" {
		sv, err := manifest.ParseVersion(version)
		if err != nil {
			return nil, errs.Errorf(errs.NotFound, "%s has no version %q", name, version)
		}
		vkey = manifest.Key(sv)
	}
	views := cache.ReadThrough[*packageView]{Cache: w.opts.Cache, Name: "page", TTL: registry.MetadataTTL, Observe: w.opts.OnCacheRead}
	view, err := views.Get(ctx, w.reg.PackageScope(ctx, name)+"/"+vkey, func(ctx context.Context) (*packageView, error) {
		return w.buildPackageView(ctx, name, version)
	})
	if err != nil {
		return nil, err
	}
	// Dependents change when other packages publish, yank or delete, which
	// does not touch this package's cache scope: they are cached apart, for
	// a short while.
	deps := cache.ReadThrough[shownDependents]{Cache: w.opts.Cache, Name: "dependents", TTL: dependentsTTL}
	shown, err := deps.Get(ctx, manifest.NormalizeName(view.Name), func(ctx context.Context) (shownDependents, error) {
		all, err := w.reg.Dependents(ctx, view.Name)
		return shownDependents{First: all[:min(len(all), maxDependentsShown)], Total: len(all)}, err
	})
	if err != nil {
		return nil, err
	}
	view.Dependents, view.DependentsTotal = shown.First, shown.Total
	return view, nil
}

// maxDependentsShown bounds the dependents a package page lists (and the
// cache keeps): a package many others use would otherwise make a page of
// thousands of links, decoded from the cache on every view.
const maxDependentsShown = 100

// shownDependents are the dependents a package page lists, and how many
// there are in all.
type shownDependents struct {
	First []registry.Dependent
	Total int
}

func (w *Web) buildPackageView(ctx context.Context, name, version string) (*packageView, error) {
	p, err := w.reg.Package(ctx, name)
	if err != nil {
		return nil, err
	}
	var shown *registry.Version
	if version == "" {
		// The latest; when every version is yanked, the one that would
		// be latest were none yanked (what git's main shows).
		if shown = p.Default(); shown == nil {
			if i := manifest.Latest(p.Versions, func(v *registry.Version) string { return v.Version }, func(*registry.Version) bool { return true }); i >= 0 {
				shown = &p.Versions[i]
			}
		}
		if shown == nil {
			return nil, p.NoDefault()
		}
	} else if shown, err = p.Find(version); err != nil {
		return nil, err
	}
	stats, err := w.reg.Stats(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	view := &packageView{
		Name: p.Name, Latest: p.Latest, Version: newVersionView(shown), IsLatest: shown.Version == p.Latest,
		Description: shown.Description, Author: shown.Author, License: shown.License, Keywords: shown.Keywords,
		Homepage: httpURL(shown.Homepage), Repository: httpURL(shown.Repository), ReadmeHTML: shown.ReadmeHTML,
		Versions: make([]versionView, len(p.Versions)), Dependencies: []dependencyView{}, Owners: p.Owners,
		Downloads: downloadsView{Total: p.Downloads}, Daily: stats.Daily, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	for i := range p.Versions {
		view.Versions[i] = newVersionView(&p.Versions[i])
		if i+1 < len(p.Versions) {
			view.Versions[i].Previous = p.Versions[i+1].Version
		}
		if p.Versions[i].Version == shown.Version {
			view.Version.Previous = view.Versions[i].Previous
		}
	}
	entries, err := w.reg.VersionLog(ctx, p.Name, shown.Version)
	if err != nil {
		return nil, err
	}
	if len(entries) > 0 && entries[0].Record.Kind == tlog.Publish {
		view.Version.InLog = &logEntryView{Index: entries[0].Index, Since: entries[0].Record.Time}
	}
	for _, n := range sortedKeys(shown.Dependencies) {
		view.Dependencies = append(view.Dependencies, dependencyView{Name: n, Range: shown.Dependencies[n]})
	}
	for _, n := range sortedKeys(shown.DevDependencies) {
		view.Dependencies = append(view.Dependencies, dependencyView{Name: n, Range: shown.DevDependencies[n], Dev: true})
	}
	for _, d := range view.Daily[max(0, len(view.Daily)-30):] {
		view.Downloads.Last30Days += d.Downloads
	}
	return view, nil
}

// httpURL returns u when it is an absolute http or https URL, else "": a
// page must never link to javascript: or data: URLs from a manifest.
func httpURL(u string) string {
	l := strings.ToLower(u)
	if strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") {
		return u
	}
	return ""
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
