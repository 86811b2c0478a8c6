package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// diffFixture publishes two versions of "bough" (and the packages it
// depends on) that differ in files, manifest and dependencies, with a
// README that has highlighted code, relative links and an image.
func diffFixture(t *testing.T, r *testRegistry) {
	t.Helper()
	tok := r.signUp("diffuser")
	publish := func(p pkg) {
		t.Helper()
		r.expect(201, "POST", "/api/upload", tok, p.archive(t), "Content-Type", "application/gzip")
	}
	publish(pkg{name: "sap", version: "1.0.0"})
	publish(pkg{name: "sap", version: "2.0.0"})
	publish(pkg{name: "resin", version: "1.0.0"})
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
	readme := "# Bough\n\nSee [the usage guide](docs/usage.md), [the licence](./LICENSE), [outside](../secret) and [the site](https://example.org).\n\n" +
		"![logo](img/logo.png)\n\n```dryad\nimport bough\nlet n = 42 // the answer\nprint(\"hi\")\n```\n\n```go\nfunc main() {}\n```\n"
	publish(pkg{name: "bough", version: "1.2.0", fields: map[string]any{"description": "first", "license": "MIT",
		"dependencies": map[string]string{"sap": "^1.0.0"}},
		files: map[string]string{
			"README.md":      readme,
			"LICENSE":        "MIT\n",
			"docs/usage.md":  "# Usage\n",
			"img/logo.png":   png,
			"img/evil.svg":   `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`,
			"page.html":      "<script>alert(1)</script>",
			"src/tree.dryad": "fn grow(n) {\n  return n + 1\n}\n\nfn shade() {\n  return 0\n}\n",
			"src/old.dryad":  "// going away\n",
			"data/big.txt":   strings.Repeat("old line\n", 40000),
		}})
	publish(pkg{name: "bough", version: "1.3.0", fields: map[string]any{"description": "second <b>", "license": "MIT",
		"dependencies": map[string]string{"sap": "^2.0.0", "resin": "~1.0.0"}},
		files: map[string]string{
			"README.md":      readme,
			"LICENSE":        "MIT\n",
			"docs/usage.md":  "# Usage\n",
			"img/logo.png":   png,
			"src/tree.dryad": "fn grow(n) {\n  return n + 2\n}\n\nfn shade() {\n  return 0\n}\n",
			"src/new.dryad":  "fn branch() { return \"<new>\" }\n",
			"data/big.txt":   strings.Repeat("new line\n", 40000),
		}})
	publish(pkg{name: "bough", version: "1.4.0"})
	r.expect(200, "DELETE", "/api/packages/bough/versions/1.4.0", tok, nil)
}

