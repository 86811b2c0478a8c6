package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
)

// allowPrivate lets hooks point at loopback and documentation addresses,
// which is all a test has.
func allowPrivate(o *registry.Options) { o.WebhookAllowPrivate = true }

func TestWebhookManagement(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t, allowPrivate)
	alice := f.SignUp("alice")
	bob := f.SignUp("bob")
	root := f.Admin("root")
	f.Publish(alice, pkg("hooked", "1.0.0"))
	yankOnly, _ := f.Token(alice, registry.TokenRequest{Name: "yank", Scopes: []string{"yank"}})
	in := registry.WebhookInput{URL: "https://ci.example.org/hook"}

	steps := []struct {
		name string
		p    *auth.Principal
		pkg  string
		in   registry.WebhookInput
		kind errs.Kind
		msg  string
	}{
		{"anonymous", nil, "hooked", in, errs.Unauthenticated, ""},
		{"not an owner", bob, "hooked", in, errs.Forbidden, "not an owner"},
		{"token without the owners scope", yankOnly, "hooked", in, errs.Forbidden, "owners"},
		{"unknown package", alice, "ghost", in, errs.NotFound, ""},
		{"registry-wide by a user", alice, "", in, errs.Forbidden, "admin"},
		{"not http", alice, "hooked", registry.WebhookInput{URL: "ftp://ci.example.org/"}, errs.Invalid, "http"},
		{"relative", alice, "hooked", registry.WebhookInput{URL: "/hook"}, errs.Invalid, "absolute"},
		{"credentials in the URL", alice, "hooked", registry.WebhookInput{URL: "https://u:p@ci.example.org/"}, errs.Invalid, "password"},
		{"short secret", alice, "hooked", registry.WebhookInput{URL: in.URL, Secret: "short"}, errs.Invalid, "16 to 200"},
		{"unknown event", alice, "hooked", registry.WebhookInput{URL: in.URL, Events: []string{"version.published", "push"}}, errs.Invalid, `"push"`},
		{"owner", alice, "hooked", in, success, ""},
		{"admin", root, "HOOKED", registry.WebhookInput{URL: in.URL, Secret: "a secret of my own choice"}, success, ""},
		{"registry-wide by an admin", root, "", in, success, ""},
	}
	for _, s := range steps {
		h, err := f.Service.CreateWebhook(ctx, s.p, s.pkg, s.in, ip)
		if !checkErr(t, s.name, err, s.kind, s.msg) || err != nil {
			continue
		}
		if h.Secret == "" || len(h.Secret) < 16 || (s.in.Secret != "" && h.Secret != s.in.Secret) {
			t.Errorf("%s: secret %q", s.name, h.Secret)
		}
	}

	list, err := f.Service.Webhooks(ctx, alice, "HOOKED")
	if err != nil || list.Package != "hooked" {
		t.Fatalf("Webhooks = %+v, %v", list, err)
	}
	hs := list.Hooks
	if len(hs) != 2 || hs[0].Package != "hooked" || hs[0].Secret != "" || !hs[0].Active || len(hs[0].Events) != 0 {
		t.Fatalf("Webhooks = %+v, %v; want two, without secrets", hs, err)
	}
	_, err = f.Service.Webhooks(ctx, bob, "hooked")
	checkErr(t, "bob lists", err, errs.Forbidden, "")
	if g, err := f.Service.Webhooks(ctx, root, ""); err != nil || g.Package != "" || len(g.Hooks) != 1 || g.Hooks[0].Package != "" {
		t.Errorf("registry-wide hooks = %+v, %v", g, err)
	}

	// At most MaxWebhooks per package.
	for i := len(hs); i < registry.MaxWebhooks; i++ {
		if _, err := f.Service.CreateWebhook(ctx, alice, "hooked", registry.WebhookInput{URL: fmt.Sprintf("https://ci.example.org/%d", i)}, ip); err != nil {
			t.Fatal(err)
		}
	}
	_, err = f.Service.CreateWebhook(ctx, alice, "hooked", in, ip)
	checkErr(t, "one hook too many", err, errs.Conflict, "delete one first")

	// Switching off and on: owners of the package.
	_, err = f.Service.SetWebhookActive(ctx, bob, "hooked", hs[0].ID, false, ip)
	checkErr(t, "bob switches off", err, errs.Forbidden, "")
	if h, err := f.Service.SetWebhookActive(ctx, alice, "hooked", hs[0].ID, false, ip); err != nil || h.Active || h.Secret != "" {
		t.Errorf("switch off = %+v, %v", h, err)
	}

	// Deleting: owners of the package, and only its own hooks.
	checkErr(t, "bob deletes", f.Service.DeleteWebhook(ctx, bob, "hooked", hs[0].ID, ip), errs.Forbidden, "")
	f.Publish(bob, pkg("other", "1.0.0"))
	checkErr(t, "deleting another package's hook", f.Service.DeleteWebhook(ctx, bob, "other", hs[0].ID, ip), errs.NotFound, "no webhook")
	checkErr(t, "owner deletes", f.Service.DeleteWebhook(ctx, alice, "hooked", hs[0].ID, ip), success, "")
	checkErr(t, "deleted twice", f.Service.DeleteWebhook(ctx, alice, "hooked", hs[0].ID, ip), errs.NotFound, "")
}

