package registry

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/archive"
	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/manifest"
	"github.com/dryad-lang/registry/internal/store"
)

// This file holds the read models of the web interface: what its pages show,
// built from the store once and cached like the API's documents.

// PackageView is everything a package's page shows about one version of
// it: the latest, or the one asked for. URLs in it are paths relative to
// the registry's base URL.
type PackageView struct {
	Name   string `json:"name"`
	Latest string `json:"latest"`
	// Version is the version shown; IsLatest tells whether it is Latest.
	Version  VersionDoc `json:"version"`
	IsLatest bool       `json:"is_latest"`

	Description string   `json:"description"`
	Author      string   `json:"author"`
	License     string   `json:"license"`
	Keywords    []string `json:"keywords"`
	// Homepage and Repository are http(s) URLs, or "" when the manifest
	// gave none or something else.
	Homepage   string `json:"homepage"`
	Repository string `json:"repository"`
	// ReadmeHTML is the shown version's README, rendered and sanitised at
	// publish time.
	ReadmeHTML string `json:"readme_html"`

	Versions     []VersionDoc    `json:"versions"`
	Dependencies []DependencyDoc `json:"dependencies"`
	// Dependents may lag other packages' changes by dependentsTTL.
	Dependents []DependentDoc `json:"dependents"`
	Owners     []string       `json:"owners"`
	Downloads  DownloadsDoc   `json:"downloads"`
	// Daily counts the package's downloads on each of the last StatsDays
	// days, oldest first, zeros included.
	Daily     []DayCount `json:"daily"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// DependencyDoc is one dependency of a version, as its manifest names it.
type DependencyDoc struct {
	Name  string `json:"name"`
	Range string `json:"range"`
	Dev   bool   `json:"dev"`
}

// DependentDoc is a package whose live versions depend on another one.
type DependentDoc struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Range   string `json:"range"`
}

// PackagePage returns the page model of a package, showing version (the
// latest when ""), from the cache when it is there: 404 for an unknown
// package or version, 410 for a deleted one.
func (s *Service) PackagePage(ctx context.Context, name, version string) (*PackageView, error) {
	norm := manifest.NormalizeName(name)
	vkey := ""
	if version != "" {
		sv, err := manifest.ParseVersion(version)
		if err != nil {
			return nil, errs.Errorf(errs.NotFound, "%s has no version %q", name, version)
		}
		vkey = manifest.Key(sv)
	}
	key := "page:" + s.generation(ctx, norm) + "/" + vkey
	var view *PackageView
	if b, ok, _ := s.cache.Get(ctx, key); ok {
		var v PackageView
		if json.Unmarshal(b, &v) == nil {
			s.obs.CacheHit(true)
			view = &v
		}
	}
	if view == nil {
		s.obs.CacheHit(false)
		p, err := s.lookupPackage(ctx, name)
		if err != nil {
			return nil, err
		}
		if view, err = s.buildPackageView(ctx, p, version); err != nil {
			return nil, err
		}
		if b, err := json.Marshal(view); err == nil {
			s.cache.Set(ctx, key, b, metadataTTL)
		}
	}
	// Dependents change when other packages publish, yank or delete, which
	// does not touch this package's generation: they are cached apart, for
	// a short while.
	deps, err := s.cachedDependents(ctx, norm)
	if err != nil {
		return nil, err
	}
	view.Dependents = deps
	return view, nil
}

// dependentsTTL bounds how stale the dependents a page shows may be.
const dependentsTTL = 30 * time.Second

func (s *Service) cachedDependents(ctx context.Context, norm string) ([]DependentDoc, error) {
	key := "dependents:" + norm
	if b, ok, _ := s.cache.Get(ctx, key); ok {
		var out []DependentDoc
		if json.Unmarshal(b, &out) == nil {
			return out, nil
		}
	}
	deps, err := s.store.Dependents(ctx, norm)
	if err != nil {
		return nil, err
	}
	out := []DependentDoc{}
	for _, d := range deps {
		out = append(out, DependentDoc{Name: d.Name, Version: d.Version, Range: d.Range})
	}
	if b, err := json.Marshal(out); err == nil {
		s.cache.Set(ctx, key, b, dependentsTTL)
	}
	return out, nil
}

func (s *Service) buildPackageView(ctx context.Context, p *store.Package, version string) (*PackageView, error) {
	vs, err := s.store.ListVersions(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	owners, err := s.store.ListOwners(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	newestFirst(vs)
	var shown *store.Version
	if version == "" {
		// The latest; when every version is yanked, the one that would
		// be latest were none yanked (what git's main shows).
		if shown = latestOf(vs); shown == nil {
			if i := manifest.Latest(vs, versionOf, present); i >= 0 {
				shown = &vs[i]
			}
		}
		if shown == nil {
			return nil, errs.Errorf(errs.Gone, "package %q has no versions left", p.Name)
		}
	} else {
		for i := range vs {
			if matchesVersion(&vs[i], version) {
				shown = &vs[i]
				break
			}
		}
		if shown == nil {
			return nil, errs.Errorf(errs.NotFound, "%s has no version %q", p.Name, version)
		}
		if shown.DeletedAt != nil {
			return nil, errs.Errorf(errs.Gone, "%s@%s was deleted", p.Name, shown.Version)
		}
	}

	view := &PackageView{
		Name:         p.Name,
		Latest:       p.Latest,
		Version:      webVersionDoc(p.Name, shown),
		IsLatest:     shown.Version == p.Latest,
		Keywords:     []string{},
		ReadmeHTML:   shown.ReadmeHTML,
		Versions:     []VersionDoc{},
		Dependencies: []DependencyDoc{},
		Dependents:   []DependentDoc{},
		Owners:       []string{},
		CreatedAt:    p.CreatedAt,
		UpdatedAt:    p.UpdatedAt,
	}
	if m, err := manifest.Parse(shown.Manifest); err == nil {
		view.Description = m.Description
		view.Author = m.Author
		view.License = m.License
		if m.Keywords != nil {
			view.Keywords = m.Keywords
		}
		view.Homepage = httpURL(m.Homepage)
		view.Repository = httpURL(m.Repository)
		for _, n := range sortedKeys(m.Dependencies) {
			view.Dependencies = append(view.Dependencies, DependencyDoc{Name: n, Range: m.Dependencies[n]})
		}
		for _, n := range sortedKeys(m.DevDependencies) {
			view.Dependencies = append(view.Dependencies, DependencyDoc{Name: n, Range: m.DevDependencies[n], Dev: true})
		}
	}
	if view.Author == "" {
		if a := authorString(fieldsOf(shown).Author); a != nil {
			view.Author = *a
		}
	}
	for i := range vs {
		if vs[i].DeletedAt == nil {
			view.Versions = append(view.Versions, webVersionDoc(p.Name, &vs[i]))
		}
	}
	for _, o := range owners {
		view.Owners = append(view.Owners, o.Username)
	}
	view.Downloads.Total = p.Downloads
	if view.Daily, err = s.dailyDownloads(ctx, p.ID, vs); err != nil {
		return nil, err
	}
	for _, d := range view.Daily[len(view.Daily)-30:] {
		view.Downloads.Last30Days += d.Downloads
	}
	return view, nil
}

// webVersionDoc is versionDoc with a download path relative to the base URL.
func webVersionDoc(pkg string, v *store.Version) VersionDoc {
	d := versionDoc(pkg, v)
	d.Name = pkg
	d.DownloadURL = strings.TrimPrefix(d.DownloadURL, BasePlaceholder)
	return d
}

// dailyDownloads sums the downloads of a package's live versions on each
// of the last StatsDays days, oldest first.
func (s *Service) dailyDownloads(ctx context.Context, packageID int64, vs []store.Version) ([]DayCount, error) {
	today := s.utcNow().Truncate(24 * time.Hour)
	first := today.AddDate(0, 0, -(StatsDays - 1))
	perVersion, err := s.store.VersionDownloads(ctx, packageID, first.Format(time.DateOnly))
	if err != nil {
		return nil, err
	}
	byDay := map[string]int64{}
	for i := range vs {
		if vs[i].DeletedAt != nil {
			continue
		}
		for _, c := range perVersion[vs[i].ID] {
			byDay[c.Day] += c.Count
		}
	}
	out := make([]DayCount, StatsDays)
	for i := range out {
		d := first.AddDate(0, 0, i).Format(time.DateOnly)
		out[i] = DayCount{Day: d, Downloads: byDay[d]}
	}
	return out, nil
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

// Dependents lists the packages whose live versions depend on a package,
// with the range of each one's newest such version.
func (s *Service) Dependents(ctx context.Context, name string) ([]DependentDoc, error) {
	p, err := s.lookupPackage(ctx, name)
	if err != nil {
		return nil, err
	}
	deps, err := s.store.Dependents(ctx, p.NormalizedName)
	if err != nil {
		return nil, err
	}
	out := []DependentDoc{}
	for _, d := range deps {
		out = append(out, DependentDoc{Name: d.Name, Version: d.Version, Range: d.Range})
	}
	return out, nil
}

// CanManage reports whether the principal may change a package: its
// owners, and admins signed in with their password.
func (s *Service) CanManage(ctx context.Context, p *auth.Principal, name string) (bool, error) {
	if p == nil {
		return false, nil
	}
	pk, err := s.lookupPackage(ctx, name)
	if err != nil {
		return false, err
	}
	if p.IsAdmin() {
		return true, nil
	}
	return s.store.IsOwner(ctx, pk.ID, p.UserID)
}

// ProfileView is a user's public profile: never the email address.
type ProfileView struct {
	Username string           `json:"username"`
	FullName string           `json:"full_name"`
	JoinedAt time.Time        `json:"joined_at"`
	Packages []PackageSummary `json:"packages"`
}

// PublicProfile returns what anyone may see of a user: the name, when they
// joined and the live packages they own. Disabled accounts are not shown.
func (s *Service) PublicProfile(ctx context.Context, username string) (*ProfileView, error) {
	u, err := s.store.GetUserByName(ctx, strings.TrimSpace(username))
	if errors.Is(err, errs.NotFound) || (err == nil && u.Disabled) {
		return nil, errs.Errorf(errs.NotFound, "user %q not found", username)
	}
	if err != nil {
		return nil, err
	}
	pkgs, err := s.UserPackages(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	// Owned packages whose every version was yanked or deleted have no
	// latest version and nothing to show.
	live := pkgs[:0]
	for _, p := range pkgs {
		if p.Version != "" {
			live = append(live, p)
		}
	}
	return &ProfileView{Username: u.Username, FullName: u.FullName, JoinedAt: u.CreatedAt, Packages: live}, nil
}

// ArchiveEntry is a file or folder of a published archive.
type ArchiveEntry struct {
	// Path is slash-separated and relative to the package root.
	Path  string `json:"path"`
	IsDir bool   `json:"dir,omitempty"`
	Size  int64  `json:"size,omitempty"`
}

// Name is the last element of the entry's path.
func (e ArchiveEntry) Name() string { return path.Base(e.Path) }

// ArchivePath is what lies at a path of a version's archive: a folder with
// its entries, or a file with its content.
type ArchivePath struct {
	Package string
	Version string
	Yanked  bool
	// Path is "" for the package root.
	Path  string
	IsDir bool
	// Entries are a folder's children: folders first, then files, by name.
	Entries []ArchiveEntry
	// Size is a file's size; Content holds it unless TooLarge.
	Size     int64
	Content  []byte
	TooLarge bool
}

// archiveListTTL bounds how long an archive's file list is cached; an
// archive's bytes never change, so this only frees memory.
const archiveListTTL = time.Hour

// BrowseArchive returns what lies at p in the archive of name@version.
// File contents larger than max bytes are not read (TooLarge is set).
// Unknown paths are 404; deleted versions 410.
func (s *Service) BrowseArchive(ctx context.Context, name, version, p string, max int64) (*ArchivePath, error) {
	ref, err := s.LookupArchive(ctx, name, version)
	if err != nil {
		return nil, err
	}
	p = strings.Trim(p, "/")
	list, err := s.archiveList(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := &ArchivePath{Package: ref.Package, Version: ref.Version, Yanked: ref.Yanked, Path: p}
	var entry *ArchiveEntry
	if p == "" {
		entry = &ArchiveEntry{IsDir: true}
	} else {
		i := sort.Search(len(list), func(i int) bool { return list[i].Path >= p })
		if i < len(list) && list[i].Path == p {
			entry = &list[i]
		}
	}
	if entry == nil {
		return nil, errs.Errorf(errs.NotFound, "%s@%s has no file %q", ref.Package, ref.Version, p)
	}
	if entry.IsDir {
		out.IsDir = true
		out.Entries = childrenOf(list, p)
		return out, nil
	}
	out.Size = entry.Size
	if entry.Size > max {
		out.TooLarge = true
		return out, nil
	}
	f, err := s.OpenArchive(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, _, err := archive.ReadFile(f, p, max)
	if err != nil {
		return nil, err
	}
	out.Content = data
	return out, nil
}

// CopyArchiveFile streams the file at p of name@version's archive: start
// is called with the file's description before the first byte is written
// to w (for headers). Folders and unknown paths are 404.
func (s *Service) CopyArchiveFile(ctx context.Context, name, version, p string, start func(ArchiveEntry), w io.Writer) error {
	ref, err := s.LookupArchive(ctx, name, version)
	if err != nil {
		return err
	}
	f, err := s.OpenArchive(ctx, ref)
	if err != nil {
		return err
	}
	defer f.Close()
	want := strings.Trim(p, "/")
	found := false
	err = archive.Walk(ctx, f, func(e archive.File, content io.Reader) error {
		if e.Path != want || e.IsDir {
			return nil
		}
		found = true
		start(ArchiveEntry{Path: e.Path, Size: e.Size})
		if _, err := io.Copy(w, content); err != nil {
			return err
		}
		return fs.SkipAll
	})
	if err != nil {
		return err
	}
	if !found {
		return errs.Errorf(errs.NotFound, "%s@%s has no file %q", ref.Package, ref.Version, want)
	}
	return nil
}

// archiveList returns every entry of a version's archive sorted by path,
// folders included even when the archive has no entry of their own.
func (s *Service) archiveList(ctx context.Context, ref *ArchiveRef) ([]ArchiveEntry, error) {
	key := "files:" + ref.Checksum
	if b, ok, _ := s.cache.Get(ctx, key); ok {
		var list []ArchiveEntry
		if json.Unmarshal(b, &list) == nil {
			return list, nil
		}
	}
	f, err := s.OpenArchive(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	seen := map[string]bool{}
	var list []ArchiveEntry
	addDirs := func(p string) {
		for d := path.Dir(p); d != "." && !seen[d]; d = path.Dir(d) {
			seen[d] = true
			list = append(list, ArchiveEntry{Path: d, IsDir: true})
		}
	}
	err = archive.Walk(ctx, f, func(e archive.File, _ io.Reader) error {
		addDirs(e.Path)
		if !seen[e.Path] {
			seen[e.Path] = true
			list = append(list, ArchiveEntry{Path: e.Path, IsDir: e.IsDir, Size: e.Size})
		}
		return nil
	})
	if err != nil {
		s.log.ErrorContext(ctx, "reading a stored archive", "package", ref.Package, "version", ref.Version, "err", err)
		return nil, errs.Wrap(errs.Unavailable, err, "the archive of "+ref.Package+"@"+ref.Version+" cannot be read")
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	if b, err := json.Marshal(list); err == nil {
		s.cache.Set(ctx, key, b, archiveListTTL)
	}
	return list, nil
}

// childrenOf returns the direct children of folder dir ("" for the root),
// folders first, then files, each group by name.
func childrenOf(list []ArchiveEntry, dir string) []ArchiveEntry {
	out := []ArchiveEntry{}
	for _, e := range list {
		parent := path.Dir(e.Path)
		if parent == "." {
			parent = ""
		}
		if parent == dir {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].IsDir != out[j].IsDir {
			return out[i].IsDir
		}
		return out[i].Path < out[j].Path
	})
	return out
}
