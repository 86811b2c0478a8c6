package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/manifest"
	"github.com/dryad-lang/registry/internal/store"
)

// metadataTTL bounds how long a cached package document lives even without
// an invalidation (download counts refresh at least this often).
const metadataTTL = 10 * time.Minute

// Document is a rendered JSON document with an ETag, ready to serve once the
// base URL is substituted for Placeholder.
type Document struct {
	JSON []byte
	ETag string
	// Placeholder is the text standing for the base URL in JSON.
	Placeholder []byte
}

// lookupPackage finds a live package by any spelling of its name: 404 for
// an invalid or unknown name, 410 for a deleted package.
func (s *Service) lookupPackage(ctx context.Context, name string) (*store.Package, error) {
	if manifest.ValidateName(manifest.NormalizeName(name)) != nil && manifest.ValidateName(name) != nil {
		return nil, errs.Errorf(errs.NotFound, "package %q not found", name)
	}
	p, err := s.store.GetPackage(ctx, manifest.NormalizeName(name))
	if errors.Is(err, errs.NotFound) {
		return nil, errs.Errorf(errs.NotFound, "package %q not found", name)
	}
	if err != nil {
		return nil, err
	}
	if p.DeletedAt != nil {
		return nil, errs.Errorf(errs.Gone, "package %q was deleted", p.Name)
	}
	return p, nil
}

// A refusal of GET /api/packages/{name} (no such package, a deleted one,
// every version yanked) is cached in place of the document, so that
// repeated requests for it (an install with a typo in a loop, a scanner)
// do not each query the database: measured, a 404 cost 160 µs of CPU
// against 50 µs for a cached document. Any change to the package replaces
// its generation, which orphans the entry like any other; the short TTL
// bounds what a change made outside the service (a restore) could leave
// behind. The entry is the error's status, a space and its message; it
// cannot be mistaken for a document, which holds newlines.
const refusalTTL = time.Minute

func encodeRefusal(err error) ([]byte, bool) {
	k := errs.KindOf(err)
	msg := errs.Message(err)
	if (k != errs.NotFound && k != errs.Gone) || strings.Contains(msg, "\n") {
		return nil, false
	}
	return []byte(strconv.Itoa(k.Status()) + " " + msg), true
}

func decodeRefusal(b []byte, name string) (error, bool) {
	if bytes.IndexByte(b, '\n') >= 0 {
		return nil, false
	}
	status, msg, _ := strings.Cut(string(b), " ")
	switch status {
	case "404":
		if msg == "" {
			msg = fmt.Sprintf("package %q not found", name)
		}
		return errs.New(errs.NotFound, msg), true
	case "410":
		return errs.New(errs.Gone, msg), true
	}
	return nil, false
}

// PackageDocument returns the document of GET /api/packages/{name}, from
// the cache when it is there.
func (s *Service) PackageDocument(ctx context.Context, name string) (*Document, error) {
	key := "pkg:" + s.generation(ctx, manifest.NormalizeName(name))
	if b, ok, _ := s.cache.Get(ctx, key); ok {
		if err, ok := decodeRefusal(b, name); ok {
			s.obs.CacheHit(true)
			return nil, err
		}
		if d, ok := decodeDocument(b); ok {
			s.obs.CacheHit(true)
			return d, nil
		}
	}
	s.obs.CacheHit(false)
	p, err := s.lookupPackage(ctx, name)
	if errs.KindOf(err) == errs.NotFound {
		// No package: the message names the spelling each client asked for.
		s.cache.Set(ctx, key, []byte("404"), refusalTTL)
		return nil, err
	}
	var doc *PackageDoc
	if err == nil {
		doc, err = s.buildPackageDoc(ctx, p, "")
	}
	if err == nil {
		var d *Document
		if d, err = newDocument(doc); err == nil {
			s.cache.Set(ctx, key, d.encode(), metadataTTL)
			return d, nil
		}
	}
	if b, ok := encodeRefusal(err); ok {
		s.cache.Set(ctx, key, b, refusalTTL)
	}
	return nil, err
}

// PackageVersionDocument is PackageDocument with the flat fields describing
// the given version instead of the latest (?version=X). It is not cached.
func (s *Service) PackageVersionDocument(ctx context.Context, name, version string) (*Document, error) {
	p, err := s.lookupPackage(ctx, name)
	if err != nil {
		return nil, err
	}
	doc, err := s.buildPackageDoc(ctx, p, version)
	if err != nil {
		return nil, err
	}
	return newDocument(doc)
}

