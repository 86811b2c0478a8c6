package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserWebhooks drives the webhooks section of the management page
// in Chromium: a hook is created and its secret shown once, a publish's
// delivery appears in the log, and a failed delivery is sent again with
// its Redeliver button.
func TestBrowserWebhooks(t *testing.T) {
	r := startRegistry(t, regOptions{Env: map[string]string{
		"WEBHOOK_ALLOW_PRIVATE": "true", "WEBHOOK_RETRY_BASE": "50ms", "WEBHOOK_MAX_ATTEMPTS": "1",
	}})
	recv := newHookReceiver(t)
	wren := r.signUp("wren")
	r.signUp("robin")
	r.expect(201, "POST", "/api/upload", wren, pkg{name: "birch", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")

	b := startBrowser(t, r.URL)
	b.open("/login")
	b.do("sign in",
		chromedp.SendKeys(chromedp.ID("login"), "wren"),
		chromedp.SendKeys(chromedp.ID("password"), "correct-horse-wren\n"),
	)
	b.waitPath("/dashboard")

	const manage = "/dashboard/packages/birch"
	b.open(manage)
	b.expectText("#webhooks", "No deliveries yet")
	b.checkLabels()
	b.do("add a webhook for publishes",
		chromedp.SendKeys(chromedp.ID("webhook-url"), recv.srv.URL+"/published"),
		chromedp.Click(chromedp.CSS(`#webhook-form input[name=events][value="version.published"]`)),
		chromedp.Click(chromedp.CSS(`#webhook-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("new-webhook-secret")),
	)
	secret := value(b, "read the secret", chromedp.Value(chromedp.ID("new-webhook-secret")))
	if len(secret) < 16 {
		t.Fatalf("the new webhook's secret is %q", secret)
	}
	recv.mu.Lock()
	recv.secrets["/published"] = secret
	recv.mu.Unlock()
	b.expectText("#webhook-list", recv.srv.URL+"/published")
	b.expectText("#webhook-list", "version.published")

	// Shown once: the page seen again has the hook, not its secret.
	b.open(manage)
	if b.eval("look for the secret", fmt.Sprintf(`document.documentElement.outerHTML.includes(%q) || !!document.getElementById('new-webhook-secret')`, secret)) {
		t.Error("the management page shows the webhook's secret again")
	}

	// A publish is delivered, signed with that secret, and logged.
	r.expect(201, "POST", "/api/upload", wren, pkg{name: "birch", version: "1.1.0"}.archive(t), "Content-Type", "application/gzip")
	b.reloadUntil(manage, "the delivery in the log", `(() => {
		const row = document.querySelector('#webhook-deliveries tr[data-state="delivered"]');
		return !!row && row.textContent.includes('version.published') && row.textContent.includes('HTTP 204');
	})()`)
	if got := recv.events("/published"); len(got) != 1 || got[0] != "version.published birch@1.1.0" {
		t.Errorf("the receiver got %v", got)
	}

	// A receiver that is down: the one attempt fails, the log says so, and
	// Redeliver sends it again once the receiver is back.
	recv.mu.Lock()
	recv.down["/owners"] = true
	recv.mu.Unlock()
	b.do("add a webhook for owner changes",
		chromedp.SendKeys(chromedp.ID("webhook-url"), recv.srv.URL+"/owners"),
		chromedp.Click(chromedp.CSS(`#webhook-form input[name=events][value="owner.added"]`)),
		chromedp.Click(chromedp.CSS(`#webhook-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("new-webhook-secret")),
	)
	recv.mu.Lock()
	recv.secrets["/owners"] = value(b, "read the second secret", chromedp.Value(chromedp.ID("new-webhook-secret")))
	recv.mu.Unlock()
	r.expect(200, "PUT", "/api/packages/birch/owners", wren, map[string]any{"users": []string{"robin"}})
	b.reloadUntil(manage, "the failed delivery in the log", `(() => {
		const row = document.querySelector('#webhook-deliveries tr[data-state="failed"]');
		return !!row && row.textContent.includes('owner.added') && row.textContent.includes('HTTP 503') && !!row.querySelector('form[action$="/webhooks/redeliver"] button');
	})()`)
	recv.mu.Lock()
	recv.down["/owners"] = false
	recv.mu.Unlock()
	b.do("redeliver", chromedp.Click(chromedp.CSS(`#webhook-deliveries tr[data-state="failed"] form[action$="/webhooks/redeliver"] button`)))
	b.waitFor("the redelivery's confirmation", alertSays("sent again"))
	b.reloadUntil(manage, "the redelivery in the log", `(() => {
		const rows = [...document.querySelectorAll('#webhook-deliveries tr')].filter(r => r.textContent.includes('owner.added'));
		return rows.length === 1 && rows[0].dataset.state === 'delivered' && rows[0].querySelectorAll('.attempts li').length === 2;
	})()`)
	if got := recv.events("/owners"); len(got) != 1 || got[0] != "owner.added birch" {
		t.Errorf("the owners receiver got %v", got)
	}
	if *writeScreenshots {
		b.do("scroll to the webhooks", chromedp.ScrollIntoView(chromedp.CSS(`#webhook-list`)))
		b.screenshots("webhooks", 900)
	}

	// Deleting the hook takes it off the page.
	b.do("delete the owners hook", chromedp.Click(chromedp.CSS(`#webhook-list tbody tr:last-child form[action$="/webhooks/delete"] button`)))
	b.waitFor("the deletion's confirmation", alertSays("deleted"))
	if strings.Contains(b.text("#webhook-list"), "/owners") {
		t.Error("the deleted webhook is still listed")
	}

	// Pause and resume the remaining hook.
	b.do("pause the hook", chromedp.Click(chromedp.CSS(`#webhook-list tbody tr:first-child form[action$="/webhooks/active"] button`)))
	b.waitFor("the pause's confirmation", alertSays("paused"))
	b.expectText("#webhook-list tbody tr:first-child", "inactive")
	b.do("resume the hook", chromedp.Click(chromedp.CSS(`#webhook-list tbody tr:first-child form[action$="/webhooks/active"] button`)))
	b.waitFor("the resumption's confirmation", alertSays("active again"))
	b.expectText("#webhook-list tbody tr:first-child", "Pause")

	// An admin adds a registry-wide webhook on /admin; it hears about
	// every package.
	r.signUp("rook")
	ensureAdmin(t, r, "rook")
	b.do("sign out", chromedp.Click(chromedp.CSS(".site-nav .link-button")))
	b.waitPath("/")
	b.open("/login")
	b.do("sign in as the admin",
		chromedp.SendKeys(chromedp.ID("login"), "rook"),
		chromedp.SendKeys(chromedp.ID("password"), "correct-horse-rook\n"),
	)
	b.waitPath("/dashboard")
	b.open("/admin")
	b.checkLabels()
	b.do("add a registry-wide webhook",
		chromedp.SendKeys(chromedp.ID("webhook-url"), recv.srv.URL+"/everything"),
		chromedp.Click(chromedp.CSS(`#webhook-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("new-webhook-secret")),
	)
	recv.mu.Lock()
	recv.secrets["/everything"] = value(b, "read the registry-wide secret", chromedp.Value(chromedp.ID("new-webhook-secret")))
	recv.mu.Unlock()
	robin := r.login("robin")
	r.expect(201, "POST", "/api/upload", robin, pkg{name: "hazel", version: "0.1.0"}.archive(t), "Content-Type", "application/gzip")
	b.reloadUntil("/admin", "the registry-wide delivery", `(() => {
		const row = document.querySelector('#webhook-deliveries tr[data-state="delivered"]');
		return !!row && row.textContent.includes('version.published') && row.textContent.includes('hazel');
	})()`)
}

// alertSays is a condition: the page's success message contains text.
func alertSays(text string) string {
	return fmt.Sprintf(`document.readyState === "complete" && [...document.querySelectorAll('.alert.success')].some(a => a.textContent.includes(%q))`, text)
}

// reloadUntil opens path again and again until the JavaScript condition
// holds on it: for what background work (a delivery) changes.
func (b *tab) reloadUntil(path, what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		b.open(path)
		if b.eval(what, cond) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the page %s never showed %s", path, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
