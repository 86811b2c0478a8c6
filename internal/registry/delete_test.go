package registry_test

import (
	"context"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/manifest"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
	"github.com/dryad-lang/registry/internal/store"
	"github.com/dryad-lang/registry/internal/testenv"
)

func TestDeleteVersion(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	bob := f.SignUp("bob")
	root := f.Admin("root")
	f.Publish(alice, pkg("old", "1.0.0"))
	f.Clock.Advance(time.Second)
	f.Publish(alice, pkg("edge", "1.0.0"))
	f.Clock.Advance(registry.DeleteWindow) // old is older than the window; edge exactly its age
	f.Publish(alice, pkg("old", "1.1.0"))
	f.Publish(alice, pkg("core-lib", "1.0.0"))
	f.Publish(alice, pkg("core-lib", "1.1.0"))
	f.Publish(bob, withDeps("user-app", "1.0.0", map[string]string{"core-lib": "~1.1.0"}))
	f.Publish(alice, pkg("core2", "1.1.0"))
	f.Publish(alice, pkg("core2", "1.1.1"))
	if _, err := f.Service.SetYanked(ctx, alice, "core2", "1.1.1", true, ip); err != nil {
		t.Fatal(err)
	}
	f.Publish(bob, withDeps("app2", "1.0.0", map[string]string{"core2": "~1.1.0"}))
	f.Publish(alice, pkg("solo", "1.0.0"))
	f.Publish(bob, testenv.Package{Name: "devtool", Version: "1.0.0", Fields: map[string]any{"dev_dependencies": map[string]string{"solo": "^1.0.0"}}})

	// Read (and cache) an archive reference before its version is deleted.
	if _, err := f.Service.LookupArchive(ctx, "core-lib", "1.1.0"); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name, pkg, version string
		p                  *auth.Principal
		kind               errs.Kind
		msg                string
		before             func()
	}{
		{name: "anonymous", pkg: "core-lib", version: "1.0.0", p: nil, kind: errs.Unauthenticated},
		{name: "not an owner", pkg: "core-lib", version: "1.0.0", p: bob, kind: errs.Forbidden, msg: "owner"},
		{name: "unknown package", pkg: "ghost", version: "1.0.0", p: alice, kind: errs.NotFound},
		{name: "unknown version", pkg: "core-lib", version: "3.0.0", p: alice, kind: errs.NotFound},
		{name: "older than the window", pkg: "old", version: "1.0.0", p: alice, kind: errs.Conflict, msg: "72 hours"},
		{name: "exactly the window's age", pkg: "edge", version: "1.0.0", p: alice, kind: success},
		{name: "the only version a dependent accepts", pkg: "core-lib", version: "1.1.0", p: alice, kind: errs.Conflict, msg: "user-app@1.0.0"},
		{name: "the other version only yanked", pkg: "core2", version: "1.1.0", p: alice, kind: errs.Conflict, msg: "app2"},
		{name: "a version no dependent accepts", pkg: "CORE_LIB", version: "1.0.0", p: alice, kind: success},
		{name: "again", pkg: "core-lib", version: "1.0.0", p: alice, kind: errs.Gone, msg: "deleted"},
		{name: "only dev dependents", pkg: "solo", version: "1.0.0", p: alice, kind: success},
		{name: "another version satisfies the dependent", pkg: "core-lib", version: "1.1.0", p: alice, kind: success,
			before: func() { f.Publish(alice, pkg("core-lib", "1.1.1")) }},
		{name: "an admin, past the window", pkg: "old", version: "1.0.0", p: root, kind: success},
		{name: "an admin, despite dependents", pkg: "core-lib", version: "1.1.1", p: root, kind: success},
	}
	for _, tt := range steps {
		if tt.before != nil {
			tt.before()
		}
		v, err := f.Service.DeleteVersion(ctx, tt.p, tt.pkg, tt.version, ip)
		if checkErr(t, tt.name, err, tt.kind, tt.msg) && err == nil && (v.Version != tt.version || manifest.NormalizeName(v.Package) != manifest.NormalizeName(tt.pkg)) {
			t.Errorf("%s: answered %s@%s", tt.name, v.Package, v.Version)
		}
	}

	// A deleted version is gone everywhere, and the latest moves.
	_, err := f.Service.Version(ctx, "core-lib", "1.0.0")
	checkErr(t, "version after delete", err, errs.Gone, "deleted")
	_, err = f.Service.LookupArchive(ctx, "core-lib", "1.1.0")
	checkErr(t, "archive after delete", err, errs.Gone, "")
	p, err := f.Service.Package(ctx, "core-lib")
	if err != nil || len(p.Versions) != 0 || p.Latest != "" {
		t.Fatalf("core-lib after deleting every version: %+v, %v", p, err)
	}
	_, err = p.Find("1.0.0")
	checkErr(t, "Find a deleted version", err, errs.Gone, "")
	checkErr(t, "no default when every version is deleted", p.NoDefault(), errs.Gone, "deleted")
	if old, _ := f.Service.Package(ctx, "old"); old.Latest != "1.1.0" || len(old.Versions) != 1 {
		t.Errorf("old after deleting 1.0.0: latest %s, %d versions", old.Latest, len(old.Versions))
	}
	ev, _ := f.Service.Audit(ctx, root, registry.AuditQuery{Action: "delete", Actor: "root"})
	if ev.Total != 2 || ev.Events[0].Detail != "by an admin" || ev.Events[0].Target != "core-lib@1.1.1" {
		t.Errorf("admin delete events: %+v", ev)
	}
	if ev, _ := f.Service.Audit(ctx, root, registry.AuditQuery{Action: "delete", Outcome: store.OutcomeDenied}); ev.Total != 1 || ev.Events[0].Actor != "bob" {
		t.Errorf("denied delete events: %+v", ev)
	}
}

