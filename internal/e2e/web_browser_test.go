package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/dryad-lang/registry/internal/store"
	"github.com/dryad-lang/registry/internal/store/sqlite"
	"github.com/dryad-lang/registry/internal/testenv"
)

var writeScreenshots = flag.Bool("screenshots", false, "rewrite the PNGs of docs/screenshots from TestBrowser")

// stepTimeout bounds each browser step: a page that never shows what the
// test waits for fails the test instead of hanging it.
const stepTimeout = 20 * time.Second

// tab is one browser tab driven by a test.
type tab struct {
	t   *testing.T
	ctx context.Context
	url string
	// dialogs counts JavaScript dialogs (alert, confirm, prompt) the pages
	// opened: none of the registry's pages ever opens one.
	dialogs chan string
}

// startBrowser starts Debian's Chromium headless, with a fresh profile and
// nothing that reaches the network on its own, and opens a tab.
func startBrowser(t *testing.T, baseURL string) *tab {
	t.Helper()
	path := testenv.LookPath(t, "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("font-render-hinting", "none"),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	start, stop := context.WithTimeout(ctx, 60*time.Second)
	defer stop()
	// The first action starts the browser; its life is bound to ctx, not
	// to this step's timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	if _, err := chromedp.CallBrowser(start, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-write", AllowWithoutSanitization: true}, Setting: "granted", Origin: baseURL,
	}); err != nil {
		t.Logf("granting clipboard access: %v", err)
	}
	tb := &tab{t: t, ctx: ctx, url: baseURL, dialogs: make(chan string, 16)}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			tb.dialogs <- ev.Message
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	tb.do("set the viewport", chromedp.EmulateViewport(1280, 800))
	return tb
}

// do runs steps, each bounded by stepTimeout.
func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v (at %s)", what, err, b.location())
	}
}

// run runs one step that returns a value.
func value[T any](b *tab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v (at %s)", what, err, b.location())
	}
	return v
}

func (b *tab) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

// open navigates to a path of the registry and waits for its main content.
func (b *tab) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.url+path), chromedp.WaitVisible(chromedp.CSS("main")))
}

// waitPath waits until the tab shows the page at path, loaded. The page
// may be navigating meanwhile, which fails evaluations: those are retried.
func (b *tab) waitPath(path string) {
	b.t.Helper()
	b.waitFor("the page "+path, fmt.Sprintf(`location.pathname === %q && document.readyState === "complete"`, path))
}

// waitFor waits until the JavaScript condition holds on the tab, which may
// be navigating meanwhile (a form's answer): evaluations that fail are
// retried.
func (b *tab) waitFor(what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("the tab never showed %s (at %s)", what, b.location())
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(value(b, "read "+sel, chromedp.Text(chromedp.CSS(sel))))
}

func (b *tab) eval(what, js string) bool {
	b.t.Helper()
	return value(b, what, chromedp.Evaluate[bool](js))
}

// expectText fails unless the element shows text containing want.
func (b *tab) expectText(sel, want string) {
	b.t.Helper()
	if got := b.text(sel); !strings.Contains(got, want) {
		b.t.Errorf("%s on %s shows %q, want %q", sel, b.location(), got, want)
	}
}

// checkLabels fails when a visible form control of the page has no label.
func (b *tab) checkLabels() {
	b.t.Helper()
	unlabelled := value(b, "find unlabelled fields", chromedp.Evaluate[[]string](`[...document.querySelectorAll('input:not([type=hidden]):not([hidden]), select, textarea')]
		.filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.id || e.name)`))
	if len(unlabelled) > 0 {
		b.t.Errorf("%s: form fields without a label: %v", b.location(), unlabelled)
	}
}

