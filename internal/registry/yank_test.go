package registry_test

import (
	"context"
	"testing"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
	"github.com/dryad-lang/registry/internal/store"
)

func TestSetYanked(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	bob := f.SignUp("bob")
	root := f.Admin("root")
	f.Publish(alice, withFields("semv", "1.0.0", map[string]any{"description": "one"}))
	f.Publish(alice, withFields("semv", "1.1.0", map[string]any{"description": "one point one"}))
	f.Publish(alice, pkg("semv", "2.0.0-beta.1"))
	f.Publish(alice, pkg("semv", "1.2.0"))
	if _, err := f.Service.DeleteVersion(ctx, alice, "semv", "1.2.0", ip); err != nil {
		t.Fatal(err)
	}
	f.Publish(alice, pkg("dropped", "1.0.0"))
	if _, err := f.Service.DeletePackage(ctx, alice, "dropped", ip); err != nil {
		t.Fatal(err)
	}

	// Read (and cache) the archive reference before the yanks.
	if ref, err := f.Service.LookupArchive(ctx, "semv", "1.0.0"); err != nil || ref.Yanked {
		t.Fatalf("1.0.0's archive before the yanks: %+v, %v", ref, err)
	}

	tests := []struct {
		name          string
		p             *auth.Principal
		pkg, version  string
		yank          bool
		kind          errs.Kind
		msg           string
		latest, descr string // the package's latest version and description after the step
	}{
		{"anonymous", nil, "semv", "1.1.0", true, errs.Unauthenticated, "yank", "1.1.0", "one point one"},
		{"not an owner", bob, "semv", "1.1.0", true, errs.Forbidden, "owner", "1.1.0", "one point one"},
		{"unknown package", alice, "ghost", "1.0.0", true, errs.NotFound, "ghost", "1.1.0", "one point one"},
		{"unknown version", alice, "semv", "9.9.9", true, errs.NotFound, "9.9.9", "1.1.0", "one point one"},
		{"not a version", alice, "semv", "latest", true, errs.NotFound, "latest", "1.1.0", "one point one"},
		{"deleted version", alice, "semv", "1.2.0", true, errs.Gone, "deleted", "1.1.0", "one point one"},
		{"deleted package", alice, "dropped", "1.0.0", true, errs.Gone, "deleted", "1.1.0", "one point one"},
		{"the latest, other spelling", alice, "SEMV", "1.1.0", true, success, "", "1.0.0", "one"},
		{"again", alice, "semv", "1.1.0", true, success, "", "1.0.0", "one"},
		{"the last release: the prerelease is latest", alice, "semv", "1.0.0+build", true, success, "", "2.0.0-beta.1", "the semv package"},
		{"by an admin: nothing is latest", root, "semv", "2.0.0-beta.1", true, success, "", "", "the semv package"},
		{"unyank", alice, "semv", "1.1.0", false, success, "", "1.1.0", "one point one"},
	}
	for _, tt := range tests {
		v, err := f.Service.SetYanked(ctx, tt.p, tt.pkg, tt.version, tt.yank, ip)
		if checkErr(t, tt.name, err, tt.kind, tt.msg) && err == nil && (v.Yanked != tt.yank || v.Package != "semv") {
			t.Errorf("%s: answered %+v", tt.name, v)
		}
		p, err := f.Service.Package(ctx, "semv")
		if err != nil {
			t.Fatal(err)
		}
		if p.Latest != tt.latest || p.Description != tt.descr {
			t.Errorf("%s: latest %q %q, want %q %q", tt.name, p.Latest, p.Description, tt.latest, tt.descr)
		}
	}
	// A yanked version stays readable and downloadable by its number.
	v, err := f.Service.Version(ctx, "semv", "1.0.0")
	if err != nil || !v.Yanked {
		t.Errorf("yanked 1.0.0: %+v, %v", v, err)
	}
	if ref, err := f.Service.LookupArchive(ctx, "semv", "1.0.0"); err != nil || !ref.Yanked {
		t.Errorf("yanked 1.0.0's archive: %+v, %v", ref, err)
	}

	// Changes are audited, and refusals for want of rights too.
	for _, q := range []registry.AuditQuery{
		{Action: "yank", Outcome: store.OutcomeSuccess},
		{Action: "unyank", Outcome: store.OutcomeSuccess},
		{Action: "yank", Outcome: store.OutcomeDenied, Actor: "bob"},
	} {
		if ev, _ := f.Service.Audit(ctx, root, q); ev.Total == 0 {
			t.Errorf("no audit event for %+v", q)
		}
	}
}
