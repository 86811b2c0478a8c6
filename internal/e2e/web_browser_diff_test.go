package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestWebBrowserDiff checks in Chromium what the README renderer and the
// diff page give a visitor: coloured code in both themes, README links and
// images that reach the package's files, and the diff of two versions
// reached from the versions list and from the selector.
func TestWebBrowserDiff(t *testing.T) {
	r := startRegistry(t, regOptions{})
	diffFixture(t, r)
	b := startBrowser(t, r.URL)

	b.open("/packages/bough/1.2.0")
	// A keyword of the Dryad block has its class, and the class gives it
	// a colour of its own, in the light theme and the dark one.
	colored := `(() => {
		const k = [...document.querySelectorAll('.markdown pre code.language-dryad .hl-k')].find(e => e.textContent === 'import');
		const s = document.querySelector('.markdown pre code.language-dryad .hl-s');
		if (!k || !s) return false;
		const code = getComputedStyle(k.closest('code')).color;
		return getComputedStyle(k).color !== code && getComputedStyle(s).color !== code && getComputedStyle(k).color !== getComputedStyle(s).color;
	})()`
	if !b.eval("keyword colour (light)", colored) {
		t.Error("the Dryad keyword is not coloured in the light theme")
	}
	b.darkMode(true)
	if !b.eval("keyword colour (dark)", colored) {
		t.Error("the Dryad keyword is not coloured in the dark theme")
	}
	b.darkMode(false)
	// The README's image is the package's own file, and it loads.
	value(b, "wait for the logo", chromedp.Poll[bool](`(i => !!i && i.complete && i.naturalWidth === 1)(document.querySelector('.markdown img[alt=logo]'))`,
		chromedp.WithPollingTimeout(stepTimeout)))
	// A relative link leads to the file's page at this version.
	b.do("follow the README's link", chromedp.Click(chromedp.CSS(`.markdown a[href="/packages/bough/1.2.0/files/docs/usage.md"]`)))
	b.waitPath("/packages/bough/1.2.0/files/docs/usage.md")
	b.expectText(".file-name", "docs/usage.md")

	// "diff with previous" in the versions list of the newer version.
	b.open("/packages/bough/1.3.0")
	b.do("open the diff with the previous version", chromedp.Click(chromedp.CSS(`#pkg_versions a.diff-previous`)))
	b.waitPath("/packages/bough/1.2.0/diff/1.3.0")
	b.expectText("#diff_files", "src/new.dryad")
	b.expectText("#diff_files", "added")
	b.expectText("#diff_dependencies", "sap")
	b.expectText("#diff_dependencies", "^1.0.0 → ^2.0.0")
	b.expectText("#diff_dependencies", "resin")
	if !b.eval("find the added line", `[...document.querySelectorAll('table.diff tr.add td.lc')].some(td => td.textContent === '  return n + 2')`) {
		t.Error("the line diff does not show the added line")
	}
	b.checkLabels()
	b.screenshots("diff", 1400)

	// The selector compares any two versions (here the other way round).
	b.do("pick versions", chromedp.SetValue(chromedp.ID("diff-from"), "1.3.0"), chromedp.SetValue(chromedp.ID("diff-to"), "1.2.0"),
		chromedp.Click(chromedp.CSS(`#diff-form button[type=submit]`)))
	b.waitPath("/packages/bough/1.3.0/diff/1.2.0")
	b.expectText("#diff_dependencies", "^2.0.0 → ^1.0.0")
	b.expectText("#diff_files", "src/old.dryad")

	b.checkNarrow("/packages/bough/1.2.0/diff/1.3.0", "/packages/bough/1.2.0")
}