// checkNarrow opens pages on a phone-sized viewport and fails when one
// is wider than the screen (content must wrap or scroll in its own box).
func (b *tab) checkNarrow(paths ...string) {
	b.t.Helper()
	b.do("narrow the viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	for _, p := range paths {
		b.open(p)
		if w := value(b, "measure "+p, chromedp.Evaluate[float64](`document.documentElement.scrollWidth`)); w > 390 {
			b.t.Errorf("%s is %v pixels wide on a 390-pixel screen", p, w)
		}
	}
	b.do("restore the viewport", chromedp.EmulateViewport(1280, 800))
}

// screenshot saves the viewport as docs/screenshots/name.png when the
// test runs with -screenshots.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	if !*writeScreenshots {
		return
	}
	b.save(name, value(b, "screenshot "+name, chromedp.CaptureScreenshot()))
}

// tallScreenshot is screenshot with the viewport made height pixels tall
// for the picture, for pages whose best part is below the fold.
func (b *tab) tallScreenshot(name string, height int64) {
	b.t.Helper()
	if !*writeScreenshots {
		return
	}
	b.do("grow the viewport", chromedp.EmulateViewport(1280, height))
	b.save(name, value(b, "screenshot "+name, chromedp.CaptureScreenshot()))
	b.do("restore the viewport", chromedp.EmulateViewport(1280, 800))
}

// screenshots saves the page as it stands three ways, with -screenshots:
// light (name), dark (name-dark), both height pixels tall, and on a phone
// 390 pixels wide (name-mobile).
func (b *tab) screenshots(name string, height int64) {
	b.t.Helper()
	if !*writeScreenshots {
		return
	}
	b.tallScreenshot(name, height)
	b.darkMode(true)
	b.tallScreenshot(name+"-dark", height)
	b.darkMode(false)
	b.do("narrow the viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	b.save(name+"-mobile", value(b, "screenshot "+name+"-mobile", chromedp.CaptureScreenshot()))
	b.do("restore the viewport", chromedp.EmulateViewport(1280, 800))
}

func (b *tab) save(name string, png []byte) {
	b.t.Helper()
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// darkMode switches prefers-color-scheme for the tab.
func (b *tab) darkMode(on bool) {
	b.t.Helper()
	v := "light"
	if on {
		v = "dark"
	}
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v}},
	}); err != nil {
		b.t.Fatalf("emulating %s mode: %v", v, err)
	}
}

