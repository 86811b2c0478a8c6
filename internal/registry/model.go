package registry

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/manifest"
	"github.com/dryad-lang/registry/internal/store"
)

// The read models of the registry: what it knows of a package and its
// versions, typed, in no wire format. The API renders them as JSON (the
// Oak document among them), the web interface as pages.

// Package is a live package.
type Package struct {
	// Name is the canonical name: the spelling it was first published with.
	Name string
	// Description, Keywords, Homepage, Repository and License are the
	// latest version's, as the package keeps them for lists and search.
	Description string
	Keywords    []string
	Homepage    string
	Repository  string
	License     string
	// Latest is the version installs get ("" when every version is yanked).
	Latest string
	Owners []string
	// Versions are the versions not deleted, newest first.
	Versions []Version
	// Downloads counts every download; DownloadsLast30Days those of the
	// last 30 UTC days, today included.
	Downloads           int64
	DownloadsLast30Days int64
	CreatedAt           time.Time
	UpdatedAt           time.Time

	// deleted maps the keys of deleted versions to their text, so that
	// Find can answer 410 for them.
	deleted map[string]string
}

// Version is one published version.
type Version struct {
	// Package is the package's canonical name.
	Package      string
	Version      string
	Checksum     string // lowercase hex SHA-256 of the canonical archive
	Size         int64
	UnpackedSize int64
	FileCount    int
	PublishedAt  time.Time
	Publisher    string
	Yanked       bool
	Prerelease   bool
	Downloads    int64
	// GitCommit is the version's commit, "" until the git worker made it.
	GitCommit string

	// What the version's manifest says.
	Description     string
	Author          string
	License         string
	Keywords        []string
	Homepage        string
	Repository      string
	Dependencies    map[string]string
	DevDependencies map[string]string
	HasReadme       bool
	// ReadmeHTML is the README rendered and sanitised at publish time.
	ReadmeHTML string
}

// Default is the version an install gets: the highest release not yanked,
// else the highest prerelease not yanked; nil when every version is yanked.
func (p *Package) Default() *Version {
	if i := manifest.Latest(p.Versions, func(v *Version) string { return v.Version }, func(v *Version) bool { return !v.Yanked }); i >= 0 {
		return &p.Versions[i]
	}
	return nil
}

// NoDefault is the refusal for a package without a default version: every
// version yanked (named, newest first), or every version deleted.
func (p *Package) NoDefault() error {
	var yanked []string
	for _, v := range p.Versions {
		if v.Yanked {
			yanked = append(yanked, v.Version)
		}
	}
	if len(yanked) == 0 {
		return errs.Errorf(errs.Gone, "%s has no versions left: every version was deleted", p.Name)
	}
	shown := yanked
	if len(shown) > 10 {
		shown = append(shown[:10:10], fmt.Sprintf("and %d more", len(yanked)-10))
	}
	return errs.Errorf(errs.NotFound, "every version of %s is yanked (%s), so nothing installs by default; "+
		"a yanked version is still served by its exact number (?version=%s), and the owners can unyank it or publish a new version",
		p.Name, strings.Join(shown, ", "), yanked[0])
}

// Find returns the version asked for, written with or without build
// metadata: 404 when the package has no such version, 410 when it was
// deleted.
func (p *Package) Find(asked string) (*Version, error) {
	key := asked
	if sv, err := manifest.ParseVersion(asked); err == nil {
		key = manifest.Key(sv)
	}
	for i := range p.Versions {
		v := &p.Versions[i]
		if v.Version == asked || manifest.Key(manifest.Precedence(v.Version)) == key {
			return v, nil
		}
	}
	if d, ok := p.deleted[key]; ok {
		return nil, errs.Errorf(errs.Gone, "%s@%s was deleted", p.Name, d)
	}
	return nil, errs.Errorf(errs.NotFound, "%s has no version %q", p.Name, asked)
}

// newVersion is the read model of a stored version of the package named pkg.
func newVersion(pkg string, v *store.Version) Version {
	out := Version{
		Package: pkg, Version: v.Version, Checksum: v.Checksum, Size: v.Size, UnpackedSize: v.UnpackedSize,
		FileCount: v.FileCount, PublishedAt: v.PublishedAt, Publisher: v.Publisher, Yanked: v.Yanked,
		Prerelease: semverOf(v).Prerelease() != "", Downloads: v.Downloads, GitCommit: v.GitCommit,
		HasReadme: v.Readme != "", ReadmeHTML: v.ReadmeHTML,
	}
	if m, err := manifest.Parse(v.Manifest); err == nil {
		out.Description, out.Author, out.License = m.Description, m.Author, m.License
		out.Keywords, out.Homepage, out.Repository = m.Keywords, m.Homepage, m.Repository
		out.Dependencies, out.DevDependencies = m.Dependencies, m.DevDependencies
	} else {
		// A manifest the rules of today refuse was accepted when it was
		// published: read the fields it has rather than hide the version.
		var f map[string]json.RawMessage
		json.Unmarshal(v.Manifest, &f)
		json.Unmarshal(f["description"], &out.Description)
		json.Unmarshal(f["license"], &out.License)
		json.Unmarshal(f["dependencies"], &out.Dependencies)
		json.Unmarshal(f["dev_dependencies"], &out.DevDependencies)
	}
	if out.Dependencies == nil {
		out.Dependencies = map[string]string{}
	}
	if out.DevDependencies == nil {
		out.DevDependencies = map[string]string{}
	}
	if out.Keywords == nil {
		out.Keywords = []string{}
	}
	return out
}
