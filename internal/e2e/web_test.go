package e2e

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dryad-lang/registry/internal/testenv"
)

// webClient is a browser without JavaScript: it keeps cookies, sends forms
// and does not follow redirects, so each answer can be checked.
type webClient struct {
	t testing.TB
	r *testRegistry
	c *http.Client
}

func newWebClient(t testing.TB, r *testRegistry) *webClient {
	jar, _ := cookiejar.New(nil)
	return &webClient{t: t, r: r, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (c *webClient) send(req *http.Request) *response {
	c.t.Helper()
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func (c *webClient) get(path string, headers ...string) *response {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.r.URL+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.send(req)
}

// page gets a page and fails unless it answers status.
func (c *webClient) page(status int, path string) string {
	c.t.Helper()
	res := c.get(path)
	if res.Status != status {
		c.t.Fatalf("GET %s: status %d, want %d\n%s", path, res.Status, status, res.Body)
	}
	return string(res.Body)
}

func (c *webClient) post(path string, form url.Values, headers ...string) *response {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.r.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.send(req)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the forms of the page at path.
func (c *webClient) csrf(path string) string {
	c.t.Helper()
	m := csrfInput.FindStringSubmatch(c.page(200, path))
	if m == nil {
		c.t.Fatalf("GET %s: no CSRF token in the page", path)
	}
	return html.UnescapeString(m[1])
}

// submit posts a form of the page at path with its CSRF token.
func (c *webClient) submit(page, action string, form url.Values) *response {
	c.t.Helper()
	form.Set("csrf", c.csrf(page))
	return c.post(action, form)
}

// signUp registers through the web form and stays signed in.
func (c *webClient) signUp(user string) {
	c.t.Helper()
	res := c.submit("/register", "/register", url.Values{"username": {user}, "email": {user + "@example.org"},
		"password": {"correct-horse-" + user}, "confirm": {"correct-horse-" + user}})
	if res.Status != 303 || res.Header.Get("Location") != "/dashboard" {
		c.t.Fatalf("register %s: %d %s\n%s", user, res.Status, res.Header.Get("Location"), res.Body)
	}
}

// signIn signs in through the web form.
func (c *webClient) signIn(user string) {
	c.t.Helper()
	res := c.submit("/login", "/login", url.Values{"login": {user}, "password": {"correct-horse-" + user}})
	if res.Status != 303 {
		c.t.Fatalf("login %s: %d\n%s", user, res.Status, res.Body)
	}
}

// upload sends an archive as the upload page's form does without
// JavaScript: the CSRF field first, then the file.
func (c *webClient) upload(filename string, archive []byte, csrf string, headers ...string) *response {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if csrf != "" {
		mw.WriteField("csrf", csrf)
	}
	fw, _ := mw.CreateFormFile("package", filename)
	fw.Write(archive)
	mw.Close()
	req, _ := http.NewRequest("POST", c.r.URL+"/upload", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.send(req)
}

func (c *webClient) cookie(name string) *http.Cookie {
	u, _ := url.Parse(c.r.URL)
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

var titleTag = regexp.MustCompile(`<title>([^<]*)</title>`)

func title(page string) string {
	m := titleTag.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// checkPageHeaders checks the security headers every page carries.
func checkPageHeaders(t *testing.T, path string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", path, csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: CSP allows inline code: %q", path, csp)
	}
	for name, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "strict-origin-when-cross-origin",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %s = %q, want %q", path, name, got, want)
		}
	}
}

// xssReadme carries payloads that must all render harmlessly.
const xssReadme = "# Safe\n\n" +
	"<script>window.pwned = 1</script>\n\n" +
	"<img src=x onerror=\"window.pwned = 2\">\n\n" +
	"[click me](javascript:window.pwned=3)\n\n" +
	"[click me too](JaVaScRiPt:window.pwned=4)\n\n" +
	"<a href=\"javascript:window.pwned=5\">raw link</a>\n\n" +
	"![pixel](javascript:window.pwned=6)\n\n" +
	"![data](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)\n\n" +
	"<iframe src=\"https://evil.example\"></iframe>\n\n" +
	"<div onmouseover=\"window.pwned=7\">hover me</div>\n\n" +
	"<svg onload=\"window.pwned=8\"></svg>\n\n" +
	"<style>body { display: none }</style>\n\n" +
	"<form action=\"https://evil.example\"><input name=p></form>\n\n" +
	"`<script>window.pwned = 9</script>` stays text.\n"

// TestWebPages walks the public pages on both engines: status codes,
// titles and descriptions, escaping of package data, the rendered README,
// versions with badges, dependencies and dependents, the source browser,
// profiles, the 404 and 410 pages and the headers of every page.
func TestWebPages(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		r := startRegistry(t, regOptions{Engine: engine})
		tok := r.signUp("alice")
		publish := func(p pkg) {
			t.Helper()
			r.expect(201, "POST", "/api/upload", tok, p.archive(t), "Content-Type", "application/gzip")
		}
		long := strings.Repeat("a line of text\n", 80000) // 1.2 MB: too large to show
		publish(pkg{name: "webkit", version: "1.0.0", fields: map[string]any{
			"description": `Tools <b>for</b> "web" & more`, "keywords": []string{"http", "<tag>"}, "license": "MIT",
			"homepage": "https://example.org/webkit", "repository": map[string]string{"type": "git", "url": "https://git.example.org/webkit"},
		}, files: map[string]string{
			"README.md":         "# Webkit\n\nA **bold** start.\n\n```dryad\nprint(1)\n```\n\n## Versions\n\n## Main\n\n## pkg_install\n\n" + xssReadme,
			"src/main.dryad":    "fn main() {\n  print(\"<hi>\")\n}\n",
			"src/deep/x.dryad":  "x\n",
			"assets/logo.bin":   "\x00\x01\x02binary",
			"docs/huge.txt":     long,
			"docs/odd name.txt": "spaces\n",
		}})
		publish(pkg{name: "webkit", version: "1.1.0", fields: map[string]any{"description": "Newer <i>webkit</i>", "keywords": []string{"<tag>"}}})
		publish(pkg{name: "webkit", version: "2.0.0-rc.1"})
		publish(pkg{name: "webapp", version: "0.1.0", fields: map[string]any{"dependencies": map[string]string{"webkit": "^1.0.0"},
			"dev_dependencies": map[string]string{"tester": "*"}}})
		r.expect(200, "PUT", "/api/packages/webkit/versions/1.0.0/yank", tok, nil)
		r.expect(200, "DELETE", "/api/packages/webapp/versions/0.1.0", tok, nil)
		publish(pkg{name: "webapp", version: "0.2.0", fields: map[string]any{"dependencies": map[string]string{"webkit": "^1.0.0"}}})

		c := newWebClient(t, r)
		pages := []struct {
			path, title string
			want        []string
		}{
			{"/", "Dryad Registry", []string{`name="q"`, "Recently published", "Most downloaded", "webkit", "webapp"}},
			{"/search?q=web", "Search: web", []string{"webkit", "webapp", "Newer &lt;i&gt;webkit&lt;/i&gt;", "&lt;tag&gt;"}},
			{"/search?sort=name&page=1", "Search", []string{"webapp"}},
			{"/packages/webkit", "webkit", []string{
				"oak install webkit", `git clone http://127.0.0.1:`, "/git/webkit.git", "Newer &lt;i&gt;webkit&lt;/i&gt;",
				"badge-yanked", "badge-pre", "badge-latest", "This version has no README",
				`href="/packages/webapp"`, `href="/packages/webapp/0.2.0">0.2.0</a> <span class="muted">needs</span>`, "^1.0.0", "alice", "No downloads in the last 90 days",
			}},
			{"/packages/webkit/1.0.0", "webkit 1.0.0", []string{"This version was yanked", "Tools &lt;b&gt;for&lt;/b&gt; &#34;web&#34; &amp; more",
				"&lt;tag&gt;", "git clone --branch v1.0.0", `<h1 id="webkit">Webkit</h1>`, "<strong>bold</strong>", `class="language-dryad"`,
				`href="https://example.org/webkit"`, `href="https://git.example.org/webkit"`, "MIT"}},
			{"/packages/webapp", "webapp", []string{`href="/packages/webkit"`, "^1.0.0", "No package depends on webapp"}},
			{"/packages/webkit/1.0.0/files/", "webkit 1.0.0 · /", []string{`href="/packages/webkit/1.0.0/files/src/"`, "oaklibs.json", "README.md"}},
			{"/packages/webkit/1.0.0/files/src/", "webkit 1.0.0 · /src", []string{"main.dryad", `href="/packages/webkit/1.0.0/files/src/deep/"`}},
			{"/packages/webkit/1.0.0/files/src/main.dryad", "webkit 1.0.0 · /src/main.dryad", []string{`id="L1"`, `href="#L3"`, "print(&#34;&lt;hi&gt;&#34;)", "3 lines"}},
			{"/packages/webkit/1.0.0/files/assets/logo.bin", "webkit 1.0.0 · /assets/logo.bin", []string{"binary file", "files/assets/logo.bin?raw=1"}},
			{"/packages/webkit/1.0.0/files/docs/huge.txt", "webkit 1.0.0 · /docs/huge.txt", []string{"too large to show"}},
			{"/packages/webkit/1.0.0/files/docs/odd%20name.txt", "webkit 1.0.0 · /docs/odd name.txt", []string{"spaces"}},
			{"/users/alice", "alice", []string{"webkit", "webapp", "Joined"}},
			{"/login", "Sign in", []string{`autocomplete="current-password"`, `name="csrf"`}},
			{"/register", "Create an account", []string{`for="username"`, `for="email"`, `for="password"`}},
		}
		for _, p := range pages {
			res := c.get(p.path)
			if res.Status != 200 {
				t.Errorf("GET %s: status %d\n%.2000s", p.path, res.Status, res.Body)
				continue
			}
			body := string(res.Body)
			if got := title(body); got != p.title+" · Dryad Registry" && !(p.path == "/" && got == p.title) {
				t.Errorf("GET %s: title %q, want %q", p.path, got, p.title)
			}
			if !regexp.MustCompile(`<meta name="description" content="[^"]{10,}">`).MatchString(body) {
				t.Errorf("GET %s: no meta description", p.path)
			}
			for _, w := range p.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s: page lacks %q", p.path, w)
				}
			}
			// Every id once: a README's headings cannot shadow the page's
			// own anchors and the targets of its scripts.
			seen := map[string]bool{}
			for _, m := range regexp.MustCompile(`\sid="([^"]+)"`).FindAllStringSubmatch(body, -1) {
				if seen[m[1]] {
					t.Errorf("GET %s: id %q appears twice", p.path, m[1])
				}
				seen[m[1]] = true
			}
			checkPageHeaders(t, p.path, res.Header)
		}

		// Package data never reaches a page unescaped, and the README's
		// payloads were neutralised when it was rendered.
		page := c.page(200, "/packages/webkit/1.0.0")
		readme := page[strings.Index(page, `id="pkg_readme"`):strings.Index(page, `id="pkg_downloads"`)]
		for _, bad := range []string{"<script", "onerror", "onload", "onmouseover", "javascript:", "<iframe", "<style", "<form", "<svg onload", "data:image"} {
			if strings.Contains(strings.ToLower(readme), bad) {
				t.Errorf("README section contains %q", bad)
			}
		}
		if !strings.Contains(readme, "&lt;script&gt;window.pwned = 9&lt;/script&gt;") {
			t.Error("code text of the README was lost")
		}
		if strings.Contains(page, `href="javascript:`) || strings.Contains(page, "<b>for</b>") {
			t.Error("a manifest field reached the page unescaped")
		}
		if c := strings.Count(page, "<script"); c != 1 || !strings.Contains(page, `<script src="/static/`) {
			t.Errorf("the page has %d script tags; want only the site's own script file", c)
		}

		// Downloads of single files never render in the registry's origin.
		raw := c.get("/packages/webkit/1.0.0/files/src/main.dryad?raw=1")
		if raw.Status != 200 || string(raw.Body) != "fn main() {\n  print(\"<hi>\")\n}\n" {
			t.Errorf("raw file: %d %q", raw.Status, raw.Body)
		}
		if ct, cd := raw.Header.Get("Content-Type"), raw.Header.Get("Content-Disposition"); ct != "application/octet-stream" || !strings.HasPrefix(cd, "attachment") {
			t.Errorf("raw file headers: %q %q", ct, cd)
		}
		if huge := c.get("/packages/webkit/1.0.0/files/docs/huge.txt?raw=1"); huge.Status != 200 || len(huge.Body) != len(long) {
			t.Errorf("raw large file: %d, %d bytes", huge.Status, len(huge.Body))
		}

		// Not found, gone, redirects.
		for _, tt := range []struct {
			path     string
			status   int
			location string
		}{
			{"/no/such/page", 404, ""},
			{"/packages/ghost", 404, ""},
			{"/packages/webkit/9.9.9", 404, ""},
			{"/packages/webkit/not-a-version", 404, ""},
			{"/packages/webapp/0.1.0", 410, ""},
			{"/packages/webkit/1.0.0/files/nope.txt", 404, ""},
			{"/packages/webkit/1.0.0/files/src/main.dryad/x", 404, ""},
			{"/users/nobody", 404, ""},
			{"/search?page=0", 400, ""},
			{"/search?sort=sideways", 400, ""},
			{"/packages/WebKit", 301, "/packages/webkit"},
			{"/packages/webkit/1.0.0/files", 301, "/packages/webkit/1.0.0/files/"},
			{"/packages/webkit/1.0.0/files/src", 301, "/packages/webkit/1.0.0/files/src/"},
			{"/dashboard", 303, "/login?next=%2Fdashboard"},
			{"/upload", 303, "/login?next=%2Fupload"},
		} {
			res := c.get(tt.path)
			if res.Status != tt.status || res.Header.Get("Location") != tt.location {
				t.Errorf("GET %s: %d %q, want %d %q", tt.path, res.Status, res.Header.Get("Location"), tt.status, tt.location)
				continue
			}
			if tt.status >= 400 {
				body := string(res.Body)
				if !strings.Contains(body, `class="error-page"`) || !strings.HasPrefix(title(body), strconv.Itoa(tt.status)+" ") || !strings.HasSuffix(title(body), " · Dryad Registry") {
					t.Errorf("GET %s: not the error page in the site's layout: %q", tt.path, title(body))
				}
				if !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
					t.Errorf("GET %s: Content-Type %q", tt.path, res.Header.Get("Content-Type"))
				}
				checkPageHeaders(t, tt.path, res.Header)
			}
		}
		if body := c.page(404, "/no/such/page"); !strings.Contains(body, "404") || !strings.Contains(body, "/no/such/page") {
			t.Error("the 404 page does not say what was not found")
		}
		if body := string(c.get("/packages/webapp/0.1.0").Body); !strings.Contains(body, "was deleted") {
			t.Error("the 410 page does not say the version was deleted")
		}

		// Static assets: hashed URLs, cached for a year, right types.
		home := c.page(200, "/")
		for _, m := range regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`).FindAllStringSubmatch(home, -1) {
			res := c.get(m[1])
			if res.Status != 200 || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") || len(res.Body) < 100 {
				t.Errorf("%s: %d %q %d bytes", m[1], res.Status, res.Header.Get("Cache-Control"), len(res.Body))
			}
			if strings.HasSuffix(m[1], ".css") && !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") ||
				strings.HasSuffix(m[1], ".js") && !strings.Contains(res.Header.Get("Content-Type"), "javascript") {
				t.Errorf("%s: Content-Type %q", m[1], res.Header.Get("Content-Type"))
			}
		}
		if res := c.get("/static/0123/nothing.css"); res.Status != 404 {
			t.Errorf("unknown asset: %d", res.Status)
		}
	})
}

// TestWebAccounts checks registration, sign-in and sign-out through the
// forms: CSRF refusals, errors next to their fields with what was typed
// kept (never the password), session cookies, open redirects refused and
// sessions ended on the server.
func TestWebAccounts(t *testing.T) {
	r := startRegistry(t, regOptions{})
	c := newWebClient(t, r)

	// Forms without a valid CSRF token are refused, whoever sends them.
	form := url.Values{"username": {"carol"}, "email": {"carol@example.org"}, "password": {"correct-horse-carol"}, "confirm": {"correct-horse-carol"}}
	for _, tok := range []string{"", "forged", c.csrf("/login") + "x"} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if tok != "" {
			f.Set("csrf", tok)
		}
		if res := c.post("/register", f); res.Status != 403 || !strings.Contains(string(res.Body), "reload the page") {
			t.Errorf("register with CSRF token %q: %d", tok, res.Status)
		}
		if res := c.post("/login", url.Values{"login": {"carol"}, "password": {"x"}, "csrf": {tok}}); res.Status != 403 {
			t.Errorf("login with CSRF token %q: %d", tok, res.Status)
		}
	}
	// A token is bound to its cookie: another browser's token is refused.
	other := newWebClient(t, r)
	if res := c.post("/register", url.Values{"username": {"carol"}, "csrf": {other.csrf("/register")}}); res.Status != 403 {
		t.Errorf("register with another browser's token: %d", res.Status)
	}

	// Errors sit next to their fields and keep what was typed.
	for _, tt := range []struct {
		name   string
		change url.Values
		status int
		field  string
		msg    string
	}{
		{"bad email", url.Values{"email": {"not-an-email"}}, 400, "email", "valid email"},
		{"bad username", url.Values{"username": {"c a"}}, 400, "username", "may contain only"},
		// A password no page holds otherwise ("short" is in every page).
		{"short password", url.Values{"password": {"pw-7x"}, "confirm": {"pw-7x"}}, 400, "password", "at least 8"},
		{"passwords differ", url.Values{"confirm": {"something-else"}}, 400, "confirm", "differ"},
		{"missing email", url.Values{"email": {""}}, 400, "email", "Enter your email"},
	} {
		f := url.Values{"full_name": {`Carol "<C>"`}}
		for k, v := range form {
			f[k] = v
		}
		for k, v := range tt.change {
			f[k] = v
		}
		res := c.submit("/register", "/register", f)
		body := string(res.Body)
		if res.Status != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, res.Status, tt.status)
		}
		errText := regexp.MustCompile(`id="` + tt.field + `-error">([^<]*)<`).FindStringSubmatch(body)
		if errText == nil || !strings.Contains(html.UnescapeString(errText[1]), tt.msg) {
			t.Errorf("%s: no error next to %s mentioning %q", tt.name, tt.field, tt.msg)
		}
		if !strings.Contains(body, `id="`+tt.field+`" name="`+tt.field+`"`) || !strings.Contains(body, `aria-invalid="true" aria-describedby="`+tt.field+`-error"`) {
			t.Errorf("%s: the field is not marked invalid", tt.name)
		}
		if tt.field != "email" && !strings.Contains(body, `value="carol@example.org"`) {
			t.Errorf("%s: the typed email was not kept", tt.name)
		}
		if !strings.Contains(body, `value="Carol &#34;&lt;C&gt;&#34;"`) {
			t.Errorf("%s: the typed full name was not kept, escaped", tt.name)
		}
		if strings.Contains(body, f.Get("password")) {
			t.Errorf("%s: the password was sent back", tt.name)
		}
	}

	// Registration signs in: an HttpOnly, SameSite=Lax session cookie.
	c.signUp("carol")
	ck := c.cookie("dryad_session")
	if ck == nil {
		t.Fatal("no session cookie after registration")
	}
	body := c.page(200, "/dashboard")
	if !strings.Contains(body, "Welcome, carol!") || !strings.Contains(body, "Signed in as") {
		t.Error("the dashboard does not greet the new user")
	}
	res := c.get("/register")
	if res.Status != 303 || res.Header.Get("Location") != "/dashboard" {
		t.Errorf("register page when signed in: %d %q", res.Status, res.Header.Get("Location"))
	}

	// Sign-out needs its CSRF token, then ends the session on the server:
	// the old cookie no longer opens anything.
	if res := c.post("/logout", url.Values{}); res.Status != 403 {
		t.Errorf("logout without CSRF: %d", res.Status)
	}
	if res := c.submit("/dashboard", "/logout", url.Values{}); res.Status != 303 || res.Header.Get("Location") != "/" {
		t.Fatalf("logout: %d %q", res.Status, res.Header.Get("Location"))
	}
	if c.cookie("dryad_session") != nil {
		t.Error("the session cookie survived logout")
	}
	replay := newWebClient(t, r)
	u, _ := url.Parse(r.URL)
	replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: "dryad_session", Value: ck.Value}})
	if res := replay.get("/dashboard"); res.Status != 303 {
		t.Errorf("dashboard with the cookie of an ended session: %d", res.Status)
	}

	// Sign-in errors keep the typed name, never the password.
	res = c.submit("/login", "/login", url.Values{"login": {"carol"}, "password": {"wrong-password-123"}})
	body = string(res.Body)
	if res.Status != 401 || !strings.Contains(body, "Wrong username or password") || !strings.Contains(body, `value="carol"`) || strings.Contains(body, "wrong-password-123") {
		t.Errorf("wrong password: %d\n%.3000s", res.Status, body)
	}
	res = c.submit("/login", "/login", url.Values{"login": {"carol"}})
	if res.Status != 400 || !regexp.MustCompile(`id="password-error">Enter your password`).MatchString(string(res.Body)) {
		t.Errorf("missing password: %d", res.Status)
	}

	// next= leads back to a page of this site, never elsewhere.
	for next, want := range map[string]string{"/upload": "/upload", "//evil.example/x": "/dashboard", "https://evil.example": "/dashboard", `/\evil.example`: "/dashboard", `/./\evil.example`: "/dashboard", "/\t/evil.example": "/dashboard"} {
		d := newWebClient(t, r)
		tok := d.csrf("/login?next=" + url.QueryEscape(next))
		res := d.post("/login", url.Values{"login": {"carol"}, "password": {"correct-horse-carol"}, "next": {next}, "csrf": {tok}})
		if res.Status != 303 || res.Header.Get("Location") != want {
			t.Errorf("login with next=%q: %d %q, want %q", next, res.Status, res.Header.Get("Location"), want)
		}
	}
}

// TestWebSessionCookie checks the attributes of the cookies the web sets.
func TestWebSessionCookie(t *testing.T) {
	r := startRegistry(t, regOptions{})
	c := newWebClient(t, r)
	res := c.get("/login")
	anon := strings.Join(res.Header.Values("Set-Cookie"), "\n")
	if !strings.Contains(anon, "dryad_csrf=") || !strings.Contains(anon, "HttpOnly") || !strings.Contains(anon, "SameSite=Lax") {
		t.Errorf("anonymous CSRF cookie: %q", anon)
	}
	f := url.Values{"username": {"dave"}, "email": {"dave@example.org"}, "password": {"correct-horse-dave"}, "confirm": {"correct-horse-dave"}}
	res = c.submit("/register", "/register", f)
	sess := strings.Join(res.Header.Values("Set-Cookie"), "\n")
	if !regexp.MustCompile(`dryad_session=[^;]+; Path=/; Max-Age=\d+; HttpOnly; SameSite=Lax`).MatchString(sess) {
		t.Errorf("session cookie: %q", sess)
	}
	// Behind a trusted proxy that says HTTPS, cookies are Secure.
	s := startRegistry(t, regOptions{Env: map[string]string{"TRUSTED_PROXIES": "127.0.0.1/32"}})
	req, _ := http.NewRequest("GET", s.URL+"/login", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v := resp.Header.Get("Set-Cookie"); !strings.Contains(v, "Secure") {
		t.Errorf("cookie over HTTPS is not Secure: %q", v)
	}
}

// TestWebDashboard drives the signed-in pages without JavaScript: API
// tokens (shown once, usable, revocable), uploads as a plain form and as
// the script sends them, yanking, owners and deletion with its
// confirmation, and the refusals of each.
func TestWebDashboard(t *testing.T) {
	r := startRegistry(t, regOptions{Env: map[string]string{"MAX_PACKAGE_SIZE": "64KB"}})
	c := newWebClient(t, r)
	c.signUp("erin")

	// Tokens: the secret is on the creation page only.
	res := c.submit("/dashboard", "/dashboard/tokens", url.Values{"name": {"ci"}, "scope": {"publish", "yank"}, "packages": {"dash-*"}, "expires": {"30"}})
	if res.Status != 201 {
		t.Fatalf("create token: %d\n%s", res.Status, res.Body)
	}
	secret := regexp.MustCompile(`id="new-token" class="token-value" type="text" value="(oak_[^"]+)"`).FindStringSubmatch(string(res.Body))
	if secret == nil {
		t.Fatalf("the new token is not shown:\n%s", res.Body)
	}
	if !strings.Contains(string(res.Body), `data-copy="new-token"`) {
		t.Error("the new token has no copy button")
	}
	body := c.page(200, "/dashboard")
	if strings.Contains(body, secret[1]) || !strings.Contains(body, "ci") || !strings.Contains(body, "dash-*") {
		t.Error("the token list shows the secret, or lacks the token")
	}
	r.expect(201, "POST", "/api/upload", secret[1], pkg{name: "dash-tool", version: "0.9.0"}.archive(t), "Content-Type", "application/gzip")

	for _, tt := range []struct {
		form   url.Values
		status int
		field  string
	}{
		{url.Values{"name": {""}, "scope": {"publish"}, "expires": {"30"}}, 400, "token-name"},
		{url.Values{"name": {"x"}, "expires": {"30"}}, 400, "scope"},
		{url.Values{"name": {"x"}, "scope": {"publish"}, "packages": {"BAD NAME!"}, "expires": {"30"}}, 400, "token-packages"},
		{url.Values{"name": {"x"}, "scope": {"publish"}, "expires": {"9999"}}, 400, "expires"},
	} {
		res := c.submit("/dashboard", "/dashboard/tokens", tt.form)
		if res.Status != tt.status || !strings.Contains(string(res.Body), `id="`+tt.field+`-error"`) {
			t.Errorf("token form %v: %d, want %d with an error next to %s", tt.form, res.Status, tt.status, tt.field)
		}
		if res.Status == 400 && !strings.Contains(string(res.Body), `value="`+tt.form.Get("name")+`"`) {
			t.Errorf("token form %v: the typed name was not kept", tt.form)
		}
	}
	if res := c.post("/dashboard/tokens", url.Values{"name": {"x"}, "scope": {"publish"}, "expires": {"30"}}); res.Status != 403 {
		t.Errorf("token without CSRF: %d", res.Status)
	}
	id := regexp.MustCompile(`action="/dashboard/tokens/(\d+)/revoke"`).FindStringSubmatch(body)
	if id == nil {
		t.Fatal("no revoke button")
	}
	if res := c.submit("/dashboard", "/dashboard/tokens/"+id[1]+"/revoke", url.Values{"name": {"ci"}}); res.Status != 303 {
		t.Fatalf("revoke: %d", res.Status)
	}
	if !strings.Contains(c.page(200, "/dashboard"), "was revoked") {
		t.Error("no confirmation of the revocation")
	}
	r.expect(401, "GET", "/api/tokens", secret[1], nil)

	// Uploads: a plain form post is redirected to the package page.
	tok := c.csrf("/upload")
	res = c.upload("dash-lib-1.0.0.tar.gz", pkg{name: "dash-lib", version: "1.0.0", files: map[string]string{"README.md": "# Dash lib\n"}}.archive(t), tok)
	if res.Status != 303 || res.Header.Get("Location") != "/packages/dash-lib" {
		t.Fatalf("form upload: %d %q\n%s", res.Status, res.Header.Get("Location"), res.Body)
	}
	if page := c.page(200, "/packages/dash-lib"); !strings.Contains(page, "Published dash-lib@1.0.0") || !strings.Contains(page, `<h1 id="dash-lib">Dash lib</h1>`) {
		t.Error("the package page after upload lacks the confirmation or the README")
	}
	// The script's way: header token, JSON answers.
	res = c.upload("dash-lib-1.1.0.tgz", pkg{name: "dash-lib", version: "1.1.0"}.archive(t), "", "X-CSRF-Token", tok, "Accept", "application/json")
	if res.Status != 201 || !strings.Contains(string(res.Body), `"url":"/packages/dash-lib"`) {
		t.Errorf("script upload: %d %s", res.Status, res.Body)
	}
	for _, tt := range []struct {
		name    string
		file    string
		body    []byte
		csrf    string
		headers []string
		status  int
		message string
	}{
		{"no CSRF", "a.tar.gz", pkg{name: "dash-x", version: "1.0.0"}.archive(t), "", []string{"Accept", "application/json"}, 403, "reload the page"},
		{"forged CSRF", "a.tar.gz", pkg{name: "dash-x", version: "1.0.0"}.archive(t), "forged", []string{"Accept", "application/json"}, 403, "reload the page"},
		{"wrong type", "a.zip", pkg{name: "dash-x", version: "1.0.0"}.archive(t), tok, []string{"Accept", "application/json"}, 400, "not a .tar.gz"},
		{"republish", "a.tar.gz", pkg{name: "dash-lib", version: "1.0.0"}.archive(t), tok, []string{"Accept", "application/json"}, 409, "immutable"},
		{"too large", "a.tar.gz", bytes.Repeat([]byte{1}, 200<<10), tok, []string{"Accept", "application/json"}, 413, "largest accepted"},
		{"not an archive", "a.tar.gz", []byte("hello"), tok, nil, 400, "gzip"},
	} {
		res := c.upload(tt.file, tt.body, tt.csrf, tt.headers...)
		if res.Status != tt.status || !strings.Contains(string(res.Body), tt.message) {
			t.Errorf("upload %s: %d, want %d mentioning %q\n%.1000s", tt.name, res.Status, tt.status, tt.message, res.Body)
		}
	}
	if res := newWebClient(t, r).upload("a.tar.gz", pkg{name: "dash-x", version: "1.0.0"}.archive(t), "", "Accept", "application/json"); res.Status != 401 {
		t.Errorf("upload without a session: %d", res.Status)
	}

	// Yank and unyank from the management page; the badge follows.
	manage := "/dashboard/packages/dash-lib"
	if res := c.submit(manage, manage+"/yank", url.Values{"version": {"1.1.0"}, "action": {"yank"}}); res.Status != 303 {
		t.Fatalf("yank: %d %s", res.Status, res.Body)
	}
	if page := c.page(200, "/packages/dash-lib/1.1.0"); !strings.Contains(page, "badge-yanked") || !strings.Contains(page, "This version was yanked") {
		t.Error("the yanked version has no badge")
	}
	if doc := r.expect(200, "GET", "/api/packages/dash-lib", "", nil).JSON(t); doc["version"] != "1.0.0" {
		t.Errorf("latest after yank: %v", doc["version"])
	}
	if res := c.post(manage+"/yank", url.Values{"version": {"1.1.0"}, "action": {"unyank"}}); res.Status != 403 {
		t.Errorf("unyank without CSRF: %d", res.Status)
	}
	c.submit(manage, manage+"/yank", url.Values{"version": {"1.1.0"}, "action": {"unyank"}})
	if page := c.page(200, manage); strings.Contains(page, `<span class="badge badge-yanked"`) {
		t.Error("the badge stayed after unyank")
	} else if !strings.Contains(page, "Git repository") || !strings.Contains(page, "not mirrored") {
		t.Error("the management page lacks the git and mirror state")
	}

	// Owners: add, refused unknown user, remove.
	newWebClient(t, r).signUp("frank")
	if res := c.submit(manage, manage+"/owners", url.Values{"username": {"frank"}}); res.Status != 303 {
		t.Errorf("add owner: %d", res.Status)
	}
	res = c.submit(manage, manage+"/owners", url.Values{"username": {"nobody"}})
	if res.Status != 422 || !strings.Contains(string(res.Body), "User &#34;nobody&#34; not found") {
		t.Errorf("add unknown owner: %d", res.Status)
	}
	if page := c.page(200, "/packages/dash-lib"); !strings.Contains(page, `href="/users/frank"`) {
		t.Error("the new owner is not listed")
	}
	if res := c.submit(manage, manage+"/owners/remove", url.Values{"username": {"frank"}}); res.Status != 303 {
		t.Errorf("remove owner: %d", res.Status)
	}

	// Another user may not manage the package.
	g := newWebClient(t, r)
	g.signUp("gina")
	if res := g.get(manage); res.Status != 403 || !strings.Contains(string(res.Body), "not an owner") {
		t.Errorf("manage page of another's package: %d", res.Status)
	}
	if res := g.submit("/dashboard", manage+"/yank", url.Values{"version": {"1.0.0"}, "action": {"yank"}}); res.Status != 403 {
		t.Errorf("yank another's package: %d", res.Status)
	}

	// Deleting names what breaks, and the registry's refusals show in place.
	r.expect(201, "POST", "/api/upload", r.login("erin"), pkg{name: "dash-app", version: "1.0.0", fields: map[string]any{"dependencies": map[string]string{"dash-lib": "1.0.0"}}}.archive(t), "Content-Type", "application/gzip")
	confirm := c.page(200, manage+"/delete?version=1.0.0")
	for _, want := range []string{"Delete dash-lib@1.0.0?", "can never be published again", `href="/packages/dash-app"`, "needs <code>1.0.0</code>", `name="version" value="1.0.0"`} {
		if !strings.Contains(confirm, want) {
			t.Errorf("the delete confirmation lacks %q", want)
		}
	}
	res = c.submit(manage+"/delete?version=1.0.0", manage+"/delete", url.Values{"version": {"1.0.0"}})
	if res.Status != 409 || !strings.Contains(string(res.Body), "dash-app@1.0.0 depends on it") {
		t.Errorf("delete a needed version: %d\n%.2000s", res.Status, res.Body)
	}
	if res := c.submit(manage+"/delete?version=1.1.0", manage+"/delete", url.Values{"version": {"1.1.0"}}); res.Status != 303 {
		t.Errorf("delete version: %d", res.Status)
	}
	c.get("/packages/dash-lib/1.1.0") // the cache forgot it
	if res := c.get("/packages/dash-lib/1.1.0"); res.Status != 410 {
		t.Errorf("deleted version page: %d", res.Status)
	}
	if res := c.post(manage+"/delete", url.Values{}); res.Status != 403 {
		t.Errorf("delete without CSRF: %d", res.Status)
	}
	tool := "/dashboard/packages/dash-tool"
	if page := c.page(200, tool+"/delete"); !strings.Contains(page, "Delete the package dash-tool?") || !strings.Contains(page, "0.9.0") {
		t.Error("the package delete confirmation lacks its versions")
	}
	if res := c.submit(tool+"/delete", tool+"/delete", url.Values{}); res.Status != 303 || res.Header.Get("Location") != "/dashboard" {
		t.Errorf("delete package: %d", res.Status)
	}
	if res := c.get("/packages/dash-tool"); res.Status != 410 {
		t.Errorf("deleted package page: %d", res.Status)
	}

	// Changing the password keeps this browser signed in, with a new session.
	old := c.cookie("dryad_session").Value
	res = c.submit("/dashboard", "/dashboard/password", url.Values{"current": {"wrong"}, "new": {"another-long-pass"}, "confirm": {"another-long-pass"}})
	if res.Status != 403 || !strings.Contains(string(res.Body), `id="pw-current-error"`) {
		t.Errorf("password change with a wrong current password: %d", res.Status)
	}
	res = c.submit("/dashboard", "/dashboard/password", url.Values{"current": {"correct-horse-erin"}, "new": {"another-long-pass"}, "confirm": {"another-long-pass"}})
	if res.Status != 303 || c.cookie("dryad_session") == nil || c.cookie("dryad_session").Value == old {
		t.Fatalf("password change: %d", res.Status)
	}
	c.page(200, "/dashboard")
}