func TestWebhookPrivateAddresses(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	f.Publish(alice, pkg("guarded", "1.0.0"))
	for _, u := range []string{"http://127.0.0.1:8080/", "http://10.1.2.3/", "http://[::1]/", "http://169.254.169.254/latest", "http://localhost/", "http://100.64.0.1/"} {
		_, err := f.Service.CreateWebhook(ctx, alice, "guarded", registry.WebhookInput{URL: u}, ip)
		checkErr(t, u, err, errs.Unprocessable, "WEBHOOK_ALLOW_PRIVATE")
	}
	if _, err := f.Service.CreateWebhook(ctx, alice, "guarded", registry.WebhookInput{URL: "https://203.0.113.7/hook"}, ip); err != nil {
		t.Errorf("a public address: %v", err)
	}
}

// deliveryEvents lists the events of the deliveries to a scope's hooks,
// oldest first, as "event@version" or "event:owner".
func deliveryEvents(t *testing.T, f *registrytest.Fixture, p *auth.Principal, scope string) string {
	t.Helper()
	list, err := f.Service.WebhookDeliveries(context.Background(), p, scope, 100)
	if err != nil {
		t.Fatal(err)
	}
	ds := list.Deliveries
	var out []string
	for i := len(ds) - 1; i >= 0; i-- {
		out = append(out, ds[i].Event+" "+ds[i].Package)
	}
	return strings.Join(out, ", ")
}

