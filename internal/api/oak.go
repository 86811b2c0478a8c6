package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dryad-lang/registry/internal/cache"
	"github.com/dryad-lang/registry/internal/registry"
)

// The Oak document: GET /api/packages/{name}, what the Oak client reads to
// install a package (OAK_CONTRACT.md). Its flat fields describe one version,
// the latest unless another was asked for; the rest is for people and tools.

// packageDoc is the Oak document.
type packageDoc struct {
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
	Versions   []versionDoc `json:"versions"`
	Downloads  downloadsDoc `json:"downloads"`
	GitURL     string       `json:"git_url"`
	CreatedAt  time.Time    `json:"created_at"`
	UpdatedAt  time.Time    `json:"updated_at"`
}

// versionDoc describes one version in lists and on its own.
type versionDoc struct {
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

type downloadsDoc struct {
	Total      int64 `json:"total"`
	Last30Days int64 `json:"last_30_days"`
}

// basePlaceholder stands for the registry's base URL in cached documents.
// JSON encoding escapes '<' and '>' in every string it writes, so the
// literal text can only come from the registry itself, never from a
// package's own fields.
const basePlaceholder = "<base>"

func downloadURL(base, pkg, version string) string {
	return base + "/packages/" + pkg + "/" + version + ".tar.gz"
}

// newVersionDoc is a version's document with download URLs under base.
func newVersionDoc(base string, v *registry.Version) versionDoc {
	return versionDoc{
		Version: v.Version, DownloadURL: downloadURL(base, v.Package, v.Version), Checksum: v.Checksum,
		FileSize: v.Size, UnpackedSize: v.UnpackedSize, FileCount: v.FileCount, PublishedAt: v.PublishedAt,
		Publisher: v.Publisher, Yanked: v.Yanked, Prerelease: v.Prerelease,
		Dependencies: v.Dependencies, DevDependencies: v.DevDependencies, Downloads: v.Downloads, GitCommit: v.GitCommit,
	}
}

// standalone is newVersionDoc for a version answered on its own.
func standalone(base string, v *registry.Version) versionDoc {
	d := newVersionDoc(base, v)
	d.Name = v.Package
	return d
}

// newPackageDoc is the Oak document of p with its flat fields describing
// version ("" for the one installs get). A package none of whose versions
// installs gets its refusal: Oak must get an error, not a document it
// cannot use.
func newPackageDoc(p *registry.Package, version string) (*packageDoc, error) {
	var flat *registry.Version
	if version == "" {
		if flat = p.Default(); flat == nil {
			return nil, p.NoDefault()
		}
	} else {
		var err error
		if flat, err = p.Find(version); err != nil {
			return nil, err
		}
	}
	size, at := flat.Size, flat.PublishedAt
	doc := &packageDoc{
		Name: p.Name, Version: flat.Version, Description: flat.Description,
		Author: nonEmpty(flat.Author), License: nonEmpty(flat.License),
		DownloadURL: downloadURL(basePlaceholder, p.Name, flat.Version), Checksum: flat.Checksum, FileSize: &size,
		Dependencies: flat.Dependencies, DevDependencies: flat.DevDependencies, PublishedAt: &at, Yanked: flat.Yanked,
		Latest: p.Latest, Keywords: p.Keywords, Homepage: p.Homepage, Repository: p.Repository, Readme: flat.HasReadme,
		Owners: p.Owners, Versions: make([]versionDoc, len(p.Versions)),
		Downloads: downloadsDoc{Total: p.Downloads, Last30Days: p.DownloadsLast30Days},
		GitURL:    basePlaceholder + "/git/" + p.Name + ".git", CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	for i := range p.Versions {
		doc.Versions[i] = newVersionDoc(basePlaceholder, &p.Versions[i])
	}
	return doc, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// document is a rendered Oak document with an ETag, ready to serve once
// the base URL is substituted for placeholder. It is what the cache keeps:
// the base URL is the request's (unless PUBLIC_URL is set), so it is put
// in per request.
type document struct {
	json        []byte
	etag        string
	placeholder []byte
}

func newDocument(v any) (*document, error) {
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
	return &document{json: body, etag: hex.EncodeToString(sum[:12]), placeholder: ph}, nil
}

// documentCodec packs a document for the cache: ETag, placeholder, JSON,
// one per line (neither of the first two holds a newline; JSON may).
var documentCodec = cache.Codec[*document]{
	Encode: func(d *document) ([]byte, error) {
		b := make([]byte, 0, len(d.etag)+len(d.placeholder)+len(d.json)+2)
		b = append(b, d.etag...)
		b = append(b, '\n')
		b = append(b, d.placeholder...)
		b = append(b, '\n')
		return append(b, d.json...), nil
	},
	Decode: func(b []byte) (*document, error) {
		etag, rest, ok1 := bytes.Cut(b, []byte{'\n'})
		ph, body, ok2 := bytes.Cut(rest, []byte{'\n'})
		if !ok1 || !ok2 {
			return nil, errMalformed
		}
		return &document{etag: string(etag), placeholder: ph, json: body}, nil
	},
}

// render returns the JSON with the base URL in place, and its ETag (which
// depends on the base URL too, as the bytes do).
func (d *document) render(baseURL string) ([]byte, string) {
	b, _ := json.Marshal(baseURL)
	b = b[1 : len(b)-1] // the escaped text, without the quotes
	h := sha256.Sum256([]byte(baseURL))
	return bytes.ReplaceAll(d.json, d.placeholder, b), `"` + d.etag + "-" + hex.EncodeToString(h[:4]) + `"`
}

// Bounds of the rendered-document memo: past either, it starts over.
const (
	maxRenderedDocs  = 4096
	maxRenderedBytes = 32 << 20
)

// renderMemo keeps documents rendered for a base URL, so that the hot path
// of GET /api/packages/{name} serves bytes without copying the document,
// escaping the base URL and hashing it on every request (measured: about
// 40% of the handler's time and most of its garbage). It is keyed by the
// document's ETag, a hash of its content, so an entry can never be stale and
// nothing needs invalidating when a package changes: a changed document has
// another ETag. It lives in each process; the cache shared by instances
// keeps only the base-free document.
type renderMemo struct {
	mu    sync.RWMutex
	m     map[renderKey]rendered
	bytes int
}

type renderKey struct{ etag, base string }

type rendered struct {
	body []byte
	etag string
}

// render returns d rendered for baseURL, from the memo when it was before.
func (rm *renderMemo) render(d *document, baseURL string) ([]byte, string) {
	k := renderKey{d.etag, baseURL}
	rm.mu.RLock()
	r, ok := rm.m[k]
	rm.mu.RUnlock()
	if ok {
		return r.body, r.etag
	}
	body, etag := d.render(baseURL)
	size := len(body) + len(k.etag) + len(k.base) + len(etag)
	rm.mu.Lock()
	defer rm.mu.Unlock()
	// Base URLs come from the Host header unless PUBLIC_URL is set, so
	// their number is not ours to bound: starting over keeps memory
	// bounded whatever clients send.
	if rm.m == nil || len(rm.m) >= maxRenderedDocs || rm.bytes+size > maxRenderedBytes {
		rm.m = make(map[renderKey]rendered)
		rm.bytes = 0
	}
	rm.m[k] = rendered{body: body, etag: etag}
	rm.bytes += size
	return body, etag
}

// refusalTTL bounds how long a refusal of GET /api/packages/{name} (no such
// package, a deleted one, every version yanked) is cached in place of the
// document, so that repeated requests for it (an install with a typo in a
// loop, a scanner) do not each query the database: measured, a 404 cost
// 160 µs of CPU against 50 µs for a cached document. Any change to the
// package replaces its cache scope, which orphans the refusal like any
// other entry; the TTL bounds what a change made outside the registry (a
// restore) could leave behind.
const refusalTTL = time.Minute

// packageDocument returns the Oak document of name: of the version asked
// for, uncached, or of the one installs get, from the cache.
func (a *API) packageDocument(ctx context.Context, name, version string) (*document, error) {
	load := func(ctx context.Context) (*document, error) {
		p, err := a.reg.Package(ctx, name)
		if err != nil {
			return nil, err
		}
		doc, err := newPackageDoc(p, version)
		if err != nil {
			return nil, err
		}
		return newDocument(doc)
	}
	if version != "" {
		return load(ctx)
	}
	return a.docs.Get(ctx, a.reg.PackageScope(ctx, name), load)
}

// getPackage answers GET /api/packages/{name}: the Oak contract. The
// document comes from the cache with an ETag; If-None-Match gets 304.
func (a *API) getPackage(w http.ResponseWriter, r *http.Request) error {
	d, err := a.packageDocument(r.Context(), r.PathValue("name"), r.URL.Query().Get("version"))
	if err != nil {
		return err
	}
	body, etag := a.renders.render(d, baseURL(r))
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
	return nil
}

// etagMatches implements If-None-Match's weak comparison over a list.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
