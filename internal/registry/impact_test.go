package registry_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
	"github.com/dryad-lang/registry/internal/testenv"
)

// impactFixture publishes corelib (alice) and its dependents:
//
//	corelib    1.0.0 1.1.0 1.2.0 1.3.0 (yanked) 2.0.0-beta.1 2.0.0-beta.2 3.0.0
//	app-caret  1.0.0 ^1.0.0; 1.1.0 yanked, 1.2.0 deleted (bob, carol)
//	app-exact  1.0.0 and 1.1.0 pinned to 1.2.0 (bob)
//	app-range  >=1.2.0 <3.0.0: prereleases of 2.0.0 are not in it (carol)
//	app-tilde  ~1.1.0 (carol)
//	app-wide   >=1.0.0 (carol)
//	app-beta   >=2.0.0-beta.1 <3.0.0 (dave)
//	devtool    1.2.0 as a dev dependency only (bob)
//	gone-app   ^1.0.0, the package deleted (bob)
func impactFixture(t *testing.T, opts ...registrytest.Option) (*registrytest.Fixture, map[string]*auth.Principal) {
	ctx := context.Background()
	f := registrytest.New(t, opts...)
	ps := map[string]*auth.Principal{}
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		ps[u] = f.SignUp(u)
	}
	alice, bob, carol := ps["alice"], ps["bob"], ps["carol"]
	for _, v := range []string{"1.0.0", "1.1.0", "1.2.0", "1.3.0", "2.0.0-beta.1", "2.0.0-beta.2", "3.0.0"} {
		f.Publish(alice, pkg("corelib", v))
	}
	mustDo(t, "yank corelib 1.3.0", func() error { _, err := f.Service.SetYanked(ctx, alice, "corelib", "1.3.0", true, ip); return err })

	f.Publish(bob, withDeps("app-caret", "1.0.0", map[string]string{"corelib": "^1.0.0"}))
	f.Publish(bob, withDeps("app-caret", "1.1.0", map[string]string{"corelib": "^1.0.0"}))
	f.Publish(bob, withDeps("app-caret", "1.2.0", map[string]string{"corelib": "^1.0.0"}))
	mustDo(t, "add carol", func() error { _, err := f.Service.AddOwners(ctx, bob, "app-caret", []string{"carol"}, ip); return err })
	mustDo(t, "yank app-caret 1.1.0", func() error {
		_, err := f.Service.SetYanked(ctx, bob, "app-caret", "1.1.0", true, ip)
		return err
	})
	mustDo(t, "delete app-caret 1.2.0", func() error { _, err := f.Service.DeleteVersion(ctx, bob, "app-caret", "1.2.0", ip); return err })
	f.Publish(bob, withDeps("app-exact", "1.0.0", map[string]string{"corelib": "1.2.0"}))
	f.Publish(bob, withDeps("app-exact", "1.1.0", map[string]string{"corelib": "1.2.0"}))
	f.Publish(carol, withDeps("app-range", "1.0.0", map[string]string{"corelib": ">=1.2.0 <3.0.0"}))
	f.Publish(carol, withDeps("app-tilde", "1.0.0", map[string]string{"corelib": "~1.1.0"}))
	f.Publish(carol, withDeps("app-wide", "1.0.0", map[string]string{"corelib": ">=1.0.0"}))
	f.Publish(ps["dave"], withDeps("app-beta", "1.0.0", map[string]string{"corelib": ">=2.0.0-beta.1 <3.0.0"}))
	f.Publish(bob, testenv.Package{Name: "devtool", Version: "1.0.0", Fields: map[string]any{"dev_dependencies": map[string]string{"corelib": "1.2.0"}}})
	f.Publish(bob, withDeps("gone-app", "1.0.0", map[string]string{"corelib": "^1.0.0"}))
	mustDo(t, "delete gone-app", func() error { _, err := f.Service.DeletePackage(ctx, bob, "gone-app", ip); return err })
	return f, ps
}

