package registry_test

import (
	"context"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
	"github.com/dryad-lang/registry/internal/store"
)

func ownerNames(l *registry.OwnerList) string {
	return joined(l.Owners, func(o registry.Owner) string { return o.Username })
}

func TestOwners(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	f.Publish(alice, pkg("my_lib", "1.0.0"))
	l, err := f.Service.Owners(ctx, "MY-LIB")
	if err != nil || l.Name != "my_lib" || ownerNames(l) != "alice" || !l.Owners[0].AddedAt.Equal(registrytest.Start) {
		t.Errorf("owners: %+v, %v", l, err)
	}
	_, err = f.Service.Owners(ctx, "ghost")
	checkErr(t, "owners of an unknown package", err, errs.NotFound, "")
}

func TestAddAndRemoveOwners(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	bob := f.SignUp("bob")
	f.SignUp("carol")
	f.SignUp("dave")
	root := f.Admin("root")
	yes := true
	if _, err := f.Service.UpdateUser(ctx, root, "dave", registry.UserChange{Disabled: &yes}, ip); err != nil {
		t.Fatal(err)
	}
	f.Publish(alice, pkg("shared", "1.0.0"))
	many := make([]string, 51)
	for i := range many {
		many[i] = "bob"
	}

	steps := []struct {
		name   string
		p      *auth.Principal
		remove bool
		pkg    string
		users  []string
		kind   errs.Kind
		msg    string
		owners string // the owners after the step
	}{
		{"anonymous", nil, false, "shared", []string{"bob"}, errs.Unauthenticated, "", "alice"},
		{"not an owner", bob, false, "shared", []string{"bob"}, errs.Forbidden, "owner", "alice"},
		{"no users", alice, false, "shared", nil, errs.Invalid, "1 to 50", "alice"},
		{"51 users", alice, false, "shared", many, errs.Invalid, "1 to 50", "alice"},
		{"unknown package", alice, false, "ghost", []string{"bob"}, errs.NotFound, "ghost", "alice"},
		{"unknown user", alice, false, "shared", []string{"bob", "ghost"}, errs.Unprocessable, "ghost", "alice"},
		{"disabled user", alice, false, "shared", []string{"dave"}, errs.Unprocessable, "disabled", "alice"},
		{"add two", alice, false, "SHARED", []string{"bob", " Carol "}, success, "", "alice bob carol"},
		{"add an owner again", alice, false, "shared", []string{"bob"}, success, "", "alice bob carol"},
		{"remove a non-owner", alice, true, "shared", []string{"root"}, errs.Unprocessable, "not an owner", "alice bob carol"},
		{"a co-owner removes another", bob, true, "shared", []string{"carol"}, success, "", "alice bob"},
		{"remove every owner", alice, true, "shared", []string{"alice", "bob"}, errs.Conflict, "at least one owner", "alice bob"},
		{"remove oneself", alice, true, "shared", []string{"alice"}, success, "", "bob"},
		{"a former owner", alice, false, "shared", []string{"alice"}, errs.Forbidden, "owner", "bob"},
		{"remove the last owner", bob, true, "shared", []string{"bob"}, errs.Conflict, "at least one owner", "bob"},
		{"an admin adds", root, false, "shared", []string{"carol"}, success, "", "bob carol"},
		{"an admin removes", root, true, "shared", []string{"bob"}, success, "", "carol"},
	}
	for _, tt := range steps {
		call := f.Service.AddOwners
		if tt.remove {
			call = f.Service.RemoveOwners
		}
		l, err := call(ctx, tt.p, tt.pkg, tt.users, ip)
		if checkErr(t, tt.name, err, tt.kind, tt.msg) && err == nil && (l.Name != "shared" || ownerNames(l) != tt.owners) {
			t.Errorf("%s: answered %s: %q, want %q", tt.name, l.Name, ownerNames(l), tt.owners)
		}
		if l, err := f.Service.Owners(ctx, "shared"); err != nil || ownerNames(l) != tt.owners {
			t.Errorf("%s: owners %q (%v), want %q", tt.name, ownerNames(l), err, tt.owners)
		}
	}

	// Owners hold the package's rights; former owners lose them.
	carol := f.Login("carol")
	f.Clock.Advance(time.Minute)
	if _, err := f.TryPublish(carol, pkg("shared", "1.1.0")); err != nil {
		t.Errorf("co-owner's publish: %v", err)
	}
	_, err := f.TryPublish(alice, pkg("shared", "1.2.0"))
	checkErr(t, "former owner's publish", err, errs.Forbidden, "owner")

	// Every name added or removed is audited, a repeated one too.
	for action, want := range map[string]int{"owner_add": 4, "owner_remove": 3} {
		q := registry.AuditQuery{Action: action, Outcome: store.OutcomeSuccess, Package: "shared"}
		if ev, _ := f.Service.Audit(ctx, root, q); ev.Total != want {
			t.Errorf("%s events: %d, want %d", action, ev.Total, want)
		}
	}
	ev, _ := f.Service.Audit(ctx, root, registry.AuditQuery{Action: "owner_add", Outcome: store.OutcomeDenied})
	if ev.Total != 2 || ev.Events[1].Actor != "bob" || ev.Events[1].Target != "bob" {
		t.Errorf("denied owner changes: %+v", ev)
	}
}

// A deleted package's owners are fixed: adding one would hand the name to
// someone new, who could then publish it again.
func TestOwnersOfDeletedPackage(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	f.SignUp("bob")
	f.Publish(alice, pkg("gone", "1.0.0"))
	f.Publish(alice, pkg("gone", "1.1.0"))
	if _, err := f.Service.AddOwners(ctx, alice, "gone", []string{"bob"}, ip); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.DeletePackage(ctx, alice, "gone", ip); err != nil {
		t.Fatal(err)
	}
	f.SignUp("carol")
	_, err := f.Service.AddOwners(ctx, alice, "gone", []string{"carol"}, ip)
	checkErr(t, "add to a deleted package", err, errs.Gone, "deleted")
	_, err = f.Service.RemoveOwners(ctx, alice, "gone", []string{"bob"}, ip)
	checkErr(t, "remove from a deleted package", err, errs.Gone, "deleted")
	owners, err := f.Store.ListOwners(ctx, mustPackageID(t, f, "gone"))
	if names := joined(owners, func(o store.Owner) string { return o.Username }); err != nil || names != "alice bob" {
		t.Errorf("owners after the refused changes: %q, %v; want alice bob", names, err)
	}
	carol := f.Login("carol")
	f.Clock.Advance(time.Minute)
	_, err = f.TryPublish(carol, pkg("gone", "2.0.0"))
	checkErr(t, "a non-owner republishes the deleted name", err, errs.Forbidden, "")
}

func mustPackageID(t *testing.T, f *registrytest.Fixture, name string) int64 {
	t.Helper()
	p, err := f.Store.GetPackage(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}
