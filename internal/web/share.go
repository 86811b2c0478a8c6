package web

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/cache"
	"github.com/dryad-lang/registry/internal/httpx"
	"github.com/dryad-lang/registry/internal/registry"
)

// What search engines and link previews read: OpenGraph and Twitter card
// tags on package pages, a canonical link on every page, robots.txt and
// sitemap.xml. Absolute URLs use the registry's base URL: PUBLIC_URL when
// it is set, else the request's.

// share is what a page's OpenGraph and Twitter card tags say.
type share struct {
	Title       string
	Description string
	// URL is absolute.
	URL string
	// Type is the OpenGraph type: "website" for the registry's pages.
	Type string
}

// sitemapMax is the most URLs one sitemap may list (sitemaps.org). A
// registry with more packages lists the first ones by name; splitting into
// a sitemap index is left for when one grows that large.
const sitemapMax = 50000

// sitemapTTL bounds how late a new package appears in the sitemap.
const sitemapTTL = 5 * time.Minute

// robots serves GET /robots.txt: crawl the packages, not the API, the
// accounts or the administration.
func (w *Web) robots(rw http.ResponseWriter, r *http.Request) error {
	var b strings.Builder
	b.WriteString("User-agent: *\nAllow: /\n")
	for _, p := range []string{"/api/", "/git/", "/dashboard", "/admin", "/login", "/logout", "/register", "/upload"} {
		fmt.Fprintf(&b, "Disallow: %s\n", p)
	}
	fmt.Fprintf(&b, "\nSitemap: %s/sitemap.xml\n", httpx.ClientOf(r).BaseURL)
	h := rw.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	if r.Method != http.MethodHead {
		rw.Write([]byte(b.String()))
	}
	return nil
}

// sitemapEntry is one page of the sitemap; Path is relative to the base URL.
type sitemapEntry struct {
	Path    string
	Updated time.Time
}

type urlSet struct {
	XMLName xml.Name     `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
	URLs    []sitemapURL `xml:"url"`
}

type sitemapURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

// sitemap serves GET /sitemap.xml: the home page and every package's page.
func (w *Web) sitemap(rw http.ResponseWriter, r *http.Request) error {
	entries := cache.ReadThrough[[]sitemapEntry]{Cache: w.opts.Cache, Name: "sitemap", TTL: sitemapTTL, Observe: w.opts.OnCacheRead}
	list, err := entries.Get(r.Context(), "all", w.sitemapEntries)
	if err != nil {
		return err
	}
	base := httpx.ClientOf(r).BaseURL
	set := urlSet{URLs: []sitemapURL{{Loc: base + "/"}}}
	for _, e := range list {
		set.URLs = append(set.URLs, sitemapURL{Loc: base + e.Path, LastMod: e.Updated.UTC().Format(time.RFC3339)})
	}
	body, err := xml.MarshalIndent(set, "", "  ")
	if err != nil {
		return err
	}
	h := rw.Header()
	h.Set("Content-Type", "application/xml; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	if r.Method != http.MethodHead {
		rw.Write([]byte(xml.Header))
		rw.Write(body)
		rw.Write([]byte("\n"))
	}
	return nil
}

// sitemapEntries lists every package's page, by name, up to sitemapMax
// URLs in all.
func (w *Web) sitemapEntries(ctx context.Context) ([]sitemapEntry, error) {
	out := []sitemapEntry{}
	for offset := 0; len(out) < sitemapMax-1; offset += registry.MaxPageSize {
		res, err := w.reg.Search(ctx, "", "name", registry.MaxPageSize, offset)
		if err != nil {
			return nil, err
		}
		for _, p := range res.Packages {
			if len(out) < sitemapMax-1 {
				out = append(out, sitemapEntry{Path: packageURL(p.Name), Updated: p.UpdatedAt})
			}
		}
		if !res.HasMore {
			break
		}
	}
	return out, nil
}

// canonicalURL is the absolute address of the page r asked for, without
// its query: what search engines should index it as.
func canonicalURL(r *http.Request) string {
	return httpx.ClientOf(r).BaseURL + r.URL.EscapedPath()
}