// TestWebAdmin checks that only admins reach /admin, and what it does.
func TestWebAdmin(t *testing.T) {
	r := startRegistry(t, regOptions{})
	if res := newWebClient(t, r).get("/admin"); res.Status != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("admin page without a session: %d", res.Status)
	}
	u := newWebClient(t, r)
	u.signUp("henry")
	if res := u.get("/admin"); res.Status != 403 {
		t.Errorf("admin page for a user: %d", res.Status)
	}
	if res := u.submit("/dashboard", "/admin/users/henry", url.Values{"action": {"role"}, "role": {"admin"}}); res.Status != 403 {
		t.Errorf("a user making themselves admin: %d", res.Status)
	}

	a := newWebClient(t, r)
	a.signUp("root")
	ensureAdmin(t, r, "root")
	body := a.page(200, "/admin")
	for _, want := range []string{"henry", "henry@example.org", "Audit log", "register"} {
		if !strings.Contains(body, want) {
			t.Errorf("admin page lacks %q", want)
		}
	}
	if !strings.Contains(body, `<a href="/admin">Admin</a>`) && !strings.Contains(body, `href="/admin" aria-current="page">Admin`) {
		t.Error("no admin link in the header")
	}
	// Disabling ends the user's sessions and stops sign-in.
	if res := a.submit("/admin", "/admin/users/henry", url.Values{"action": {"disable"}, "back": {"/admin?q=hen"}}); res.Status != 303 || res.Header.Get("Location") != "/admin?q=hen" {
		t.Fatalf("disable: %d %q", res.Status, res.Header.Get("Location"))
	}
	if res := u.get("/dashboard"); res.Status != 303 {
		t.Errorf("a disabled user's session still works: %d", res.Status)
	}
	res := u.submit("/login", "/login", url.Values{"login": {"henry"}, "password": {"correct-horse-henry"}})
	if res.Status != 403 || !strings.Contains(string(res.Body), "disabled") {
		t.Errorf("sign-in of a disabled user: %d", res.Status)
	}
	// Refusals of the registry come back as a message in the user's row,
	// beside the role when the change was the role.
	if res := a.submit("/admin", "/admin/users/root", url.Values{"action": {"disable"}}); res.Status != 409 ||
		!strings.Contains(string(res.Body), `id="row-error">Admins cannot disable or demote themselves`) {
		t.Errorf("self-disable: %d\n%s", res.Status, res.Body)
	}
	res = a.submit("/admin", "/admin/users/root", url.Values{"action": {"role"}, "role": {"user"}})
	if body := string(res.Body); res.Status != 409 || !regexp.MustCompile(`<select id="role-root" name="role" aria-invalid="true" aria-describedby="role-root-error" autofocus>`).MatchString(body) ||
		!strings.Contains(body, `id="role-root-error">Admins cannot disable or demote themselves`) {
		t.Errorf("self-demotion: %d\n%s", res.Status, body)
	}
	// Filters of the audit log.
	body = a.page(200, "/admin?action=login&outcome=denied")
	if !strings.Contains(body, "account disabled") || strings.Contains(body, "<code>register</code>") {
		t.Error("the audit filter does not select denied logins")
	}
	if res := a.get("/admin?apage=x"); res.Status != 400 {
		t.Errorf("bad page number: %d", res.Status)
	}
}

