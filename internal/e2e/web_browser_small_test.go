package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dryad-lang/registry/internal/testenv"
)

// TestBrowserSmall drives Chromium through the smaller web items: a
// failed sign-in shows its error beside the password, marked invalid,
// highlighted in light and dark mode and focused; an API call with the
// wrong method gets 405 with Allow and a JSON error; the search filters
// narrow the results and the count follows; the home page's trending list
// shows a package just downloaded.
func TestBrowserSmall(t *testing.T) {
	r := startRegistry(t, regOptions{})
	tess, uma := r.signUp("tess"), r.signUp("uma")
	for _, p := range []struct {
		tok, name string
		keywords  []string
	}{
		{tess, "tess_http", []string{"http"}},
		{tess, "tess_json", []string{"json"}},
		{uma, "uma_http", []string{"http"}},
	} {
		r.expect(201, "POST", "/api/upload", p.tok, pkg{name: p.name, version: "1.0.0", fields: map[string]any{"keywords": p.keywords}}.archive(t),
			"Content-Type", "application/gzip")
	}
	for range 2 {
		r.expect(200, "GET", "/packages/tess_json/1.0.0.tar.gz", "", nil)
	}
	testenv.Eventually(t, "the downloads flushed", func() (bool, string) {
		st := r.expect(200, "GET", "/api/packages/tess_json/stats", "", nil).JSON(t)
		return st["total"].(float64) == 2, fmt.Sprint("total ", st["total"])
	})
	b := startBrowser(t, r.URL)

	// A failed sign-in: the error beside the password.
	b.open("/login")
	b.do("sign in with a wrong password",
		chromedp.SendKeys(chromedp.ID("login"), "tess"),
		chromedp.SendKeys(chromedp.ID("password"), "not the password\n"),
		chromedp.WaitVisible(chromedp.ID("password-error")),
	)
	b.expectText("#password-error", "Wrong username or password")
	if !b.eval("the password marked invalid", `document.getElementById('password').getAttribute('aria-invalid') === 'true' &&
		document.getElementById('password').getAttribute('aria-describedby') === 'password-error'`) {
		t.Error("the password field is not marked aria-invalid and described by its error")
	}
	if !b.eval("focus on the password", `document.activeElement && document.activeElement.id === 'password'`) {
		t.Errorf("focus is not on the invalid field")
	}
	if !b.eval("values kept", `document.getElementById('login').value === 'tess' && document.getElementById('password').value === ''`) {
		t.Error("the username typed is not kept, or the password is")
	}
	if b.eval("no banner", `document.getElementById('form-error') !== null`) {
		t.Error("the error about the password is a banner too")
	}
	// The invalid field looks different from a valid one, in both modes.
	for _, dark := range []bool{false, true} {
		b.darkMode(dark)
		if !b.eval("the invalid field highlighted", `(() => {
			const bad = getComputedStyle(document.getElementById('password')), good = getComputedStyle(document.getElementById('login'));
			return bad.borderTopColor !== good.borderTopColor && bad.backgroundColor !== good.backgroundColor;
		})()`) {
			t.Errorf("dark mode %v: the invalid field is not highlighted", dark)
		}
	}
	b.darkMode(false)

	// An API call with a method the endpoint does not take.
	answer := value(b, "POST to a package's metadata", chromedp.Evaluate[string](`fetch('/api/packages/tess_http', {method: 'POST'}).then(async res =>
		JSON.stringify({status: res.status, allow: res.headers.get('Allow'), body: await res.json()}))`, chromedp.EvalAwaitPromise))
	var got struct {
		Status int
		Allow  string
		Body   struct{ Error, Message string }
	}
	if err := json.Unmarshal([]byte(answer), &got); err != nil || got.Status != 405 || got.Allow != "GET, HEAD, DELETE" ||
		got.Body.Error != "method_not_allowed" || !strings.Contains(got.Body.Message, "GET, HEAD, DELETE") {
		t.Errorf("POST /api/packages/tess_http answered %s (%v)", answer, err)
	}

	// The search filters, without a script's help: a plain form.
	b.open("/search")
	b.expectText("#result-count", "3 packages")
	b.checkLabels()
	b.do("filter by owner",
		chromedp.SendKeys(chromedp.ID("filter-owner"), "tess"),
		chromedp.Click(chromedp.CSS(`.search-filters button[type=submit]`)),
	)
	b.waitQuery("owner=tess")
	b.expectText("#result-count", "2 packages")
	b.do("and by keyword",
		chromedp.WaitVisible(chromedp.ID("filter-keyword")),
		chromedp.SendKeys(chromedp.ID("filter-keyword"), "http"),
		chromedp.Click(chromedp.CSS(`.search-filters button[type=submit]`)),
	)
	b.waitQuery("keyword=http")
	b.expectText("#result-count", "1 package")
	b.expectText(".results", "tess_http")
	b.screenshots("search-filters", 900)
	if !b.eval("the filters kept", `document.getElementById('filter-owner').value === 'tess' && document.getElementById('filter-keyword').value === 'http'`) {
		t.Error("the filters' values are not kept on the results page")
	}

	// Trending: the package downloaded this week.
	b.open("/")
	b.expectText("#trending-title", "Trending")
	b.expectText("#trending", "tess_json")
	b.screenshots("home-trending", 1000)
	b.checkNarrow("/", "/search?owner=tess")
}

// waitQuery waits until the tab shows a loaded page whose query holds
// part: a form that submits to the page it is on changes only the query.
func (b *tab) waitQuery(part string) {
	b.t.Helper()
	b.waitFor("a page with "+part, fmt.Sprintf(`location.search.includes(%q) && document.readyState === "complete"`, part))
}