func TestDeletePackage(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	bob := f.SignUp("bob")
	root := f.Admin("root")
	f.Publish(alice, pkg("old", "1.0.0"))
	f.Publish(alice, pkg("mixed", "1.0.0"))
	f.Clock.Advance(registry.DeleteWindow + time.Hour)
	f.Publish(alice, pkg("mixed", "2.0.0"))
	if _, err := f.Service.DeleteVersion(ctx, root, "mixed", "1.0.0", ip); err != nil {
		t.Fatal(err)
	}
	f.Publish(alice, pkg("corelib", "1.0.0"))
	f.Publish(alice, pkg("corelib", "1.1.0"))
	f.Publish(bob, withDeps("user-app", "1.0.0", map[string]string{"corelib": "^1.0.0"}))
	f.Publish(alice, pkg("my_pkg", "1.0.0"))
	f.Publish(alice, pkg("my_pkg", "1.1.0"))

	steps := []struct {
		name, pkg string
		p         *auth.Principal
		kind      errs.Kind
		msg       string
		canonical string
	}{
		{"anonymous", "my_pkg", nil, errs.Unauthenticated, "", ""},
		{"not an owner", "my_pkg", bob, errs.Forbidden, "owner", ""},
		{"unknown", "ghost", alice, errs.NotFound, "", ""},
		{"with a dependent", "corelib", alice, errs.Conflict, "user-app@1.0.0", ""},
		{"a version older than the window", "old", alice, errs.Conflict, "72 hours", ""},
		{"only deleted versions are old", "mixed", alice, success, "", "mixed"},
		{"other spelling", "MY-PKG", alice, success, "", "my_pkg"},
		{"again", "my_pkg", alice, errs.Gone, "already deleted", ""},
		{"an admin, past the window", "old", root, success, "", "old"},
		{"the dependent", "user-app", bob, success, "", "user-app"},
		{"no dependent left", "corelib", alice, success, "", "corelib"},
	}
	for _, tt := range steps {
		name, err := f.Service.DeletePackage(ctx, tt.p, tt.pkg, ip)
		if checkErr(t, tt.name, err, tt.kind, tt.msg) && name != tt.canonical {
			t.Errorf("%s: answered %q, want %q", tt.name, name, tt.canonical)
		}
	}
	// A deleted package answers 410 wherever it is read.
	reads := map[string]func() error{
		"Package":       func() error { _, err := f.Service.Package(ctx, "my-pkg"); return err },
		"Version":       func() error { _, err := f.Service.Version(ctx, "my_pkg", "1.0.0"); return err },
		"Resolve":       func() error { _, err := f.Service.Resolve(ctx, "my_pkg", "*"); return err },
		"LookupArchive": func() error { _, err := f.Service.LookupArchive(ctx, "my_pkg", "1.1.0"); return err },
		"Owners":        func() error { _, err := f.Service.Owners(ctx, "my_pkg"); return err },
		"Stats":         func() error { _, err := f.Service.Stats(ctx, "my_pkg"); return err },
		"CanManage":     func() error { _, err := f.Service.CanManage(ctx, alice, "my_pkg"); return err },
	}
	for name, read := range reads {
		checkErr(t, name+" of a deleted package", read(), errs.Gone, "")
	}
	if s, _ := f.Service.Search(ctx, "", "name", 0, 0); s.Total != 0 {
		t.Errorf("search lists %d packages, want none", s.Total)
	}
	if ps, _ := f.Service.UserPackages(ctx, alice.UserID); len(ps) != 0 {
		t.Errorf("alice's packages: %+v", ps)
	}
	if tot, _ := f.Service.Totals(ctx); tot.Packages != 0 || tot.Versions != 0 {
		t.Errorf("totals after deleting everything: %+v", tot)
	}
	ev, _ := f.Service.Audit(ctx, root, registry.AuditQuery{Action: "delete", Package: "my-pkg", Outcome: store.OutcomeSuccess})
	if ev.Total != 1 || ev.Events[0].Target != "my_pkg" || ev.Events[0].Detail != "2 versions" {
		t.Errorf("package delete event: %+v", ev)
	}
}