// BenchmarkWebPackagePage measures a package page served over HTTP from
// the cached page model: README, versions, dependents and the chart.
func BenchmarkWebPackagePage(b *testing.B) {
	r := startRegistry(b, regOptions{Env: map[string]string{"LOG_LEVEL": "warn"}})
	tok := r.signUp("bench")
	readme := "# Bench\n\n" + strings.Repeat("Some *text* with `code` and [a link](https://example.org).\n\n", 200)
	for _, v := range []string{"1.0.0", "1.1.0", "1.2.0", "2.0.0"} {
		r.expect(201, "POST", "/api/upload", tok, pkg{name: "bench-lib", version: v, files: map[string]string{"README.md": readme}}.archive(b), "Content-Type", "application/gzip")
	}
	c := &http.Client{}
	get := func() int {
		resp, err := c.Get(r.URL + "/packages/bench-lib")
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		return int(n)
	}
	b.SetBytes(int64(get()))
	b.ResetTimer()
	for b.Loop() {
		get()
	}
}

// TestWebDatabaseDown checks that pages fail in the site's layout when
// PostgreSQL goes away: the status of the failure, the request id to quote,
// and no detail of the database error.
func TestWebDatabaseDown(t *testing.T) {
	dbURL := testenv.NewPostgresDatabase(t)
	r := startRegistry(t, regOptions{DatabaseURL: dbURL})
	c := newWebClient(t, r)
	c.page(200, "/")

	u, _ := url.Parse(dbURL)
	conn, err := pgx.Connect(context.Background(), testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "DROP DATABASE "+strings.TrimPrefix(u.Path, "/")+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/search?q=x", "/packages/anything", "/users/someone"} {
		res := c.get(path)
		body := string(res.Body)
		if res.Status < 500 || !strings.Contains(body, `class="error-page"`) || !strings.Contains(body, res.Header.Get("X-Request-ID")) {
			t.Errorf("GET %s with the database gone: %d\n%.1500s", path, res.Status, body)
		}
		for _, leak := range []string{"pgx", "SQLSTATE", "database \"", "dial tcp", "postgres"} {
			if strings.Contains(body, leak) {
				t.Errorf("GET %s: the page shows %q", path, leak)
			}
		}
		checkPageHeaders(t, path, res.Header)
	}
	if !strings.Contains(r.Logs(), "request_id=") {
		t.Error("the failure was not logged with its request id")
	}
}

