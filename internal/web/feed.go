package web

import (
	"context"
	"encoding/xml"
	"net/http"
	"time"

	"github.com/dryad-lang/registry/internal/cache"
	"github.com/dryad-lang/registry/internal/httpx"
	"github.com/dryad-lang/registry/internal/registry"
)

// Atom feeds (RFC 4287) of new versions: the registry's at /feed.xml and
// each package's at /packages/{name}/feed.xml, for feed readers and for
// bots that watch for releases.

// feedEntries is how many versions the registry's feed lists.
const feedEntries = 50

// feedTTL bounds how stale the registry's feed may be: it spans every
// package, so no single package's invalidation reaches it.
const feedTTL = time.Minute

// feedMaxAge is how long readers and proxies may keep a feed.
const feedMaxAge = "public, max-age=300"

// atomFeed is an Atom 1.0 feed document.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	ID        string     `xml:"id"`
	Title     string     `xml:"title"`
	Updated   string     `xml:"updated"`
	Published string     `xml:"published"`
	Link      atomLink   `xml:"link"`
	Author    atomPerson `xml:"author"`
	Summary   string     `xml:"summary,omitempty"`
}

// atomTime writes an instant as Atom wants it (RFC 3339).
func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// registryFeed serves GET /feed.xml: the versions published last in the
// whole registry.
func (w *Web) registryFeed(rw http.ResponseWriter, r *http.Request) error {
	recent := cache.ReadThrough[[]registry.Version]{Cache: w.opts.Cache, Name: "feed", TTL: feedTTL, Observe: w.opts.OnCacheRead}
	vs, err := recent.Get(r.Context(), "registry", func(ctx context.Context) ([]registry.Version, error) {
		return w.reg.RecentVersions(ctx, feedEntries)
	})
	if err != nil {
		return err
	}
	base := httpx.ClientOf(r).BaseURL
	w.writeFeed(rw, r, atomFeed{
		ID: base + "/feed.xml", Title: w.opts.Name + ": new versions",
		Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: base + "/feed.xml"}, {Rel: "alternate", Type: "text/html", Href: base + "/"}},
	}, vs)
	return nil
}

// packageFeed serves GET /packages/{name}/feed.xml: a package's versions,
// the last published first.
func (w *Web) packageFeed(rw http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	feeds := cache.ReadThrough[*registry.Package]{Cache: w.opts.Cache, Name: "package-feed", TTL: registry.MetadataTTL, Observe: w.opts.OnCacheRead}
	p, err := feeds.Get(r.Context(), w.reg.PackageScope(r.Context(), name), func(ctx context.Context) (*registry.Package, error) {
		return w.reg.PackageFeed(ctx, name)
	})
	if err != nil {
		return err
	}
	base := httpx.ClientOf(r).BaseURL
	self := base + packageURL(p.Name) + "/feed.xml"
	w.writeFeed(rw, r, atomFeed{
		ID: self, Title: p.Name + " on " + w.opts.Name,
		Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: self}, {Rel: "alternate", Type: "text/html", Href: base + packageURL(p.Name)}},
	}, p.Versions)
	return nil
}

// writeFeed fills f's entries with vs and writes it. A feed with no
// entries is updated when it is served: Atom requires the element.
func (w *Web) writeFeed(rw http.ResponseWriter, r *http.Request, f atomFeed, vs []registry.Version) {
	base := httpx.ClientOf(r).BaseURL
	f.Author = atomPerson{Name: w.opts.Name}
	updated := time.Time{}
	for _, v := range vs {
		url := base + versionURL(v.Package, v.Version)
		author := v.Publisher
		if author == "" {
			author = "unknown"
		}
		f.Entries = append(f.Entries, atomEntry{
			// The version page's address: stable, since a published
			// version never changes.
			ID: url, Title: v.Package + " " + v.Version,
			Updated: atomTime(v.PublishedAt), Published: atomTime(v.PublishedAt),
			Link: atomLink{Rel: "alternate", Type: "text/html", Href: url}, Author: atomPerson{Name: author}, Summary: v.Description,
		})
		if v.PublishedAt.After(updated) {
			updated = v.PublishedAt
		}
	}
	if updated.IsZero() {
		updated = time.Now()
	}
	f.Updated = atomTime(updated)
	body, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		w.WriteError(rw, r, err)
		return
	}
	h := rw.Header()
	h.Set("Content-Type", "application/atom+xml; charset=utf-8")
	h.Set("Cache-Control", feedMaxAge)
	rw.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		rw.Write([]byte(xml.Header))
		rw.Write(body)
		rw.Write([]byte("\n"))
	}
}
