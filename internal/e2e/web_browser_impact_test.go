package e2e

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserImpact yanks from the management page in Chromium: a yank
// that moves other packages' ranges is a confirmation listing them, with
// their owners; one that moves nothing happens at once. The delete
// confirmation lists them too.
func TestBrowserImpact(t *testing.T) {
	r := startRegistry(t, regOptions{})
	ivy, moss := r.signUp("ivy"), r.signUp("moss")
	r.signUp("fern")
	upload := func(token string, p pkg) {
		r.expect(201, "POST", "/api/upload", token, p.archive(t), "Content-Type", "application/gzip")
	}
	for _, v := range []string{"0.9.0", "1.0.0", "1.1.0"} {
		upload(ivy, pkg{name: "oak-trunk", version: v})
	}
	upload(moss, pkg{name: "moss-app", version: "1.0.0", fields: map[string]any{"dependencies": map[string]string{"oak-trunk": "^1.0.0"}}})
	upload(moss, pkg{name: "moss-pin", version: "1.0.0", fields: map[string]any{"dependencies": map[string]string{"oak-trunk": "1.1.0"}}})
	r.expect(200, "PUT", "/api/packages/moss-pin/owners", moss, map[string]any{"users": []string{"fern"}})

	b := startBrowser(t, r.URL)
	b.open("/login")
	b.do("sign in",
		chromedp.SendKeys(chromedp.ID("login"), "ivy"),
		chromedp.SendKeys(chromedp.ID("password"), "correct-horse-ivy\n"),
	)
	b.waitPath("/dashboard")

	// Yanking 1.1.0 asks first, and says what it changes for whom.
	b.open("/dashboard/packages/oak-trunk")
	b.do("yank 1.1.0", chromedp.Click(chromedp.CSS(`tr[id="v-1.1.0"] form button[type=submit]`)))
	b.waitPath("/dashboard/packages/oak-trunk/yank")
	b.expectText("h1", "Yank oak-trunk@1.1.0?")
	b.expectText(".impact-summary", "2 versions of 2 packages would resolve differently")
	b.expectText(".impact-table tbody tr:nth-child(1)", "moss-app@1.0.0")
	b.expectText(".impact-table tbody tr:nth-child(1)", "^1.0.0")
	b.expectText(".impact-table tbody tr:nth-child(1)", "1.1.0 → 1.0.0")
	b.expectText(".impact-table tbody tr:nth-child(1) td:last-child", "moss")
	b.expectText(".impact-table tbody tr:nth-child(2)", "moss-pin@1.0.0")
	b.expectText(".impact-table tbody tr:nth-child(2)", "1.1.0 → nothing")
	b.expectText(".impact-table tbody tr:nth-child(2) td:last-child", "fern, moss")
	if !b.eval("owner links", `document.querySelector('.impact-table tbody tr:nth-child(1) td:last-child a').getAttribute('href') === '/users/moss'`) {
		t.Error("the owner is not a link to the owner's page")
	}
	// Nothing was yanked yet.
	if v := r.expect(200, "GET", "/api/packages/oak-trunk/versions/1.1.0", "", nil).JSON(t); v["yanked"] != false {
		t.Errorf("1.1.0 yanked before the confirmation: %v", v)
	}
	b.checkLabels()
	b.screenshots("yank-impact", 900)
	b.do("confirm", chromedp.Click(chromedp.CSS(`form.confirm-actions button[type=submit]`)))
	b.waitPath("/dashboard/packages/oak-trunk")
	b.expectText(".alert.success", "Yanked oak-trunk@1.1.0")
	b.do("see the badge", chromedp.WaitVisible(chromedp.CSS(`tr[id="v-1.1.0"] .badge-yanked`)))

	// 0.9.0 is picked by no range: one click.
	// The tab is on the management page already: mark this one, and
	// wait for a page without the mark.
	b.do("mark the page", chromedp.Evaluate[chromedp.Void](`document.documentElement.dataset.before = "yes"`))
	b.do("yank 0.9.0", chromedp.Click(chromedp.CSS(`tr[id="v-0.9.0"] form button[type=submit]`)))
	b.waitNewPage("/dashboard/packages/oak-trunk")
	b.expectText(".alert.success", "Yanked oak-trunk@0.9.0")
	b.do("see the badge", chromedp.WaitVisible(chromedp.CSS(`tr[id="v-0.9.0"] .badge-yanked`)))

	// Deleting 1.0.0 would leave moss-app with nothing.
	b.open("/dashboard/packages/oak-trunk/delete?version=1.0.0")
	b.expectText(".impact-summary", "1 version of 1 package would resolve differently")
	b.expectText(".impact-table tbody tr:nth-child(1)", "moss-app@1.0.0")
	b.expectText(".impact-table tbody tr:nth-child(1)", "1.0.0 → nothing")
	b.expectText(".impact-table tbody tr:nth-child(1) td:last-child", "moss")

	// Cancelling a yank confirmation changes nothing.
	b.open("/dashboard/packages/oak-trunk/yank?version=1.0.0")
	b.expectText(".impact-table", "moss-app@1.0.0")
	b.do("cancel", chromedp.Click(chromedp.CSS(`form.confirm-actions a.button`)))
	b.waitPath("/dashboard/packages/oak-trunk")
	if v := r.expect(200, "GET", "/api/packages/oak-trunk/versions/1.0.0", "", nil).JSON(t); v["yanked"] != false {
		t.Errorf("1.0.0 yanked after cancelling: %v", v)
	}

	b.checkNarrow("/dashboard/packages/oak-trunk/yank?version=1.0.0", "/dashboard/packages/oak-trunk/delete?version=1.0.0")
}

// waitNewPage is waitPath for a page that replaces one at the same path:
// it waits for the page to lose the data-before mark the test set on the
// old one. Evaluations that fail while the tab navigates are retried.
func (b *tab) waitNewPage(path string) {
	b.t.Helper()
	b.waitFor("a new page "+path, fmt.Sprintf(`location.pathname === %q && document.readyState === "complete" && !document.documentElement.dataset.before`, path))
}
