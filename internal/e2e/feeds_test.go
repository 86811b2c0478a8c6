package e2e

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"
)

// svgDoc is what the badge tests read of a badge.
type svgDoc struct {
	XMLName xml.Name `xml:"svg"`
	Width   int      `xml:"width,attr"`
	Title   string   `xml:"title"`
	Texts   []string `xml:"g>text"`
}

func parseSVG(t *testing.T, path string, b []byte) svgDoc {
	t.Helper()
	var d svgDoc
	if err := xml.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: not SVG: %v\n%s", path, err, b)
	}
	return d
}

// TestWebBadges checks the README badges: the latest version and the
// downloads as SVG, cacheable with an ETag, a grey 404 badge for an
// unknown package, and the snippet on the package page.
func TestWebBadges(t *testing.T) {
	r := startRegistry(t, regOptions{})
	tok := r.signUp("alice")
	for _, v := range []string{"1.0.0", "1.2.0"} {
		r.expect(201, "POST", "/api/upload", tok, pkg{name: "badged", version: v}.archive(t), "Content-Type", "application/gzip")
	}
	c := newWebClient(t, r)

	res := c.get("/badge/badged.svg")
	if res.Status != 200 || res.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("version badge: %d %s\n%s", res.Status, res.Header.Get("Content-Type"), res.Body)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") || strings.Contains(cc, "immutable") {
		t.Errorf("version badge: Cache-Control %q", cc)
	}
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("version badge: no ETag")
	}
	d := parseSVG(t, "version badge", res.Body)
	if d.Title != "dryad: v1.2.0" || !strings.Contains(strings.Join(d.Texts, " "), "v1.2.0") {
		t.Errorf("version badge: title %q, texts %q", d.Title, d.Texts)
	}
	if again := c.get("/badge/badged.svg", "If-None-Match", etag); again.Status != 304 {
		t.Errorf("version badge with If-None-Match: %d, want 304", again.Status)
	}

	// A longer version makes a wider badge.
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "badged", version: "1.10.100"}.archive(t), "Content-Type", "application/gzip")
	wider := c.get("/badge/badged.svg")
	if w := parseSVG(t, "wider badge", wider.Body).Width; w <= d.Width {
		t.Errorf("badge of 1.10.100 is %d px wide, of 1.2.0 %d", w, d.Width)
	}
	if wider.Header.Get("ETag") == etag {
		t.Error("the badge's ETag did not change with the latest version")
	}

	res = c.get("/badge/badged/downloads.svg")
	if res.Status != 200 || res.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("downloads badge: %d\n%s", res.Status, res.Body)
	}
	if d := parseSVG(t, "downloads badge", res.Body); d.Title != "downloads: 0" {
		t.Errorf("downloads badge: title %q", d.Title)
	}

	for _, path := range []string{"/badge/nothing-here.svg", "/badge/nothing-here/downloads.svg"} {
		res = c.get(path)
		if res.Status != 404 || res.Header.Get("Content-Type") != "image/svg+xml" {
			t.Fatalf("%s: %d %s, want a 404 badge", path, res.Status, res.Header.Get("Content-Type"))
		}
		if d := parseSVG(t, path, res.Body); d.Title != "dryad: not found" {
			t.Errorf("%s: title %q", path, d.Title)
		}
	}
	if res = c.get("/badge/badged.png"); res.Status != 404 {
		t.Errorf("/badge/badged.png: %d", res.Status)
	}

	page := c.page(200, "/packages/badged")
	want := "[![dryad](" + r.URL + "/badge/badged.svg)](" + r.URL + "/packages/badged)"
	if !strings.Contains(page, want) {
		t.Errorf("package page lacks the badge snippet %q", want)
	}
}