// showcase publishes packages that make the pages look like a registry in
// use, and gives them 90 days of download history.
func showcase(t *testing.T, r *testRegistry) {
	t.Helper()
	tok := r.signUp("ada")
	pkgs := []pkg{
		{name: "sprout", version: "1.4.2", fields: map[string]any{"description": "Structured, leveled logging for Dryad programs", "keywords": []string{"logging", "json"}, "license": "MIT"}},
		{name: "canopy", version: "2.1.0", fields: map[string]any{"description": "An HTTP client and server toolkit with routing, middleware and TLS", "keywords": []string{"http", "web", "server"}, "license": "Apache-2.0",
			"homepage": "https://canopy.example.org", "repository": "https://git.example.org/ada/canopy", "dependencies": map[string]string{"sprout": "^1.4.0"}},
			files: map[string]string{
				"README.md": "# canopy\n\nAn HTTP toolkit for **Dryad**: a fast router, composable middleware and a client with retries.\n\n" +
					"## Install\n\n```sh\noak install canopy\n```\n\n## Quick start\n\n```dryad\nimport canopy\n\nlet app = canopy.router()\napp.get(\"/hello/:name\", fn(req) {\n  return canopy.text(\"Hello, \" + req.param(\"name\"))\n})\napp.listen(8080)\n```\n\n" +
					"## Features\n\n| feature | status |\n|---|---|\n| HTTP/1.1 server | stable |\n| Router with parameters | stable |\n| Client with retries | beta |\n\n- [x] Middleware chains\n- [x] Graceful shutdown\n- [ ] HTTP/3\n\n> canopy follows semantic versioning: breaking changes only in major versions.\n",
				"src/router.dryad":     "// A trie of path segments.\nexport fn router() {\n  return { routes: [] }\n}\n",
				"src/middleware.dryad": "export fn chain(handlers) {\n  return handlers\n}\n",
				"examples/hello.dryad": "import canopy\n",
			}},
		{name: "lichen", version: "0.9.1", fields: map[string]any{"description": "Fast JSON and TOML encoding with zero-copy parsing", "keywords": []string{"json", "toml", "encoding"}, "license": "MIT"}},
		{name: "bark", version: "3.0.0", fields: map[string]any{"description": "Command-line argument parsing with subcommands and generated help", "keywords": []string{"cli"}, "license": "BSD-3-Clause"}},
		{name: "root-db", version: "0.4.0", fields: map[string]any{"description": "A small embedded key-value store with transactions", "keywords": []string{"database"}, "license": "MIT"}},
	}
	for _, p := range pkgs {
		r.expect(201, "POST", "/api/upload", tok, p.archive(t), "Content-Type", "application/gzip")
	}
	for _, v := range []string{"2.0.0", "2.0.1", "2.2.0-beta.1"} {
		r.expect(201, "POST", "/api/upload", tok, pkg{name: "canopy", version: v, fields: map[string]any{"dependencies": map[string]string{"sprout": "^1.4.0"}}}.archive(t), "Content-Type", "application/gzip")
	}
	r.expect(200, "PUT", "/api/packages/canopy/versions/2.0.1/yank", tok, nil)
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "grove", version: "0.2.0", fields: map[string]any{"description": "A web framework on top of canopy: templates, sessions and forms",
		"keywords": []string{"web", "framework"}, "license": "MIT", "dependencies": map[string]string{"canopy": "^2.0.0"}}}.archive(t), "Content-Type", "application/gzip")

	// Download history goes straight into the store: the registry counts
	// only today's downloads, and a chart of one day shows little.
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(r.DataDir, "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, name := range []string{"canopy", "sprout", "lichen", "bark", "root-db", "grove"} {
		p, err := db.GetPackage(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		vs, err := db.ListVersions(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		var counts []store.DownloadCount
		today := time.Now().UTC()
		for d := 0; d < 90; d++ {
			// A growing trend with a weekly dip, different per package.
			n := int64(d/(i+2)+14-2*i) + int64(d%7/5*-6)
			if n > 0 {
				counts = append(counts, store.DownloadCount{VersionID: vs[0].ID, Day: today.AddDate(0, 0, -(89 - d)).Format(time.DateOnly), Count: n * int64(6-i)})
			}
		}
		if err := db.AddDownloads(ctx, "showcase-"+name, counts); err != nil {
			t.Fatal(err)
		}
	}
}

// pressSlash presses "/" where the page has focus, in JavaScript, and is
// true when the page's script took the key (cancelled its keydown).
const pressSlash = `!document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: '/', bubbles: true, cancelable: true}))`

// TestBrowser drives the web interface in Chromium as a person would:
// register, sign out and in, create a token and copy it, upload a package
// through the upload page and watch the progress bar finish, find the
// package page with its README and install snippet, search for it, yank it
// from the dashboard and see the badge, and sign out. Then: a README full
// of XSS payloads renders harmlessly, and a form sent without its CSRF
// token is refused. With -screenshots it rewrites docs/screenshots.
func TestBrowser(t *testing.T) {
	r := startRegistry(t, regOptions{Env: map[string]string{"MAX_PACKAGE_SIZE": "2MB"}})
	showcase(t, r)
	b := startBrowser(t, r.URL)

	// The home page, and the keyboard: the first Tab reaches the skip link.
	b.open("/")
	b.expectText(".stats", "packages")
	b.expectText("#recent-title", "Recently published")
	b.do("press Tab", chromedp.KeyEvent("\t"))
	if !b.eval("focus the skip link", `document.activeElement.classList.contains('skip-link') && document.activeElement.getBoundingClientRect().top >= 0`) {
		t.Error("the first Tab does not reach a visible skip link")
	}
	b.do("blur", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
	// "/" focuses the search box, and types nothing into it: the
	// keydown is cancelled (pressing the key through the DevTools
	// protocol would still send its character, which a browser does not).
	if !b.eval("press / on the home page", pressSlash+` && document.activeElement.id === 'q'`) {
		t.Error("/ does not focus the home page's search box, or types into it")
	}
	b.do("blur", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
	b.screenshot("home")

	// Register, sign out, sign in.
	b.open("/register")
	b.checkLabels()
	b.do("fill the registration form",
		chromedp.SendKeys(chromedp.ID("username"), "quinn"),
		chromedp.SendKeys(chromedp.ID("email"), "quinn@example.org"),
		chromedp.SendKeys(chromedp.ID("full_name"), "Quinn Oak"),
		chromedp.SendKeys(chromedp.ID("password"), "a long passphrase for quinn"),
		chromedp.SendKeys(chromedp.ID("confirm"), "a long passphrase for quinn"),
		chromedp.Click(chromedp.CSS(`form[action="/register"] button[type=submit]`)),
	)
	b.waitPath("/dashboard")
	b.expectText(".alert.success", "Welcome, quinn!")
	b.do("sign out", chromedp.Click(chromedp.CSS(".site-nav .link-button")))
	b.waitPath("/")
	b.open("/login")
	b.checkLabels()
	b.screenshot("login")
	b.do("sign in",
		chromedp.SendKeys(chromedp.ID("login"), "quinn"),
		chromedp.SendKeys(chromedp.ID("password"), "a long passphrase for quinn\n"),
	)
	b.waitPath("/dashboard")
	b.expectText(".site-nav", "quinn")

	// Create an API token; its secret is shown once, with a copy button.
	b.checkLabels()
	b.do("create a token",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('details.create-token').open = true`),
		chromedp.SendKeys(chromedp.ID("token-name"), "laptop"),
		chromedp.Click(chromedp.CSS(`input[name=scope][value=yank]`)),
		chromedp.Click(chromedp.CSS(`form[action="/dashboard/tokens"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("new-token")),
	)
	secret := value(b, "read the token", chromedp.Value(chromedp.ID("new-token")))
	if !strings.HasPrefix(secret, "oak_") {
		t.Fatalf("the new token %q is not an API token", secret)
	}
	r.expect(200, "GET", "/api/auth/profile", secret, nil)
	b.do("copy the token", chromedp.Click(chromedp.CSS(`button[data-copy="new-token"]`)))
	label := value(b, "wait for the copy confirmation", chromedp.Poll[string](`(t => t === 'Copied' || t === 'Press Ctrl+C' ? t : false)(document.querySelector('button[data-copy="new-token"] .copy-label').textContent)`,
		chromedp.WithPollingTimeout(5*time.Second)))
	if label != "Copied" {
		t.Errorf("the copy button says %q", label)
	} else if got := value(b, "read the clipboard", chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise)); got != secret {
		t.Errorf("the clipboard holds %q, want the token", got)
	}
	b.screenshot("dashboard")

	// Upload through the upload page: the file input, the checks before
	// sending, and the progress bar driven by the upload's own events.
	noise := make([]byte, 1<<20)
	rand.Read(noise) // incompressible: a megabyte to send
	archive := pkg{name: "acorn", version: "1.0.0", fields: map[string]any{"description": "Tiny seeds of reusable Dryad code", "keywords": []string{"utils"}, "license": "MIT"},
		files: map[string]string{"README.md": "# Acorn\n\nSmall helpers, **well tested**.\n\n```dryad\nimport acorn\nacorn.grow()\n```\n", "data/seed.bin": string(noise)}}.archive(t)
	file := filepath.Join(t.TempDir(), "acorn-1.0.0.tar.gz")
	if err := os.WriteFile(file, archive, 0o644); err != nil {
		t.Fatal(err)
	}
	wrong := filepath.Join(t.TempDir(), "acorn.zip")
	os.WriteFile(wrong, []byte("PK"), 0o644)

	b.open("/upload")
	b.checkLabels()
	b.do("choose a .zip", chromedp.SetUploadFiles(chromedp.ID("package-file"), []string{wrong}), chromedp.WaitVisible(chromedp.ID("upload-error")))
	b.expectText("#upload-error", "is not a .tar.gz or .tgz file")
	b.do("choose the archive", chromedp.SetUploadFiles(chromedp.ID("package-file"), []string{file}))
	b.expectText("#dropzone-file", "acorn-1.0.0.tar.gz")
	if b.eval("error cleared", `!document.getElementById('upload-error').hidden`) {
		t.Error("the error of the previous file stayed")
	}
	b.screenshot("upload")
	// Every value the progress bar takes is kept in sessionStorage, which
	// survives the navigation to the package page.
	b.do("record the progress bar", chromedp.Evaluate[chromedp.Void](`(() => {
		const bar = document.getElementById('progress'), form = document.getElementById('upload-form'), box = document.getElementById('upload-progress');
		const seen = [];
		const save = () => sessionStorage.setItem('uploadTrace', JSON.stringify({values: seen, state: form.getAttribute('data-state'), shown: !box.hidden, max: bar.max}));
		new MutationObserver(() => { seen.push(Number(bar.value)); save(); }).observe(bar, {attributes: true, attributeFilter: ['value']});
		new MutationObserver(save).observe(form, {attributes: true, attributeFilter: ['data-state']});
	})()`), chromedp.Click(chromedp.ID("upload-button")))
	b.waitPath("/packages/acorn")
	var trace struct {
		Values []float64
		State  string
		Shown  bool
		Max    float64
	}
	raw := value(b, "read the progress trace", chromedp.Evaluate[string](`sessionStorage.getItem('uploadTrace') || ''`))
	if err := json.Unmarshal([]byte(raw), &trace); err != nil {
		t.Fatalf("no progress trace (%v): %q", err, raw)
	}
	if n := len(trace.Values); n < 2 || trace.Values[n-1] != trace.Max || trace.State != "done" || !trace.Shown {
		t.Errorf("the progress bar did not run to its end: %+v", trace)
	}
	for i := 1; i < len(trace.Values); i++ {
		if trace.Values[i] < trace.Values[i-1] && trace.Values[i] != 0 {
			t.Errorf("the progress bar went backwards: %v", trace.Values)
		}
	}

	// The package page: the confirmation, the rendered README and the
	// install snippet.
	b.expectText(".alert.success", "Published acorn@1.0.0")
	b.expectText("article.markdown h1", "Acorn")
	b.expectText("article.markdown strong", "well tested")
	b.expectText("#pkg_install", "oak install acorn")
	b.expectText("#pkg_clone", r.URL+"/git/acorn.git")
	// What a link preview and a feed reader find in the head, and the
	// badge the README snippet embeds, drawn.
	if !b.eval("share tags", `document.querySelector('meta[property="og:title"]').content === 'acorn' &&
		document.querySelector('meta[property="og:description"]').content === 'Tiny seeds of reusable Dryad code' &&
		document.querySelector('meta[name="twitter:card"]').content === 'summary' &&
		document.querySelector('link[rel=canonical]').href === location.origin + '/packages/acorn' &&
		document.querySelector('link[rel=alternate][href="/packages/acorn/feed.xml"]') !== null`) {
		t.Error("the package page lacks its OpenGraph, Twitter card, canonical or feed tags")
	}
	value(b, "wait for the badge", chromedp.Poll[bool](`(i => i && i.complete && i.naturalWidth > 40)(document.querySelector('img[src="/badge/acorn.svg"]'))`,
		chromedp.WithPollingTimeout(5*time.Second)))
	b.expectText("#pkg_badge", "/badge/acorn.svg")
	// On a page without its own search box, "/" focuses the header's.
	if !b.eval("press / on a package page", pressSlash+` && document.activeElement.id === 'site_q'`) {
		t.Error("/ does not focus the header's search box")
	}
	b.do("blur again", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
	// A page shown again long after it was rendered corrects its
	// relative dates from the real clock.
	if !b.eval("refresh a stale relative date", `(() => {
		const el = document.querySelector('.pkg-byline time[data-ago]');
		el.setAttribute('datetime', new Date(Date.now() - 3 * 86400e3 - 5000).toISOString());
		el.textContent = 'just now';
		window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}));
		return el.textContent === '3 days ago';
	})()`) {
		t.Error("a relative date is not rewritten from the real clock when the page is shown again")
	}

	// Drag and drop: a file dropped on the zone is checked before sending
	// (too large here), and the server's refusal of a republish is shown
	// in place.
	b.open("/upload")
	drop := func(name, js string) {
		b.t.Helper()
		b.do("drop "+name, chromedp.Evaluate[chromedp.Void](`(() => {
			const dt = new DataTransfer();
			dt.items.add(new File([`+js+`], `+fmt.Sprintf("%q", name)+`, {type: 'application/gzip'}));
			const zone = document.getElementById('dropzone');
			zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
			zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
		})()`))
	}
	drop("huge.tar.gz", "new Uint8Array(3 * 1024 * 1024)")
	b.expectText("#upload-error", "is 3 MB; the largest accepted is 2 MB")
	drop("acorn-again.tar.gz", "Uint8Array.from(atob("+fmt.Sprintf("%q", base64.StdEncoding.EncodeToString(archive))+"), c => c.charCodeAt(0))")
	b.expectText("#dropzone-file", "acorn-again.tar.gz")
	b.do("publish again", chromedp.Click(chromedp.ID("upload-button")))
	value(b, "wait for the refusal", chromedp.Poll[bool](`document.getElementById('upload-form').getAttribute('data-state') === 'failed'`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(stepTimeout)))
	b.expectText("#upload-error", "acorn@1.0.0 already exists")
	if !b.eval("progress hidden", `document.getElementById('upload-progress').hidden && !document.getElementById('upload-button').disabled`) {
		t.Error("after a refused upload the progress bar stays, or the button stays disabled")
	}

	// Search finds it, from the home page's search box.
	b.open("/")
	b.do("search", chromedp.SendKeys(chromedp.ID("q"), "acorn\n"))
	b.waitPath("/search")
	b.expectText(".results", "acorn")
	b.expectText(".results", "Tiny seeds of reusable Dryad code")

	// Yank from the dashboard, and see the badge.
	b.open("/dashboard")
	b.do("manage acorn", chromedp.Click(chromedp.CSS(`a[href="/dashboard/packages/acorn"]`)))
	b.waitPath("/dashboard/packages/acorn")
	b.do("yank 1.0.0", chromedp.Click(chromedp.CSS(`tr[id="v-1.0.0"] form button[type=submit]`)))
	b.waitPath("/dashboard/packages/acorn")
	b.expectText(".alert.success", "Yanked acorn@1.0.0")
	b.do("see the badge", chromedp.WaitVisible(chromedp.CSS(`tr[id="v-1.0.0"] .badge-yanked`)))
	b.checkLabels()
	// Its only version yanked, the package page says nothing installs.
	b.open("/packages/acorn")
	b.expectText(".pkg-badges", "yanked")
	b.expectText("#pkg_all_yanked", "Every version of acorn is yanked (1.0.0)")
	b.open("/packages/acorn/1.0.0")
	b.expectText(".pkg-badges", "yanked")

	b.checkNarrow("/dashboard", "/upload", "/dashboard/packages/acorn", "/dashboard/packages/acorn/delete?version=1.0.0", "/users/quinn")

	// A form sent without its CSRF token is refused.
	b.open("/dashboard")
	b.do("send the token form without its CSRF field", chromedp.Evaluate[chromedp.Void](`(() => {
		const f = document.querySelector('form[action="/dashboard/tokens"]');
		f.querySelector('input[name=csrf]').remove();
		f.querySelector('#token-name').value = 'sneaky';
		f.submit();
	})()`))
	b.do("wait for the refusal", chromedp.WaitVisible(chromedp.CSS(".error-page")))
	b.expectText(".error-page", "403")
	b.expectText(".error-page", "reload the page")
	b.open("/dashboard")
	if strings.Contains(b.text("#tokens"), "sneaky") {
		t.Error("a token was created without a CSRF token")
	}

	// Sign out: back home, signed out, and the dashboard asks to sign in.
	b.do("sign out", chromedp.Click(chromedp.CSS(".site-nav .link-button")))
	b.waitPath("/")
	b.expectText(".alert.success", "You are signed out.")
	b.expectText(".site-nav", "Sign in")
	b.open("/dashboard")
	b.waitPath("/login")

	// A README full of XSS payloads renders harmlessly: nothing runs.
	r.expect(201, "POST", "/api/upload", r.login("ada"), pkg{name: "xss-demo", version: "1.0.0", files: map[string]string{"README.md": xssReadme}}.archive(t), "Content-Type", "application/gzip")
	b.open("/packages/xss-demo")
	b.expectText("article.markdown h1", "Safe")
	b.do("hover and click what the README shows", chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('article.markdown *').forEach(e => {
		e.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
		if (e.tagName !== 'A') e.click();
	})`), chromedp.Sleep(200*time.Millisecond))
	if !b.eval("check nothing ran", `typeof window.pwned === 'undefined'`) {
		t.Error("a README payload ran in the page")
	}
	if b.eval("look for active content", `document.querySelectorAll('article.markdown script, article.markdown iframe, article.markdown style, article.markdown form, article.markdown object, article.markdown svg').length > 0 ||
		[...document.querySelectorAll('article.markdown *')].some(e => [...e.attributes].some(a => a.name.startsWith('on') || /^\s*(javascript|vbscript|data):/i.test(a.value)))`) {
		t.Error("the README kept active content")
	}
	select {
	case msg := <-b.dialogs:
		t.Errorf("a page opened a dialog: %q", msg)
	default:
	}

	// The downloads chart is drawn on the server: one bar per day.
	b.open("/packages/canopy")
	bars := value(b, "count the chart's bars", chromedp.Evaluate[[]float64](`[...document.querySelectorAll('.chart rect.chart-bar')].map(r => r.getBBox().height)`))
	drawn := 0
	for _, h := range bars {
		if h > 0 {
			drawn++
		}
	}
	if len(bars) != 90 || drawn < 80 {
		t.Errorf("the chart has %d bars, %d of them drawn; want 90 bars with at least 80 drawn", len(bars), drawn)
	}
	b.tallScreenshot("package", 1800)
	b.checkNarrow("/", "/search?q=a", "/packages/canopy", "/packages/canopy/2.1.0/files/", "/packages/canopy/2.1.0/files/src/router.dryad", "/login", "/register", "/no/such/page")

	if *writeScreenshots {
		b.open("/search?q=json")
		b.screenshot("search")
		b.open("/packages/canopy/2.1.0/files/src/router.dryad#L2")
		b.screenshot("files")
		b.darkMode(true)
		b.open("/packages/canopy")
		b.tallScreenshot("package-dark", 1800)
		b.darkMode(false)
		b.do("narrow the viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		b.open("/packages/canopy")
		b.screenshot("package-mobile")
	}
}