func mustDo(t *testing.T, what string, fn func() error) {
	t.Helper()
	if err := fn(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// entryString writes an impact entry as "pkg@version range: from -> to [owners]".
func entryString(e registry.ImpactEntry) string {
	to := e.To
	if e.Unresolvable() {
		to = "none"
	}
	return fmt.Sprintf("%s@%s %s: %s -> %s %v", e.Package, e.Version, e.Range, e.From, to, e.Owners)
}

func TestImpact(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testImpact(t) })
	// The dependents and owners queries are SQL of their own: the same
	// table on the other engine.
	t.Run("postgres", func(t *testing.T) { testImpact(t, registrytest.Postgres(t)) })
}

func testImpact(t *testing.T, opts ...registrytest.Option) {
	ctx := context.Background()
	f, _ := impactFixture(t, opts...)
	tests := []struct {
		name      string
		q         registry.ImpactQuery
		kind      errs.Kind
		msg       string
		versions  int
		packages  int
		entries   []string
		truncated bool
	}{
		{name: "yank a release dependents pick", q: registry.ImpactQuery{Name: "corelib", Version: "1.2.0", Action: registry.ImpactYank},
			kind: success, versions: 4, packages: 3, entries: []string{
				// ^1.0.0 falls back to an older version; 1.3.0 is yanked
				// already and not picked.
				"app-caret@1.0.0 ^1.0.0: 1.2.0 -> 1.1.0 [bob carol]",
				// Pinned exactly: nothing left, newest dependent first.
				"app-exact@1.1.0 1.2.0: 1.2.0 -> none [bob]",
				"app-exact@1.0.0 1.2.0: 1.2.0 -> none [bob]",
				// The prereleases of 2.0.0 are below 3.0.0 but the range
				// names no prerelease: they are never picked.
				"app-range@1.0.0 >=1.2.0 <3.0.0: 1.2.0 -> none [carol]",
				// Not listed: app-tilde (1.1.0 either way), app-wide
				// (3.0.0 either way), app-beta, the yanked and deleted
				// versions of app-caret, devtool (dev only) and gone-app
				// (deleted).
			}},
		{name: "delete the same release", q: registry.ImpactQuery{Name: "CORELIB", Version: "1.2.0", Action: registry.ImpactDelete},
			kind: success, versions: 4, packages: 3, entries: []string{
				"app-caret@1.0.0 ^1.0.0: 1.2.0 -> 1.1.0 [bob carol]",
				"app-exact@1.1.0 1.2.0: 1.2.0 -> none [bob]",
				"app-exact@1.0.0 1.2.0: 1.2.0 -> none [bob]",
				"app-range@1.0.0 >=1.2.0 <3.0.0: 1.2.0 -> none [carol]",
			}},
		{name: "yank a version another one replaces alike", q: registry.ImpactQuery{Name: "corelib", Version: "1.0.0", Action: registry.ImpactYank},
			kind: success, entries: []string{}},
		{name: "yank a prerelease a prerelease range picks", q: registry.ImpactQuery{Name: "corelib", Version: "2.0.0-beta.2", Action: registry.ImpactYank},
			kind: success, versions: 1, packages: 1, entries: []string{
				"app-beta@1.0.0 >=2.0.0-beta.1 <3.0.0: 2.0.0-beta.2 -> 2.0.0-beta.1 [dave]",
			}},
		{name: "yank the highest release", q: registry.ImpactQuery{Name: "corelib", Version: "3.0.0", Action: registry.ImpactYank},
			kind: success, versions: 1, packages: 1, entries: []string{
				// Not a prerelease of 3.0.0 either: the highest release
				// below it.
				"app-wide@1.0.0 >=1.0.0: 3.0.0 -> 1.2.0 [carol]",
			}},
		{name: "yank a version already yanked", q: registry.ImpactQuery{Name: "corelib", Version: "1.3.0", Action: registry.ImpactYank},
			kind: success, entries: []string{}},
		{name: "delete a yanked version", q: registry.ImpactQuery{Name: "corelib", Version: "1.3.0", Action: registry.ImpactDelete},
			kind: success, entries: []string{}},
		{name: "delete the whole package", q: registry.ImpactQuery{Name: "corelib", Action: registry.ImpactDelete},
			kind: success, versions: 7, packages: 6, entries: []string{
				"app-beta@1.0.0 >=2.0.0-beta.1 <3.0.0: 2.0.0-beta.2 -> none [dave]",
				"app-caret@1.0.0 ^1.0.0: 1.2.0 -> none [bob carol]",
				"app-exact@1.1.0 1.2.0: 1.2.0 -> none [bob]",
				"app-exact@1.0.0 1.2.0: 1.2.0 -> none [bob]",
				"app-range@1.0.0 >=1.2.0 <3.0.0: 1.2.0 -> none [carol]",
				"app-tilde@1.0.0 ~1.1.0: 1.1.0 -> none [carol]",
				"app-wide@1.0.0 >=1.0.0: 3.0.0 -> none [carol]",
			}},
		{name: "bounded", q: registry.ImpactQuery{Name: "corelib", Action: registry.ImpactDelete, Limit: 2},
			kind: success, versions: 7, packages: 6, truncated: true, entries: []string{
				"app-beta@1.0.0 >=2.0.0-beta.1 <3.0.0: 2.0.0-beta.2 -> none [dave]",
				"app-caret@1.0.0 ^1.0.0: 1.2.0 -> none [bob carol]",
			}},
		{name: "a package nobody depends on", q: registry.ImpactQuery{Name: "app-wide", Action: registry.ImpactDelete},
			kind: success, entries: []string{}},
		{name: "unknown action", q: registry.ImpactQuery{Name: "corelib", Version: "1.2.0", Action: "purge"}, kind: errs.Invalid, msg: "yank or delete"},
		{name: "yank without a version", q: registry.ImpactQuery{Name: "corelib", Action: registry.ImpactYank}, kind: errs.Invalid, msg: "needs a version"},
		{name: "limit too large", q: registry.ImpactQuery{Name: "corelib", Action: registry.ImpactDelete, Limit: 5000}, kind: errs.Invalid, msg: "limit"},
		{name: "unknown package", q: registry.ImpactQuery{Name: "ghost", Action: registry.ImpactDelete}, kind: errs.NotFound},
		{name: "deleted package", q: registry.ImpactQuery{Name: "gone-app", Action: registry.ImpactDelete}, kind: errs.Gone},
		{name: "unknown version", q: registry.ImpactQuery{Name: "corelib", Version: "9.9.9", Action: registry.ImpactYank}, kind: errs.NotFound},
		{name: "deleted version", q: registry.ImpactQuery{Name: "app-caret", Version: "1.2.0", Action: registry.ImpactYank}, kind: errs.Gone},
	}
	for _, tt := range tests {
		imp, err := f.Service.Impact(ctx, tt.q)
		if !checkErr(t, tt.name, err, tt.kind, tt.msg) || err != nil {
			continue
		}
		var got []string
		for _, e := range imp.Entries {
			got = append(got, entryString(e))
		}
		if strings.Join(got, "\n") != strings.Join(tt.entries, "\n") {
			t.Errorf("%s: entries\n%s\nwant\n%s", tt.name, strings.Join(got, "\n"), strings.Join(tt.entries, "\n"))
		}
		if imp.Versions != tt.versions || imp.Packages != tt.packages || imp.Truncated() != tt.truncated {
			t.Errorf("%s: %d versions of %d packages (truncated %v), want %d of %d (%v)",
				tt.name, imp.Versions, imp.Packages, imp.Truncated(), tt.versions, tt.packages, tt.truncated)
		}
		if imp.Package != "corelib" && tt.q.Name == "corelib" || imp.Action != tt.q.Action || imp.Version != tt.q.Version {
			t.Errorf("%s: impact of %s %s@%s", tt.name, imp.Action, imp.Package, imp.Version)
		}
	}
}

