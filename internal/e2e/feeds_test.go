package e2e

import (
	"encoding/xml"
	"strings"
	"testing"
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