// atom is what the feed tests read of an Atom 1.0 document.
type atom struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Links   []struct {
		Rel  string `xml:"rel,attr"`
		Type string `xml:"type,attr"`
		Href string `xml:"href,attr"`
	} `xml:"link"`
	Entries []struct {
		ID        string `xml:"id"`
		Title     string `xml:"title"`
		Updated   string `xml:"updated"`
		Published string `xml:"published"`
		Link      struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Author  string `xml:"author>name"`
		Summary string `xml:"summary"`
	} `xml:"entry"`
}

func getFeed(t *testing.T, c *webClient, path string) atom {
	t.Helper()
	res := c.get(path)
	if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("%s: %d %s\n%s", path, res.Status, res.Header.Get("Content-Type"), res.Body)
	}
	var f atom
	if err := xml.Unmarshal(res.Body, &f); err != nil {
		t.Fatalf("%s: not Atom: %v\n%s", path, err, res.Body)
	}
	if f.ID == "" || f.Title == "" {
		t.Errorf("%s: no id or title: %+v", path, f)
	}
	if _, err := time.Parse(time.RFC3339, f.Updated); err != nil {
		t.Errorf("%s: updated %q: %v", path, f.Updated, err)
	}
	self := false
	for _, l := range f.Links {
		self = self || (l.Rel == "self" && l.Href == c.r.URL+path)
	}
	if !self {
		t.Errorf("%s: no self link to %s: %+v", path, c.r.URL+path, f.Links)
	}
	for _, e := range f.Entries {
		if e.ID == "" || e.Title == "" || e.Author == "" || e.Link.Href == "" {
			t.Errorf("%s: incomplete entry %+v", path, e)
		}
		if _, err := time.Parse(time.RFC3339, e.Updated); err != nil {
			t.Errorf("%s: entry %s updated %q: %v", path, e.Title, e.Updated, err)
		}
	}
	return f
}