func TestWebDiffAndReadme(t *testing.T) {
	r := startRegistry(t, regOptions{})
	diffFixture(t, r)
	c := newWebClient(t, r)

	// The README: highlighted code, links into the version's files.
	page := c.page(200, "/packages/bough/1.2.0")
	for _, want := range []string{
		`<span class="hl-k">import</span>`, `<span class="hl-m">42</span>`, `<span class="hl-c">// the answer</span>`,
		`<span class="hl-s">&#34;hi&#34;</span>`, `<span class="hl-k">func</span>`,
		`<a href="/packages/bough/1.2.0/files/docs/usage.md" rel="nofollow">the usage guide</a>`,
		`<a href="/packages/bough/1.2.0/files/LICENSE" rel="nofollow">the licence</a>`,
		`<a href="https://example.org" rel="nofollow">the site</a>`,
		`<img src="/packages/bough/1.2.0/files/img/logo.png?raw=1" alt="logo"`,
		// The versions list and the selector lead to the diff.
		`href="/packages/bough/1.2.0/diff/1.3.0" class="diff-previous"`,
		`action="/packages/bough/diff"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("package page lacks %s", want)
		}
	}
	if strings.Contains(page, "../secret") {
		t.Error("a link out of the package survived")
	}
	// The image is served inline with its type; SVG and HTML are never
	// active content on the registry's origin.
	img := c.get("/packages/bough/1.2.0/files/img/logo.png?raw=1")
	if img.Status != 200 || img.Header.Get("Content-Type") != "image/png" || img.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.HasPrefix(img.Header.Get("Content-Disposition"), "inline") {
		t.Errorf("logo: %d %v", img.Status, img.Header)
	}
	for _, p := range []string{"img/evil.svg", "page.html"} {
		res := c.get("/packages/bough/1.2.0/files/" + p + "?raw=1")
		if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") ||
			strings.Contains(res.Header.Get("Content-Type"), "html") || res.Header.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(res.Header.Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("%s: %d %v", p, res.Status, res.Header)
		}
	}

	// The diff page.
	page = c.page(200, "/packages/bough/1.2.0/diff/1.3.0")
	checkPageHeaders(t, "/packages/bough/1.2.0/diff/1.3.0", c.get("/packages/bough/1.2.0/diff/1.3.0").Header)
	for _, want := range []string{
		"<title>bough 1.2.0 → 1.3.0",
		"1 file added", "3 files removed", "3 files changed",
		"This change is too large to show here.",
		`<span class="change-added">added</span></td>`, `href="/packages/bough/1.3.0/files/src/new.dryad">src/new.dryad</a>`,
		`<span class="change-removed">removed</span>`, `href="/packages/bough/1.2.0/files/src/old.dryad">src/old.dryad</a>`,
		// Dependencies: one added, one range changed.
		`<span class="change-added">added</span> <a href="/packages/resin">resin</a> <code class="diff-new">~1.0.0</code>`,
		`<span class="change-changed">changed</span> <a href="/packages/sap">sap</a> <code class="diff-old">^1.0.0</code> → <code class="diff-new">^2.0.0</code>`,
		// Manifest fields, escaped.
		`<code class="diff-old">first</code>`, `<code class="diff-new">second &lt;b&gt;</code>`,
		// The line diff.
		"@@ -1,5 +1,5 @@",
		`<tr class="del"><td class="ln">2</td><td class="ln"></td><td class="mk">-</td><td class="lc">  return n &#43; 1</td></tr>`,
		`<tr class="add"><td class="ln"></td><td class="ln">2</td><td class="mk">&#43;</td><td class="lc">  return n &#43; 2</td></tr>`,
		`<option value="1.2.0" selected>1.2.0</option>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("diff page lacks %s", want)
		}
	}

	// The selector's form, a respelled name, and the refusals.
	if res := c.get("/packages/bough/diff?from=1.2.0&to=1.3.0"); res.Status != 303 || res.Header.Get("Location") != "/packages/bough/1.2.0/diff/1.3.0" {
		t.Errorf("selector: %d %s", res.Status, res.Header.Get("Location"))
	}
	if res := c.get("/packages/BOUGH/1.2.0/diff/1.3.0"); res.Status != 301 || res.Header.Get("Location") != "/packages/bough/1.2.0/diff/1.3.0" {
		t.Errorf("respelled: %d %s", res.Status, res.Header.Get("Location"))
	}
	for _, tt := range []struct {
		path   string
		status int
		msg    string
	}{
		{"/packages/bough/1.2.0/diff/9.9.9", 404, `bough has no version &#34;9.9.9&#34;`},
		{"/packages/nothing/1.0.0/diff/1.1.0", 404, "nothing"},
		{"/packages/bough/1.3.0/diff/1.4.0", 410, "bough@1.4.0 was deleted"},
		{"/packages/bough/1.3.0/diff/1.3.0", 422, "are the same version of bough; choose two different versions"},
		{"/packages/bough/diff?from=1.2.0", 400, "choose two versions to compare"},
	} {
		if body := c.page(tt.status, tt.path); !strings.Contains(body, tt.msg) {
			t.Errorf("%s: no %q in the page", tt.path, tt.msg)
		}
	}

	// The API's answer: files and dependencies, no lines.
	res := r.expect(200, "GET", "/api/packages/bough/diff/1.2.0/1.3.0", "", nil)
	var d struct {
		Name, From, To string
		Files          []struct {
			Path, Change string
			OldSize      *int64 `json:"old_size"`
			NewSize      *int64 `json:"new_size"`
		}
		Dependencies []struct{ Name, Change string }
		Manifest     []struct {
			Field    string
			Old, New *string
		}
	}
	if err := json.Unmarshal(res.Body, &d); err != nil {
		t.Fatal(err)
	}
	if d.Name != "bough" || d.From != "1.2.0" || d.To != "1.3.0" || len(d.Files) != 7 || len(d.Dependencies) != 2 ||
		d.Dependencies[0].Name != "resin" || d.Dependencies[0].Change != "added" || d.Dependencies[1].Change != "changed" {
		t.Errorf("API diff: %s", res.Body)
	}
	if strings.Contains(string(res.Body), "return n") {
		t.Errorf("API diff carries lines: %s", res.Body)
	}
	r.expect(404, "GET", "/api/packages/bough/diff/1.2.0/2.0.0", "", nil)
	r.expect(422, "GET", "/api/packages/bough/diff/1.2.0/1.2.0", "", nil)
}