// recorder is a Notifier that keeps what it is told.
type recorder struct {
	mu      sync.Mutex
	notices []registry.Notice
}

func (r *recorder) Notify(_ context.Context, n registry.Notice) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notices = append(r.notices, n)
}

func (r *recorder) take() []registry.Notice {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.notices
	r.notices = nil
	return out
}

func TestImpactNotice(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	f, ps := impactFixture(t, registrytest.Notifier(rec))
	alice := ps["alice"]
	rec.take() // the fixture's own yanks and deletes moved nothing of others

	// A disabled owner is not written to.
	root := f.Admin("root")
	disabled := true
	if _, err := f.Service.UpdateUser(ctx, root, "carol", registry.UserChange{Disabled: &disabled}, ip); err != nil {
		t.Fatal(err)
	}

	if _, err := f.Service.SetYanked(ctx, alice, "corelib", "1.2.0", true, ip); err != nil {
		t.Fatal(err)
	}
	ns := rec.take()
	if len(ns) != 1 {
		t.Fatalf("%d notices after the yank, want 1", len(ns))
	}
	n := ns[0]
	if n.Event != registry.EventDependentsAffected || n.Action != registry.ImpactYank || n.Package != "corelib" || n.Version != "1.2.0" ||
		n.Actor != "alice" || !n.At.Equal(f.Clock.Now()) {
		t.Errorf("notice %+v", n)
	}
	var got []string
	for _, a := range n.Affected {
		got = append(got, fmt.Sprintf("%s to %s:", a.Name, joined(a.Owners, func(r registry.Recipient) string { return r.Username + "<" + r.Email + ">" })))
		for _, e := range a.Versions {
			got = append(got, "  "+entryString(e))
		}
	}
	want := []string{
		"app-caret to bob<bob@example.org>:",
		"  app-caret@1.0.0 ^1.0.0: 1.2.0 -> 1.1.0 [bob carol]",
		"app-exact to bob<bob@example.org>:",
		"  app-exact@1.1.0 1.2.0: 1.2.0 -> none [bob]",
		"  app-exact@1.0.0 1.2.0: 1.2.0 -> none [bob]",
		"app-range to :",
		"  app-range@1.0.0 >=1.2.0 <3.0.0: 1.2.0 -> none [carol]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("notice lists\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Yanking again, unyanking, and a change nobody depends on tell no one.
	for _, step := range []func() error{
		func() error { _, err := f.Service.SetYanked(ctx, alice, "corelib", "1.2.0", true, ip); return err },
		func() error { _, err := f.Service.SetYanked(ctx, alice, "corelib", "1.2.0", false, ip); return err },
		func() error { _, err := f.Service.SetYanked(ctx, alice, "corelib", "1.0.0", true, ip); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	if ns := rec.take(); len(ns) != 0 {
		t.Errorf("notices after changes that move nothing: %+v", ns)
	}

	// A refused change tells no one either: bob may not delete core.
	if _, err := f.Service.DeleteVersion(ctx, ps["bob"], "corelib", "3.0.0", ip); errs.KindOf(err) != errs.Forbidden {
		t.Fatalf("bob deleting core: %v", err)
	}
	if ns := rec.take(); len(ns) != 0 {
		t.Errorf("notices after a refused delete: %+v", ns)
	}

	// An admin's delete of a version, then of the whole package.
	if _, err := f.Service.DeleteVersion(ctx, root, "corelib", "3.0.0", ip); err != nil {
		t.Fatal(err)
	}
	ns = rec.take()
	if len(ns) != 1 || ns[0].Action != registry.ImpactDelete || ns[0].Version != "3.0.0" || ns[0].Actor != "root" ||
		len(ns[0].Affected) != 1 || ns[0].Affected[0].Name != "app-wide" || ns[0].Affected[0].Versions[0].To != "1.2.0" {
		t.Errorf("notices after deleting 3.0.0: %+v", ns)
	}
	if _, err := f.Service.DeletePackage(ctx, root, "corelib", ip); err != nil {
		t.Fatal(err)
	}
	ns = rec.take()
	if len(ns) != 1 || ns[0].Version != "" || len(ns[0].Affected) != 6 {
		t.Fatalf("notices after deleting core: %+v", ns)
	}
	for _, a := range ns[0].Affected {
		for _, e := range a.Versions {
			if !e.Unresolvable() {
				t.Errorf("after deleting core, %s still resolves", entryString(e))
			}
		}
	}
}