// TestWebFeeds reads the Atom feeds of new versions, the registry's and a
// package's, as a feed reader does: newest first, escaped, linking to the
// version pages, and announced in the pages' heads.
func TestWebFeeds(t *testing.T) {
	r := startRegistry(t, regOptions{})
	tok := r.signUp("alice")
	bob := r.signUp("bob")
	const tricky = `Fast <b>trees</b> & "forests" ]]> <!-- -->`
	published := []struct {
		name, version, token string
	}{{"oak_tree", "1.0.0", tok}, {"birch", "0.1.0", bob}, {"oak_tree", "0.9.0", tok}, {"oak_tree", "1.1.0", tok}}
	for _, p := range published {
		r.expect(201, "POST", "/api/upload", p.token, pkg{name: p.name, version: p.version,
			fields: map[string]any{"description": tricky + " " + p.version}}.archive(t), "Content-Type", "application/gzip")
		time.Sleep(1100 * time.Millisecond) // distinct seconds in the feed
	}
	r.expect(200, "DELETE", "/api/packages/birch/versions/0.1.0", bob, nil)
	c := newWebClient(t, r)

	f := getFeed(t, c, "/feed.xml")
	var titles []string
	for _, e := range f.Entries {
		titles = append(titles, e.Title)
	}
	if got, want := strings.Join(titles, ", "), "oak_tree 1.1.0, oak_tree 0.9.0, oak_tree 1.0.0"; got != want {
		t.Errorf("registry feed: entries %q, want %q", got, want)
	}
	if len(f.Entries) == 3 {
		e := f.Entries[0]
		if e.Summary != tricky+" 1.1.0" || e.Author != "alice" || e.Link.Href != r.URL+"/packages/oak_tree/1.1.0" || e.ID != e.Link.Href {
			t.Errorf("registry feed: first entry %+v", e)
		}
		if f.Updated != e.Updated || e.Updated <= f.Entries[1].Updated {
			t.Errorf("registry feed updated %s, entries %s and %s", f.Updated, e.Updated, f.Entries[1].Updated)
		}
	}

	f = getFeed(t, c, "/packages/oak_tree/feed.xml")
	titles = nil
	for _, e := range f.Entries {
		titles = append(titles, e.Title)
	}
	if got, want := strings.Join(titles, ", "), "oak_tree 1.1.0, oak_tree 0.9.0, oak_tree 1.0.0"; got != want {
		t.Errorf("package feed: entries %q, want %q", got, want)
	}
	if f = getFeed(t, c, "/packages/birch/feed.xml"); len(f.Entries) != 0 {
		t.Errorf("feed of a package whose only version was deleted: %+v", f.Entries)
	}
	if res := c.get("/packages/nothing/feed.xml"); res.Status != 404 {
		t.Errorf("feed of an unknown package: %d", res.Status)
	}

	page := c.page(200, "/packages/oak_tree")
	for _, want := range []string{
		`<link rel="alternate" type="application/atom+xml" title="Dryad Registry: new versions" href="/feed.xml">`,
		`<link rel="alternate" type="application/atom+xml" title="New versions of this package" href="/packages/oak_tree/feed.xml">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("package page lacks %s", want)
		}
	}
	if home := c.page(200, "/"); !strings.Contains(home, `type="application/atom+xml"`) || strings.Contains(home, "/packages/oak_tree/feed.xml") {
		t.Error("home page: wrong feed links")
	}
}

// TestWebSharing checks what search engines and link previews read:
// OpenGraph and Twitter card tags, canonical links, robots.txt and
// sitemap.xml, all with the configured public URL.
func TestWebSharing(t *testing.T) {
	const public = "https://registry.example.org"
	r := startRegistry(t, regOptions{Env: map[string]string{"PUBLIC_URL": public + "/"}})
	tok := r.signUp("alice")
	for _, p := range []pkg{
		{name: "share_me", version: "1.0.0", fields: map[string]any{"description": `Trees & "leaves" <b>`}},
		{name: "also", version: "0.1.0"},
	} {
		r.expect(201, "POST", "/api/upload", tok, p.archive(t), "Content-Type", "application/gzip")
	}
	c := newWebClient(t, r)

	page := c.page(200, "/packages/share_me")
	for _, want := range []string{
		`<link rel="canonical" href="` + public + `/packages/share_me">`,
		`<meta property="og:title" content="share_me">`,
		`<meta property="og:description" content="Trees &amp; &#34;leaves&#34; &lt;b&gt;">`,
		`<meta property="og:url" content="` + public + `/packages/share_me">`,
		`<meta property="og:type" content="website">`,
		`<meta name="twitter:card" content="summary">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("package page lacks %s", want)
		}
	}
	if page := c.page(200, "/packages/share_me/1.0.0"); !strings.Contains(page, `<link rel="canonical" href="`+public+`/packages/share_me/1.0.0">`) ||
		!strings.Contains(page, `<meta property="og:title" content="share_me 1.0.0">`) {
		t.Error("version page: wrong canonical link or og:title")
	}
	for _, path := range []string{"/", "/search?q=tree", "/login", "/users/alice", "/docs/api"} {
		want := `<link rel="canonical" href="` + public + strings.SplitN(path, "?", 2)[0] + `">`
		if page := c.page(200, path); !strings.Contains(page, want) {
			t.Errorf("%s lacks %s", path, want)
		}
	}

	res := c.get("/robots.txt")
	robots := string(res.Body)
	if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("robots.txt: %d %s", res.Status, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{"User-agent: *\n", "Allow: /\n", "Disallow: /api/\n", "Disallow: /dashboard\n", "Disallow: /admin\n",
		"Sitemap: " + public + "/sitemap.xml\n"} {
		if !strings.Contains(robots, want) {
			t.Errorf("robots.txt lacks %q:\n%s", want, robots)
		}
	}

	res = c.get("/sitemap.xml")
	if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("sitemap.xml: %d %s", res.Status, res.Header.Get("Content-Type"))
	}
	var sm struct {
		XMLName xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
		URLs    []struct {
			Loc     string `xml:"loc"`
			LastMod string `xml:"lastmod"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal(res.Body, &sm); err != nil {
		t.Fatalf("sitemap.xml: %v\n%s", err, res.Body)
	}
	var locs []string
	for _, u := range sm.URLs {
		locs = append(locs, u.Loc)
		if u.Loc != public+"/" {
			if _, err := time.Parse(time.RFC3339, u.LastMod); err != nil {
				t.Errorf("sitemap: %s lastmod %q", u.Loc, u.LastMod)
			}
		}
	}
	if got, want := strings.Join(locs, " "), public+"/ "+public+"/packages/also "+public+"/packages/share_me"; got != want {
		t.Errorf("sitemap: %s, want %s", got, want)
	}
}

// TestWebMethodNotAllowed checks that a page asked with a method it does
// not take answers 405 with an Allow header, as a page, and that a path
// with no page at all still answers 404.
func TestWebMethodNotAllowed(t *testing.T) {
	r := startRegistry(t, regOptions{})
	tok := r.signUp("alice")
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "methods", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
	c := newWebClient(t, r)
	for _, tt := range []struct {
		method, path, allow string
		status              int
	}{
		{"POST", "/", "GET, HEAD", 405},
		{"DELETE", "/search", "GET, HEAD", 405},
		{"PUT", "/login", "GET, HEAD, POST", 405},
		{"POST", "/packages/methods", "GET, HEAD", 405},
		{"POST", "/packages/methods/1.0.0", "GET, HEAD", 405},
		{"DELETE", "/feed.xml", "GET, HEAD", 405},
		{"POST", "/no/such/page", "", 404},
		{"GET", "/no/such/page", "", 404},
	} {
		req, _ := http.NewRequest(tt.method, r.URL+tt.path, nil)
		res := c.send(req)
		if res.Status != tt.status || res.Header.Get("Allow") != tt.allow {
			t.Errorf("%s %s: %d, Allow %q; want %d, %q", tt.method, tt.path, res.Status, res.Header.Get("Allow"), tt.status, tt.allow)
		}
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s %s: %s, want a page", tt.method, tt.path, res.Header.Get("Content-Type"))
		}
		if tt.status == 405 && !strings.Contains(string(res.Body), "Method not allowed") {
			t.Errorf("%s %s: the page does not say the method is not allowed", tt.method, tt.path)
		}
	}
}

// TestWebDates checks that relative dates are computed from the real time
// of the instants they stand for: a version published three days ago
// reads "3 days ago" everywhere, beside its absolute date, and every
// relative date carries its instant for the script to keep it true.
func TestWebDates(t *testing.T) {
	r := startRegistry(t, regOptions{})
	tok := r.signUp("alice")
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "aged", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
	then := time.Now().UTC().Add(-75 * time.Hour).Truncate(time.Second)
	db := openStore(t, r.Config).WriteDB()
	for _, q := range []string{`UPDATE versions SET published_at = $1`, `UPDATE packages SET updated_at = $1`} {
		if _, err := db.Exec(q, then); err != nil {
			t.Fatal(err)
		}
	}
	c := newWebClient(t, r)
	stamp := `<time datetime="` + then.Format(time.RFC3339) + `" title="` + then.Format("2006-01-02 15:04:05 UTC") + `" data-ago>3 days ago</time>`
	for _, path := range []string{"/packages/aged", "/", "/search?q=aged", "/users/alice"} {
		page := c.page(200, path)
		if !strings.Contains(page, stamp) {
			t.Errorf("%s lacks %s", path, stamp)
		}
		if strings.Contains(page, "just now") {
			t.Errorf("%s says \"just now\" of something three days old", path)
		}
	}
	if page := c.page(200, "/packages/aged"); !strings.Contains(page, ">"+then.Format("Jan 2, 2006")+"</time>") {
		t.Errorf("the package page lacks the absolute date %s", then.Format("Jan 2, 2006"))
	}
}
