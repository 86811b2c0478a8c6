package registry

import (
	"encoding/json"
	"time"

	"github.com/dryad-lang/registry/internal/store"
)

// PackageDoc is the answer of GET /api/packages/{name}. Its flat fields
// describe one version (the latest unless another was asked for) exactly as
// the Oak client reads them (OAK_CONTRACT.md); the rest is for people and
// tools. Download URLs hold BasePlaceholder until the HTTP layer puts the
// registry's base URL in.
type PackageDoc struct {
	Name            string            `json:"name"`
	Version         string            `json:"version,omitempty"`
	Description     string            `json:"description"`
	Author          *string           `json:"author"`
	License         *string           `json:"license"`
	DownloadURL     string            `json:"download_url,omitempty"`
	Checksum        string            `json:"checksum,omitempty"`
	FileSize        *int64            `json:"file_size,omitempty"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"dev_dependencies"`
	PublishedAt     *time.Time        `json:"published_at,omitempty"`
	Yanked          bool              `json:"yanked"`

	Latest     string       `json:"latest"`
	Keywords   []string     `json:"keywords"`
	Homepage   string       `json:"homepage,omitempty"`
	Repository string       `json:"repository,omitempty"`
	Readme     bool         `json:"readme"`
	Owners     []string     `json:"owners"`
	Versions   []VersionDoc `json:"versions"`
	Downloads  DownloadsDoc `json:"downloads"`
	GitURL     string       `json:"git_url"`
	CreatedAt  time.Time    `json:"created_at"`
	UpdatedAt  time.Time    `json:"updated_at"`
}

// VersionDoc describes one version in lists and in
// GET /api/packages/{name}/versions/{version}.
type VersionDoc struct {
	// Name is set where a version is answered on its own (not inside its
	// package's document): the package's canonical name.
	Name            string            `json:"name,omitempty"`
	Version         string            `json:"version"`
	DownloadURL     string            `json:"download_url"`
	Checksum        string            `json:"checksum"`
	FileSize        int64             `json:"file_size"`
	UnpackedSize    int64             `json:"unpacked_size"`
	FileCount       int               `json:"file_count"`
	PublishedAt     time.Time         `json:"published_at"`
	Publisher       string            `json:"publisher"`
	Yanked          bool              `json:"yanked"`
	Prerelease      bool              `json:"prerelease"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"dev_dependencies"`
	Downloads       int64             `json:"downloads"`
	GitCommit       string            `json:"git_commit,omitempty"`
}

// DownloadsDoc counts a package's downloads.
type DownloadsDoc struct {
	Total      int64 `json:"total"`
	Last30Days int64 `json:"last_30_days"`
}

// BasePlaceholder stands for the registry's base URL in cached documents.
// JSON encoding escapes '<' and '>' in every string it writes, so the
// literal text can only come from the registry itself, never from a
// package's own fields.
const BasePlaceholder = "<base>"

func downloadURL(pkg, version string) string {
	return BasePlaceholder + "/packages/" + pkg + "/" + version + ".tar.gz"
}

// manifestFields are the manifest fields the documents repeat.
type manifestFields struct {
	Description     string            `json:"description"`
	Author          json.RawMessage   `json:"author"`
	License         string            `json:"license"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"dev_dependencies"`
}

// fieldsOf reads a stored manifest; it was validated at publish time.
func fieldsOf(v *store.Version) manifestFields {
	var f manifestFields
	json.Unmarshal(v.Manifest, &f)
	if f.Dependencies == nil {
		f.Dependencies = map[string]string{}
	}
	if f.DevDependencies == nil {
		f.DevDependencies = map[string]string{}
	}
	return f
}

// authorString normalises the manifest's author (a string, or an npm-style
// object) to a string.
func authorString(raw json.RawMessage) *string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil
		}
		return &s
	}
	var o struct{ Name, Email, URL string }
	if json.Unmarshal(raw, &o) == nil && o.Name != "" {
		s = o.Name
		if o.Email != "" {
			s += " <" + o.Email + ">"
		}
		if o.URL != "" {
			s += " (" + o.URL + ")"
		}
		return &s
	}
	return nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func versionDoc(pkgName string, v *store.Version) VersionDoc {
	f := fieldsOf(v)
	return VersionDoc{
		Version:         v.Version,
		DownloadURL:     downloadURL(pkgName, v.Version),
		Checksum:        v.Checksum,
		FileSize:        v.Size,
		UnpackedSize:    v.UnpackedSize,
		FileCount:       v.FileCount,
		PublishedAt:     v.PublishedAt,
		Publisher:       v.Publisher,
		Yanked:          v.Yanked,
		Prerelease:      semverOf(v).Prerelease() != "",
		Dependencies:    f.Dependencies,
		DevDependencies: f.DevDependencies,
		Downloads:       v.Downloads,
		GitCommit:       v.GitCommit,
	}
}