// TestWebManyVersions checks that a package page lists only its newest
// versions (and the one it shows) and links the versions page, which lists
// them all with the diff form.
func TestWebManyVersions(t *testing.T) {
	r := startRegistry(t, regOptions{})
	tok := r.signUp("prolific")
	const n = 33
	for i := range n {
		r.expect(201, "POST", "/api/upload", tok, pkg{name: "prolific", version: fmt.Sprintf("1.%d.0", i)}.archive(t), "Content-Type", "application/gzip")
	}
	c := newWebClient(t, r)
	// listed returns the versions in a page's versions table.
	listed := func(body string) []string {
		rows := regexp.MustCompile(`<tr(?: class="current")?>\s*<td><a href="/packages/[a-z]+/([0-9.]+)" class="mono">`)
		var vs []string
		for _, m := range rows.FindAllStringSubmatch(body, -1) {
			vs = append(vs, m[1])
		}
		return vs
	}

	body := c.page(200, "/packages/prolific")
	got := listed(body)
	if len(got) != 30 || got[0] != "1.32.0" || got[29] != "1.3.0" {
		t.Errorf("the package page lists %d versions, %v; want the newest 30", len(got), got)
	}
	if !strings.Contains(body, `<a href="/packages/prolific/versions" id="pkg_all_versions">All 33 versions</a>`) ||
		!strings.Contains(body, `Versions <span class="count">33</span>`) {
		t.Error("the package page neither counts every version nor links the versions page")
	}
	// An older version's page lists it too, marked.
	body = c.page(200, "/packages/prolific/1.1.0")
	if got := listed(body); len(got) != 31 || got[30] != "1.1.0" || !strings.Contains(body, `<tr class="current">
      <td><a href="/packages/prolific/1.1.0"`) {
		t.Errorf("the page of 1.1.0 lists %v", got)
	}

	body = c.page(200, "/packages/prolific/versions")
	if got := listed(body); len(got) != n || got[0] != "1.32.0" || got[n-1] != "1.0.0" {
		t.Errorf("the versions page lists %d versions, %v", len(got), got)
	}
	if !strings.Contains(body, `id="versions_count">33 versions`) || strings.Count(body, `<option value="1.0.0"`) != 2 {
		t.Error("the versions page lacks its count or a diff form offering every version")
	}
	if res := c.get("/packages/Prolific/versions"); res.Status != 301 || res.Header.Get("Location") != "/packages/prolific/versions" {
		t.Errorf("another spelling: %d %s", res.Status, res.Header.Get("Location"))
	}
	c.page(404, "/packages/nothing-here/versions")

	// A package with few versions lists them all and no link.
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "brief", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
	if body := c.page(200, "/packages/brief"); strings.Contains(body, "pkg_all_versions") || len(listed(body)) != 1 {
		t.Error("a package of one version: the page should list it and link no versions page")
	}
}

// TestWebManyDependents checks that a package page lists the first 100
// dependents by name and counts them all.
func TestWebManyDependents(t *testing.T) {
	r := startRegistry(t, regOptions{})
	tok := r.signUp("popular")
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "popular", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
	const n = 101
	for i := range n {
		r.expect(201, "POST", "/api/upload", tok, pkg{name: fmt.Sprintf("user-%03d", i), version: "1.0.0",
			fields: map[string]any{"dependencies": map[string]string{"popular": "^1.0.0"}}}.archive(t), "Content-Type", "application/gzip")
	}
	body := newWebClient(t, r).page(200, "/packages/popular")
	listed := regexp.MustCompile(`<li><a href="/packages/(user-[0-9]+)">`).FindAllStringSubmatch(body, -1)
	if len(listed) != 100 || listed[0][1] != "user-000" || listed[99][1] != "user-099" {
		t.Errorf("the page lists %d dependents; want user-000 to user-099", len(listed))
	}
	if !strings.Contains(body, `Dependents <span class="count">101</span>`) {
		t.Error("the page does not count every dependent")
	}
}