func (s *Service) buildPackageDoc(ctx context.Context, p *store.Package, version string) (*PackageDoc, error) {
	vs, err := s.store.ListVersions(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	owners, err := s.store.ListOwners(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	since := s.utcNow().AddDate(0, 0, -29).Format(time.DateOnly)
	last30, err := s.store.PackageDownloadsSince(ctx, p.ID, since)
	if err != nil {
		return nil, err
	}
	newestFirst(vs)
	doc := &PackageDoc{
		Name:            p.Name,
		Description:     p.Description,
		Dependencies:    map[string]string{},
		DevDependencies: map[string]string{},
		Keywords:        p.Keywords,
		Homepage:        p.Homepage,
		Repository:      p.Repository,
		Owners:          []string{},
		Versions:        []VersionDoc{},
		Downloads:       DownloadsDoc{Total: p.Downloads, Last30Days: last30},
		GitURL:          BasePlaceholder + "/git/" + p.Name + ".git",
		CreatedAt:       p.CreatedAt,
		UpdatedAt:       p.UpdatedAt,
		Latest:          p.Latest,
	}
	if doc.Keywords == nil {
		doc.Keywords = []string{}
	}
	for _, o := range owners {
		doc.Owners = append(doc.Owners, o.Username)
	}
	var flat *store.Version
	if version == "" {
		flat = latestOf(vs)
	}
	for i := range vs {
		v := &vs[i]
		if v.DeletedAt != nil {
			if version != "" && matchesVersion(v, version) {
				return nil, errs.Errorf(errs.Gone, "%s@%s was deleted", p.Name, v.Version)
			}
			continue
		}
		doc.Versions = append(doc.Versions, versionDoc(p.Name, v))
		if version != "" && matchesVersion(v, version) {
			flat = v
		}
	}
	if version != "" && flat == nil {
		return nil, errs.Errorf(errs.NotFound, "%s has no version %q", p.Name, version)
	}
	if flat == nil {
		// Oak installs what this document describes: without a version
		// to describe, it must get an error, not a document it cannot use.
		return nil, noInstallableVersion(p.Name, vs)
	}
	if flat != nil {
		f := fieldsOf(flat)
		size := flat.Size
		at := flat.PublishedAt
		doc.Version = flat.Version
		doc.Description = f.Description
		doc.Author = authorString(f.Author)
		doc.License = nonEmpty(f.License)
		doc.DownloadURL = downloadURL(p.Name, flat.Version)
		doc.Checksum = flat.Checksum
		doc.FileSize = &size
		doc.Dependencies = f.Dependencies
		doc.DevDependencies = f.DevDependencies
		doc.PublishedAt = &at
		doc.Yanked = flat.Yanked
		doc.Readme = flat.Readme != ""
	}
	return doc, nil
}

// noInstallableVersion is the answer for a package none of whose versions
// installs by default: all yanked (named, newest first), or all deleted.
func noInstallableVersion(name string, newestFirst []store.Version) error {
	var yanked []string
	for i := range newestFirst {
		if v := &newestFirst[i]; v.DeletedAt == nil && v.Yanked {
			yanked = append(yanked, v.Version)
		}
	}
	if len(yanked) == 0 {
		return errs.Errorf(errs.Gone, "%s has no versions left: every version was deleted", name)
	}
	shown := yanked
	if len(shown) > 10 {
		shown = append(shown[:10:10], fmt.Sprintf("and %d more", len(yanked)-10))
	}
	return errs.Errorf(errs.NotFound, "every version of %s is yanked (%s), so nothing installs by default; "+
		"a yanked version is still served by its exact number (?version=%s), and the owners can unyank it or publish a new version",
		name, strings.Join(shown, ", "), yanked[0])
}

// matchesVersion reports whether v is the version asked for, written with
// or without build metadata.
func matchesVersion(v *store.Version, asked string) bool {
	if v.Version == asked || v.Key == asked {
		return true
	}
	sv, err := manifest.ParseVersion(asked)
	return err == nil && manifest.Key(sv) == v.Key
}

func newDocument(v any) (*Document, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	// A random placeholder per document: '<' and '>' never appear raw in
	// JSON from package data, and a random tag rules out any collision
	// with the registry's own text.
	var nonce [8]byte
	rand.Read(nonce[:])
	ph := []byte(`\u003cbase-` + hex.EncodeToString(nonce[:]) + `\u003e`)
	body = bytes.ReplaceAll(body, []byte(`\u003cbase\u003e`), ph)
	sum := sha256.Sum256(body)
	return &Document{JSON: body, ETag: hex.EncodeToString(sum[:12]), Placeholder: ph}, nil
}

// encode packs a document for the cache: ETag, placeholder, JSON, one per
// line (neither of the first two contains a newline; JSON may follow).
func (d *Document) encode() []byte {
	b := make([]byte, 0, len(d.ETag)+len(d.Placeholder)+len(d.JSON)+2)
	b = append(b, d.ETag...)
	b = append(b, '\n')
	b = append(b, d.Placeholder...)
	b = append(b, '\n')
	return append(b, d.JSON...)
}

func decodeDocument(b []byte) (*Document, bool) {
	etag, rest, ok := bytes.Cut(b, []byte{'\n'})
	if !ok {
		return nil, false
	}
	ph, body, ok := bytes.Cut(rest, []byte{'\n'})
	if !ok {
		return nil, false
	}
	return &Document{ETag: string(etag), Placeholder: ph, JSON: body}, true
}

// Render returns the JSON with the base URL in place, and its ETag (which
// depends on the base URL too, as the bytes do).
func (d *Document) Render(baseURL string) ([]byte, string) {
	b, _ := json.Marshal(baseURL)
	b = b[1 : len(b)-1] // the escaped text, without the quotes
	h := sha256.Sum256([]byte(baseURL))
	return bytes.ReplaceAll(d.JSON, d.Placeholder, b), `"` + d.ETag + "-" + hex.EncodeToString(h[:4]) + `"`
}

// Cached entries of a package live under keys that include the package's
// generation, a random token kept in the cache. A change deletes the
// generation, and the next reader draws a new one, which orphans every entry
// at once (they expire on their own). Unlike deleting the entries, this
// cannot be undone by a reader that loaded the old state from the database
// just before the change and stores it just after: it stores it under the
// old generation, which nobody reads again.
const generationTTL = 24 * time.Hour

// generation returns norm + "@" + the package's current generation.
func (s *Service) generation(ctx context.Context, norm string) string {
	key := "gen:" + norm
	if b, ok, _ := s.cache.Get(ctx, key); ok && len(b) > 0 {
		return norm + "@" + string(b)
	}
	g := newGeneration()
	s.cache.Set(ctx, key, []byte(g), generationTTL)
	return norm + "@" + g
}

func newGeneration() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// invalidatePackage forgets every cached document of a package after a
// change, on every instance sharing the cache. It deletes the generation
// rather than setting a new one: while Redis is unreachable the resilient
// cache keeps a Delete and delivers it before using Redis again, whereas a
// Set would be lost and the old generation, back with Redis, would serve
// the state before the change.
func (s *Service) invalidatePackage(ctx context.Context, norm string) {
	if err := s.cache.Delete(context.WithoutCancel(ctx), "gen:"+norm); err != nil {
		s.log.WarnContext(ctx, "invalidating cache", "package", norm, "err", err)
	}
}

// VersionList is a package's versions under its canonical name.
type VersionList struct {
	Name     string       `json:"name"`
	Versions []VersionDoc `json:"versions"`
}

// Versions lists a package's versions that are not deleted, newest first.
func (s *Service) Versions(ctx context.Context, name string) (*VersionList, error) {
	p, err := s.lookupPackage(ctx, name)
	if err != nil {
		return nil, err
	}
	vs, err := s.store.ListVersions(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	newestFirst(vs)
	out := &VersionList{Name: p.Name, Versions: []VersionDoc{}}
	for i := range vs {
		if vs[i].DeletedAt == nil {
			d := versionDoc(p.Name, &vs[i])
			d.Name = p.Name
			out.Versions = append(out.Versions, d)
		}
	}
	return out, nil
}

// Version describes one version: 404 if unknown, 410 if deleted.
func (s *Service) Version(ctx context.Context, name, version string) (*VersionDoc, error) {
	p, v, err := s.findVersion(ctx, name, version)
	if err != nil {
		return nil, err
	}
	d := versionDoc(p.Name, v)
	d.Name = p.Name
	return &d, nil
}

// findVersion finds a version of a live package: 404 if unknown, 410 if
// deleted.
func (s *Service) findVersion(ctx context.Context, name, version string) (*store.Package, *store.Version, error) {
	p, err := s.lookupPackage(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	sv, err := manifest.ParseVersion(version)
	if err != nil {
		return nil, nil, errs.Errorf(errs.NotFound, "%s has no version %q", p.Name, version)
	}
	v, err := s.store.GetVersion(ctx, p.ID, manifest.Key(sv))
	if errors.Is(err, errs.NotFound) {
		return nil, nil, errs.Errorf(errs.NotFound, "%s has no version %q", p.Name, version)
	}
	if err != nil {
		return nil, nil, err
	}
	if v.DeletedAt != nil {
		return nil, nil, errs.Errorf(errs.Gone, "%s@%s was deleted", p.Name, v.Version)
	}
	return p, v, nil
}

// Resolve returns the best live version satisfying an npm-style range.
func (s *Service) Resolve(ctx context.Context, name, rng string) (*VersionDoc, error) {
	r, err := manifest.ParseRange(rng)
	if err != nil {
		return nil, err
	}
	p, err := s.lookupPackage(ctx, name)
	if err != nil {
		return nil, err
	}
	vs, err := s.store.ListVersions(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	best := bestMatch(vs, r)
	if best == nil {
		avail := liveVersionList(vs, 10)
		if len(avail) == 0 {
			return nil, errs.Errorf(errs.NotFound, "%s has no installable version", p.Name)
		}
		return nil, errs.Errorf(errs.NotFound, "no version of %s satisfies %q (available: %v)", p.Name, rng, avail)
	}
	d := versionDoc(p.Name, best)
	d.Name = p.Name
	return &d, nil
}