func TestWebhookEventsQueued(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t, allowPrivate)
	alice := f.SignUp("alice")
	f.SignUp("bob")
	root := f.Admin("root")
	f.Publish(alice, pkg("watched", "1.0.0"))
	all, err := f.Service.CreateWebhook(ctx, alice, "watched", registry.WebhookInput{URL: "http://127.0.0.1:1/all"}, ip)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.CreateWebhook(ctx, alice, "watched", registry.WebhookInput{URL: "http://127.0.0.1:1/off", Inactive: true}, ip); err != nil {
		t.Fatal(err)
	}
	paused, err := f.Service.CreateWebhook(ctx, alice, "watched", registry.WebhookInput{URL: "http://127.0.0.1:1/paused"}, ip)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.SetWebhookActive(ctx, alice, "watched", paused.ID, false, ip); err != nil {
		t.Fatal(err)
	}
	yanks, err := f.Service.CreateWebhook(ctx, alice, "watched", registry.WebhookInput{URL: "http://127.0.0.1:1/yanks", Events: []string{registry.EventVersionYanked}}, ip)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.CreateWebhook(ctx, root, "", registry.WebhookInput{URL: "http://127.0.0.1:1/global"}, ip); err != nil {
		t.Fatal(err)
	}

	f.Publish(alice, pkg("watched", "1.1.0"))
	f.Publish(alice, pkg("elsewhere", "1.0.0"))
	if _, err := f.Service.SetYanked(ctx, alice, "watched", "1.1.0", true, ip); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.SetYanked(ctx, alice, "watched", "1.1.0", false, ip); err != nil {
		t.Fatal(err)
	}
	// A refused change queues nothing.
	if _, err := f.Service.SetYanked(ctx, f.Login("bob"), "watched", "1.1.0", true, ip); err == nil {
		t.Fatal("bob yanked alice's version")
	}
	if _, err := f.Service.AddOwners(ctx, alice, "watched", []string{"bob"}, ip); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.RemoveOwners(ctx, alice, "watched", []string{"bob"}, ip); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.DeleteVersion(ctx, alice, "watched", "1.1.0", ip); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.DeletePackage(ctx, alice, "elsewhere", ip); err != nil {
		t.Fatal(err)
	}
	if err := f.Service.NotifyWebhooks(ctx, registry.WebhookEvent{Name: registry.EventDependentsAffected, Package: "WATCHED",
		Data: map[string]any{"dependency": "core", "version": "2.0.0"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.Service.NotifyWebhooks(ctx, registry.WebhookEvent{Name: "no.such.event", Package: "watched"}); err == nil {
		t.Error("NotifyWebhooks queued an unknown event")
	}

	pkgWant := "version.published watched, version.yanked watched, version.yanked watched, version.unyanked watched, " +
		"owner.added watched, owner.removed watched, version.deleted watched, dependents.affected watched"
	if got := deliveryEvents(t, f, alice, "watched"); got != pkgWant {
		t.Errorf("the package's deliveries:\n got %s\nwant %s", got, pkgWant)
	}
	globalWant := "version.published watched, version.published elsewhere, version.yanked watched, version.unyanked watched, " +
		"owner.added watched, owner.removed watched, version.deleted watched, package.deleted elsewhere, dependents.affected watched"
	if got := deliveryEvents(t, f, root, ""); got != globalWant {
		t.Errorf("the registry-wide deliveries:\n got %s\nwant %s", got, globalWant)
	}

	// The queue gives the worker what it sends: the payload, signed with
	// the hook's secret.
	claimed, err := f.Service.WebhookQueue().Claim(ctx, f.Clock.Now().Add(time.Minute), time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(claimed) != 8+9 {
		t.Fatalf("claimed %d deliveries, want 17", len(claimed))
	}
	first := claimed[0]
	if first.URL != all.URL || first.Secret != all.Secret || first.Event != registry.EventVersionPublished || first.Attempts != 0 {
		t.Errorf("first delivery = %+v", first)
	}
	var body map[string]any
	if err := json.Unmarshal(first.Payload, &body); err != nil {
		t.Fatal(err)
	}
	if body["id"] != first.GUID || body["event"] != "version.published" || body["package"] != "watched" || body["version"] != "1.1.0" ||
		body["actor"] != "alice" || body["registry"] != "https://localhost" || body["hook"] != "package" ||
		body["time"] != registrytest.Start.Format(time.RFC3339Nano) {
		t.Errorf("payload = %s", first.Payload)
	}
	if data, _ := body["data"].(map[string]any); data == nil || len(data["checksum"].(string)) != 64 {
		t.Errorf("payload data = %v", body["data"])
	}
	for _, d := range claimed {
		if d.URL == yanks.URL && d.Event != registry.EventVersionYanked {
			t.Errorf("the yank hook got %s", d.Event)
		}
	}

	// A failed delivery can be sent again, by the package's owners.
	next := f.Clock.Now().Add(time.Hour)
	if err := f.Service.WebhookQueue().Record(ctx, first, f.Clock.Now(), 500, "500 Internal Server Error", time.Millisecond, false, &next); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "redeliver a pending delivery", f.Service.Redeliver(ctx, alice, "watched", first.ID, ip), errs.Conflict, "only a failed")
	first.Attempts = 1
	if err := f.Service.WebhookQueue().Record(ctx, first, f.Clock.Now(), 0, "connection refused", time.Millisecond, false, nil); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "redeliver from another package", f.Service.Redeliver(ctx, root, "elsewhere", first.ID, ip), errs.Gone, "")
	checkErr(t, "redeliver as the registry", f.Service.Redeliver(ctx, root, "", first.ID, ip), errs.NotFound, "")
	checkErr(t, "redeliver", f.Service.Redeliver(ctx, alice, "watched", first.ID, ip), success, "")
	list, err := f.Service.WebhookDeliveries(ctx, alice, "watched", 100)
	if err != nil {
		t.Fatal(err)
	}
	d := list.Deliveries[len(list.Deliveries)-1]
	// Finished deliveries leave the log after WebhookLogRetention; this one
	// is pending again, so it stays.
	f.Clock.Advance(registry.WebhookLogRetention + time.Hour)
	if n, err := f.Service.PruneWebhookDeliveries(ctx); err != nil || n != 0 {
		t.Errorf("PruneWebhookDeliveries = %d, %v; want none removed", n, err)
	}
	if d.ID != first.ID || d.State != "pending" || len(d.Attempts) != 2 || d.Attempts[0].Status != 500 ||
		d.Attempts[0].NextAttemptAt == nil || d.Attempts[1].Error != "connection refused" || d.NextAttemptAt == nil {
		t.Errorf("delivery log after redeliver = %+v", d)
	}
}

// A yank that moves a dependent's resolution queues dependents.affected
// for the dependent's hooks, in the yank's own transaction, naming the
// dependency and each of the dependent's versions that moved.
func TestWebhookDependentsAffected(t *testing.T) {
	ctx := context.Background()
	f, ps := impactFixture(t)
	bob := ps["bob"]
	if _, err := f.Service.CreateWebhook(ctx, bob, "app-exact", registry.WebhookInput{URL: "https://203.0.113.7/hook"}, ip); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.CreateWebhook(ctx, bob, "devtool", registry.WebhookInput{URL: "https://203.0.113.7/dev"}, ip); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.SetYanked(ctx, ps["alice"], "corelib", "1.2.0", true, ip); err != nil {
		t.Fatal(err)
	}
	if got := deliveryEvents(t, f, bob, "app-exact"); got != "dependents.affected app-exact" {
		t.Fatalf("app-exact's deliveries: %q", got)
	}
	if got := deliveryEvents(t, f, bob, "devtool"); got != "" {
		t.Errorf("a dev dependency's hooks got %q", got)
	}
	claimed, err := f.Service.WebhookQueue().Claim(ctx, f.Clock.Now().Add(time.Minute), time.Minute, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claimed %d deliveries (%v), want 1", len(claimed), err)
	}
	var body struct {
		Event, Package, Actor string
		Data                  struct {
			Dependency        string `json:"dependency"`
			DependencyVersion string `json:"dependency_version"`
			Action            string `json:"action"`
			Versions          []struct {
				Version, Range, From string
				To                   *string
			} `json:"versions"`
		}
	}
	if err := json.Unmarshal(claimed[0].Payload, &body); err != nil {
		t.Fatal(err)
	}
	d := body.Data
	if body.Event != "dependents.affected" || body.Package != "app-exact" || body.Actor != "alice" ||
		d.Dependency != "corelib" || d.DependencyVersion != "1.2.0" || d.Action != "yank" || len(d.Versions) != 2 {
		t.Fatalf("payload = %s", claimed[0].Payload)
	}
	for _, v := range d.Versions {
		if v.Range != "1.2.0" || v.From != "1.2.0" || v.To != nil {
			t.Errorf("moved version %+v, want 1.2.0 -> none", v)
		}
	}
}
