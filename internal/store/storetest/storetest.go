// Package storetest is the conformance suite every metadata store driver
// runs: the same tests and the same expectations, error kinds included.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
	"github.com/dryad-lang/registry/internal/testenv"
)

// Run runs the suite; open must return a new, empty, migrated store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Users", testUsers},
		{"Tokens", testTokens},
		{"Sessions", testSessions},
		{"PackagesAndVersions", testPackagesAndVersions},
		{"TransactRollback", testTransactRollback},
		{"Owners", testOwners},
		{"Dependents", testDependents},
		{"DependentVersions", testDependentVersions},
		{"OwnersOf", testOwnersOf},
		{"Downloads", testDownloads},
		{"Search", testSearch},
		{"Audit", testAudit},
		{"GitJobs", testGitJobs},
		{"MirrorSummary", testMirrorSummary},
		{"ConcurrentWrites", testConcurrentWrites},
		{"SharedLock", testSharedLock},
		{"RegistryID", testRegistryID},
		{"Snapshot", testSnapshot},
		{"Times", testTimes},
		{"DumpAndLoad", func(t *testing.T, s store.Store) { testDumpLoad(t, s, open) }},
		{"DumpUnknownColumn", testUnknownColumn},
		{"Log", testLog},
		{"ConcurrentLog", testConcurrentLog},
		{"Webhooks", testWebhooks},
		{"WebhookQueue", testWebhookQueue},
		{"WebhookConcurrentClaims", testWebhookConcurrentClaims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

var ctx = context.Background()

// t0 is a fixed instant with sub-second precision, to check that times
// survive a round trip through the engine.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantKind(t *testing.T, err error, kind errs.Kind) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want kind %v", err, kind.Code())
	}
}

func newUser(t *testing.T, s store.Queries, name string) *store.User {
	t.Helper()
	u := &store.User{Username: name, Email: name + "@example.org", PasswordHash: "$2a$04$hash", FullName: "User " + name}
	must(t, s.CreateUser(ctx, u))
	return u
}

func newPackage(t *testing.T, s store.Queries, name string, owner *store.User) *store.Package {
	t.Helper()
	p := &store.Package{Name: name, NormalizedName: strings.ReplaceAll(name, "_", "-"), Description: "the " + name + " package"}
	must(t, s.CreatePackage(ctx, p))
	if owner != nil {
		must(t, s.AddOwner(ctx, p.ID, owner.ID, t0))
	}
	return p
}

func newVersion(t *testing.T, s store.Queries, p *store.Package, u *store.User, ver string, deps ...store.Dependency) *store.Version {
	t.Helper()
	v := &store.Version{
		PackageID: p.ID, Version: ver, Key: strings.SplitN(ver, "+", 2)[0],
		Manifest: []byte(`{"name":"` + p.Name + `","version":"` + ver + `"}`),
		Checksum: fmt.Sprintf("%064x", len(ver)), Size: 100, UnpackedSize: 300, FileCount: 3,
		Readme: "# " + p.Name, ReadmeHTML: "<h1>" + p.Name + "</h1>", PublisherID: u.ID,
		PublishedAt: t0, Dependencies: deps,
	}
	must(t, s.CreateVersion(ctx, v))
	return v
}

func testUsers(t *testing.T, s store.Store) {
	u := newUser(t, s, "Alice")
	if u.ID == 0 || u.Role != store.RoleUser || u.CredentialVersion != 1 || u.CreatedAt.IsZero() {
		t.Fatalf("created user: %+v", u)
	}
	wantKind(t, s.CreateUser(ctx, &store.User{Username: "alice", Email: "other@example.org", PasswordHash: "x"}), errs.Conflict)
	err := s.CreateUser(ctx, &store.User{Username: "bob", Email: "ALICE@example.org", PasswordHash: "x"})
	wantKind(t, err, errs.Conflict)
	if !strings.Contains(errs.Message(err), "email") {
		t.Errorf("conflict message should name the email: %q", errs.Message(err))
	}

	for _, login := range []string{"alice", "ALICE", "alice@EXAMPLE.org"} {
		got, err := s.GetUserByLogin(ctx, login)
		must(t, err)
		if got.ID != u.ID || got.Username != "Alice" {
			t.Errorf("GetUserByLogin(%q) = %+v", login, got)
		}
	}
	_, err = s.GetUserByLogin(ctx, "nobody")
	wantKind(t, err, errs.NotFound)
	_, err = s.GetUser(ctx, 999999)
	wantKind(t, err, errs.NotFound)

	u.Role = store.RoleAdmin
	u.Disabled = true
	u.CredentialVersion = 7
	u.PasswordHash = "$2a$04$new"
	must(t, s.UpdateUser(ctx, u))
	must(t, s.TouchLogin(ctx, u.ID, t0))
	got, err := s.GetUserByName(ctx, "alice")
	must(t, err)
	if got.Role != store.RoleAdmin || !got.Disabled || got.CredentialVersion != 7 || got.PasswordHash != "$2a$04$new" {
		t.Errorf("after update: %+v", got)
	}
	if got.LastLoginAt == nil || !got.LastLoginAt.Equal(t0) {
		t.Errorf("last login = %v, want %v", got.LastLoginAt, t0)
	}

	newUser(t, s, "bob")
	newUser(t, s, "carol_x")
	users, total, err := s.ListUsers(ctx, store.UserFilter{Limit: 2})
	must(t, err)
	if total != 3 || len(users) != 2 || users[0].Username != "Alice" || users[1].Username != "bob" {
		t.Errorf("ListUsers page = %d %v", total, users)
	}
	users, total, err = s.ListUsers(ctx, store.UserFilter{Query: "L_X"})
	must(t, err)
	if total != 1 || users[0].Username != "carol_x" {
		t.Errorf("ListUsers(query) = %d %v", total, users)
	}
	n, err := s.CountUsers(ctx)
	must(t, err)
	if n != 3 {
		t.Errorf("CountUsers = %d", n)
	}
}

func testTokens(t *testing.T, s store.Store) {
	u := newUser(t, s, "tok")
	exp := t0.Add(24 * time.Hour)
	tk := &store.Token{UserID: u.ID, Name: "ci", Hash: "h1", Scopes: []string{"publish", "yank"}, Packages: []string{"mylib-*"}, ExpiresAt: &exp}
	must(t, s.CreateToken(ctx, tk))
	wantKind(t, s.CreateToken(ctx, &store.Token{UserID: u.ID, Name: "dup", Hash: "h1"}), errs.Conflict)
	must(t, s.CreateToken(ctx, &store.Token{UserID: u.ID, Name: "other", Hash: "h2", Scopes: []string{"owners"}}))

	got, err := s.GetTokenByHash(ctx, "h1")
	must(t, err)
	if got.ID != tk.ID || got.Name != "ci" || strings.Join(got.Scopes, ",") != "publish,yank" ||
		strings.Join(got.Packages, ",") != "mylib-*" || got.ExpiresAt == nil || !got.ExpiresAt.Equal(exp) || got.RevokedAt != nil {
		t.Errorf("token = %+v", got)
	}
	must(t, s.TouchToken(ctx, tk.ID, t0))
	list, err := s.ListTokens(ctx, u.ID)
	must(t, err)
	if len(list) != 2 || list[0].Name != "other" || list[1].LastUsedAt == nil {
		t.Errorf("ListTokens = %+v", list)
	}

	other := newUser(t, s, "mallory")
	wantKind(t, s.RevokeToken(ctx, other.ID, tk.ID, t0), errs.NotFound)
	must(t, s.RevokeToken(ctx, u.ID, tk.ID, t0))
	wantKind(t, s.RevokeToken(ctx, u.ID, tk.ID, t0), errs.NotFound)
	got, err = s.GetTokenByHash(ctx, "h1")
	must(t, err)
	if got.RevokedAt == nil {
		t.Error("revoked token has no revoked_at")
	}
	must(t, s.RevokeUserTokens(ctx, u.ID, t0))
	list, err = s.ListTokens(ctx, u.ID)
	must(t, err)
	if len(list) != 0 {
		t.Errorf("tokens left after RevokeUserTokens: %+v", list)
	}
	_, err = s.GetTokenByHash(ctx, "nope")
	wantKind(t, err, errs.NotFound)
}

func testSessions(t *testing.T, s store.Store) {
	u := newUser(t, s, "sess")
	must(t, s.CreateSession(ctx, &store.Session{IDHash: "a", UserID: u.ID, CredentialVersion: 1, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	must(t, s.CreateSession(ctx, &store.Session{IDHash: "b", UserID: u.ID, CredentialVersion: 1, CreatedAt: t0, ExpiresAt: t0.Add(-time.Hour)}))
	got, err := s.GetSession(ctx, "a")
	must(t, err)
	if got.UserID != u.ID || !got.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("session = %+v", got)
	}
	n, err := s.DeleteExpiredSessions(ctx, t0)
	must(t, err)
	if n != 1 {
		t.Errorf("expired sessions deleted = %d, want 1", n)
	}
	_, err = s.GetSession(ctx, "b")
	wantKind(t, err, errs.NotFound)
	must(t, s.DeleteSession(ctx, "a"))
	_, err = s.GetSession(ctx, "a")
	wantKind(t, err, errs.NotFound)
	must(t, s.CreateSession(ctx, &store.Session{IDHash: "c", UserID: u.ID, ExpiresAt: t0.Add(time.Hour)}))
	must(t, s.DeleteUserSessions(ctx, u.ID))
	_, err = s.GetSession(ctx, "c")
	wantKind(t, err, errs.NotFound)
}

func testPackagesAndVersions(t *testing.T, s store.Store) {
	u := newUser(t, s, "pub")
	p := newPackage(t, s, "my_lib", u)
	wantKind(t, s.CreatePackage(ctx, &store.Package{Name: "my-lib", NormalizedName: "my-lib"}), errs.Conflict)

	got, err := s.GetPackage(ctx, "my-lib")
	must(t, err)
	if got.ID != p.ID || got.Name != "my_lib" || got.DeletedAt != nil {
		t.Errorf("package = %+v", got)
	}
	_, err = s.GetPackage(ctx, "missing")
	wantKind(t, err, errs.NotFound)

	v1 := newVersion(t, s, p, u, "1.0.0", store.Dependency{Name: "dep-a", Range: "^1.0.0"}, store.Dependency{Name: "dep-b", Range: "*", Dev: true})
	newVersion(t, s, p, u, "1.1.0-beta.1+build.5")
	err = s.CreateVersion(ctx, &store.Version{PackageID: p.ID, Version: "1.0.0+other", Key: "1.0.0", Manifest: []byte("{}"), Checksum: "c", PublisherID: u.ID})
	wantKind(t, err, errs.Conflict)

	vs, err := s.ListVersions(ctx, p.ID)
	must(t, err)
	if len(vs) != 2 || vs[0].Version != "1.0.0" || vs[1].Version != "1.1.0-beta.1+build.5" || vs[1].Key != "1.1.0-beta.1" {
		t.Fatalf("versions = %+v", vs)
	}
	if vs[0].Publisher != "pub" || len(vs[0].Dependencies) != 2 || vs[0].Dependencies[0] != (store.Dependency{Name: "dep-a", Range: "^1.0.0"}) ||
		vs[0].Dependencies[1] != (store.Dependency{Name: "dep-b", Range: "*", Dev: true}) {
		t.Errorf("version 1.0.0 = %+v", vs[0])
	}
	if string(vs[0].Manifest) != `{"name":"my_lib","version":"1.0.0"}` || vs[0].ReadmeHTML != "<h1>my_lib</h1>" || !vs[0].PublishedAt.Equal(t0) {
		t.Errorf("version fields = %q %q %v", vs[0].Manifest, vs[0].ReadmeHTML, vs[0].PublishedAt)
	}

	must(t, s.SetYanked(ctx, v1.ID, true, t0))
	must(t, s.SetGitCommit(ctx, v1.ID, "abc123"))
	v, err := s.GetVersion(ctx, p.ID, "1.0.0")
	must(t, err)
	if !v.Yanked || v.YankedAt == nil || v.GitCommit != "abc123" || len(v.Dependencies) != 2 {
		t.Errorf("after yank: %+v", v)
	}
	must(t, s.SetYanked(ctx, v1.ID, false, t0))
	must(t, s.MarkVersionDeleted(ctx, v1.ID, t0))
	wantKind(t, s.MarkVersionDeleted(ctx, v1.ID, t0), errs.NotFound)
	v, err = s.GetVersion(ctx, p.ID, "1.0.0")
	must(t, err)
	if v.Yanked || v.YankedAt != nil || v.DeletedAt == nil {
		t.Errorf("after unyank+delete: %+v", v)
	}
	_, err = s.GetVersion(ctx, p.ID, "9.9.9")
	wantKind(t, err, errs.NotFound)

	got.Description = "new"
	got.Keywords = []string{"a", "b"}
	got.Latest = "1.1.0-beta.1+build.5"
	got.License = "MIT"
	got.UpdatedAt = t0
	del := t0.Add(time.Minute)
	got.DeletedAt = &del
	must(t, s.UpdatePackage(ctx, got))
	must(t, s.SetMirrorState(ctx, p.ID, &t0, "boom"))
	err = s.Transact(ctx, func(tx store.Queries) error {
		locked, err := tx.LockPackage(ctx, "my-lib")
		if err != nil {
			return err
		}
		if locked.Description != "new" || strings.Join(locked.Keywords, ",") != "a,b" || locked.Latest != "1.1.0-beta.1+build.5" ||
			locked.DeletedAt == nil || !locked.DeletedAt.Equal(del) || locked.MirrorError != "boom" || locked.MirrorPushedAt == nil {
			t.Errorf("locked package = %+v", locked)
		}
		_, err = tx.LockPackage(ctx, "nope")
		wantKind(t, err, errs.NotFound)
		return nil
	})
	must(t, err)

	var seen []string
	must(t, s.AllVersions(ctx, func(p *store.Package, v *store.Version) error {
		seen = append(seen, p.Name+"@"+v.Version)
		return nil
	}))
	if strings.Join(seen, " ") != "my_lib@1.0.0 my_lib@1.1.0-beta.1+build.5" {
		t.Errorf("AllVersions = %v", seen)
	}
	pkgs, err := s.ListUserPackages(ctx, u.ID)
	must(t, err)
	if len(pkgs) != 1 || pkgs[0].ID != p.ID {
		t.Errorf("ListUserPackages = %+v", pkgs)
	}
}

func testTransactRollback(t *testing.T, s store.Store) {
	u := newUser(t, s, "rb")
	boom := errors.New("boom")
	err := s.Transact(ctx, func(tx store.Queries) error {
		p := newPackage(t, tx, "rolled", u)
		newVersion(t, tx, p, u, "1.0.0")
		must(t, tx.AddAudit(ctx, &store.AuditEvent{Action: "publish", Outcome: store.OutcomeSuccess}))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Transact returned %v, want boom", err)
	}
	_, err = s.GetPackage(ctx, "rolled")
	wantKind(t, err, errs.NotFound)
	events, _, err := s.ListAudit(ctx, store.AuditFilter{})
	must(t, err)
	if len(events) != 0 {
		t.Errorf("audit events survived rollback: %+v", events)
	}
	// A kind returned from inside keeps its kind.
	err = s.Transact(ctx, func(tx store.Queries) error { return errs.New(errs.Forbidden, "no") })
	wantKind(t, err, errs.Forbidden)
}

func testOwners(t *testing.T, s store.Store) {
	a, b := newUser(t, s, "owner-a"), newUser(t, s, "owner-b")
	p := newPackage(t, s, "owned", a)
	must(t, s.AddOwner(ctx, p.ID, b.ID, t0.Add(time.Second)))
	must(t, s.AddOwner(ctx, p.ID, b.ID, t0)) // again: not an error
	owners, err := s.ListOwners(ctx, p.ID)
	must(t, err)
	if len(owners) != 2 || owners[0].Username != "owner-a" || owners[1].Username != "owner-b" {
		t.Errorf("owners = %+v", owners)
	}
	ok, err := s.IsOwner(ctx, p.ID, b.ID)
	must(t, err)
	if !ok {
		t.Error("b should own the package")
	}
	must(t, s.RemoveOwner(ctx, p.ID, b.ID))
	wantKind(t, s.RemoveOwner(ctx, p.ID, b.ID), errs.NotFound)
	ok, err = s.IsOwner(ctx, p.ID, b.ID)
	must(t, err)
	if ok {
		t.Error("b still owns the package")
	}
}

func testDependents(t *testing.T, s store.Store) {
	u := newUser(t, s, "deps")
	base := newPackage(t, s, "base", u)
	newVersion(t, s, base, u, "1.0.0")
	app := newPackage(t, s, "app", u)
	newVersion(t, s, app, u, "1.0.0", store.Dependency{Name: "base", Range: "^1.0.0"})
	newVersion(t, s, app, u, "1.1.0", store.Dependency{Name: "base", Range: "^1.1.0"})
	tool := newPackage(t, s, "tool", u)
	tv := newVersion(t, s, tool, u, "1.0.0", store.Dependency{Name: "base", Range: "*"})
	dev := newPackage(t, s, "devonly", u)
	newVersion(t, s, dev, u, "1.0.0", store.Dependency{Name: "base", Range: "*", Dev: true})

	got, err := s.Dependents(ctx, "base")
	must(t, err)
	want := []store.Dependent{{Name: "app", Version: "1.1.0", Range: "^1.1.0"}, {Name: "tool", Version: "1.0.0", Range: "*"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Dependents = %v, want %v", got, want)
	}
	must(t, s.MarkVersionDeleted(ctx, tv.ID, t0))
	got, err = s.Dependents(ctx, "base")
	must(t, err)
	if len(got) != 1 || got[0].Name != "app" {
		t.Errorf("Dependents after delete = %v", got)
	}
}

func testDependentVersions(t *testing.T, s store.Store) {
	u := newUser(t, s, "depv")
	base := newPackage(t, s, "base", u)
	newVersion(t, s, base, u, "1.0.0")
	app := newPackage(t, s, "app", u)
	newVersion(t, s, app, u, "1.0.0", store.Dependency{Name: "base", Range: "^1.0.0"})
	newVersion(t, s, app, u, "1.1.0", store.Dependency{Name: "base", Range: "~1.0.0"})
	yanked := newVersion(t, s, app, u, "1.2.0", store.Dependency{Name: "base", Range: "*"})
	must(t, s.SetYanked(ctx, yanked.ID, true, t0))
	deleted := newVersion(t, s, app, u, "1.3.0", store.Dependency{Name: "base", Range: "*"})
	must(t, s.MarkVersionDeleted(ctx, deleted.ID, t0))
	newVersion(t, s, app, u, "2.0.0") // no longer depends on base
	aa := newPackage(t, s, "aa_tool", u)
	newVersion(t, s, aa, u, "0.1.0", store.Dependency{Name: "base", Range: "1.0.0"})
	dev := newPackage(t, s, "devonly", u)
	newVersion(t, s, dev, u, "1.0.0", store.Dependency{Name: "base", Range: "*", Dev: true})
	gone := newPackage(t, s, "gone", u)
	newVersion(t, s, gone, u, "1.0.0", store.Dependency{Name: "base", Range: "*"})
	gone.DeletedAt = &t0
	must(t, s.UpdatePackage(ctx, gone))

	got, err := s.DependentVersions(ctx, "base")
	must(t, err)
	want := []store.DependentVersion{
		{PackageID: aa.ID, Package: "aa_tool", Version: "0.1.0", Range: "1.0.0"},
		{PackageID: app.ID, Package: "app", Version: "1.0.0", Range: "^1.0.0"},
		{PackageID: app.ID, Package: "app", Version: "1.1.0", Range: "~1.0.0"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("DependentVersions = %v, want %v", got, want)
	}
	got, err = s.DependentVersions(ctx, "nobody-needs-this")
	must(t, err)
	if len(got) != 0 {
		t.Errorf("DependentVersions of an unused package = %v", got)
	}
}

func testOwnersOf(t *testing.T, s store.Store) {
	a, b, c := newUser(t, s, "zed"), newUser(t, s, "amy"), newUser(t, s, "solo")
	c.Disabled = true
	must(t, s.UpdateUser(ctx, c))
	p1 := newPackage(t, s, "first", a)
	must(t, s.AddOwner(ctx, p1.ID, b.ID, t0))
	p2 := newPackage(t, s, "second", c)
	p3 := newPackage(t, s, "third", nil)
	got, err := s.OwnersOf(ctx, []int64{p2.ID, p1.ID, p3.ID})
	must(t, err)
	want := []store.OwnerContact{
		{PackageID: p1.ID, UserID: b.ID, Username: "amy", Email: "amy@example.org"},
		{PackageID: p1.ID, UserID: a.ID, Username: "zed", Email: "zed@example.org"},
		{PackageID: p2.ID, UserID: c.ID, Username: "solo", Email: "solo@example.org", Disabled: true},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("OwnersOf = %+v, want %+v", got, want)
	}
	if got, err := s.OwnersOf(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("OwnersOf(nil) = %v, %v", got, err)
	}
	// More packages than one statement carries.
	ids := make([]int64, 1200)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	got, err = s.OwnersOf(ctx, ids)
	must(t, err)
	if len(got) != 3 {
		t.Errorf("OwnersOf of 1200 ids found %d owners, want 3", len(got))
	}
}

func testDownloads(t *testing.T, s store.Store) {
	u := newUser(t, s, "dl")
	p := newPackage(t, s, "pop", u)
	v1 := newVersion(t, s, p, u, "1.0.0")
	v2 := newVersion(t, s, p, u, "2.0.0")
	batch := []store.DownloadCount{
		{VersionID: v1.ID, Day: "2026-03-13", Count: 3},
		{VersionID: v1.ID, Day: "2026-03-14", Count: 2},
		{VersionID: v2.ID, Day: "2026-03-14", Count: 5},
	}
	must(t, s.AddDownloads(ctx, "batch-1", batch))
	must(t, s.AddDownloads(ctx, "batch-1", batch)) // a retried flush is not counted twice
	must(t, s.AddDownloads(ctx, "batch-2", []store.DownloadCount{{VersionID: v2.ID, Day: "2026-03-14", Count: 1}}))

	got, err := s.GetPackage(ctx, "pop")
	must(t, err)
	if got.Downloads != 11 {
		t.Errorf("package downloads = %d, want 11", got.Downloads)
	}
	vs, err := s.ListVersions(ctx, p.ID)
	must(t, err)
	if vs[0].Downloads != 5 || vs[1].Downloads != 6 {
		t.Errorf("version downloads = %d %d", vs[0].Downloads, vs[1].Downloads)
	}
	daily, err := s.VersionDownloads(ctx, p.ID, "2026-03-14")
	must(t, err)
	if fmt.Sprint(daily[v1.ID]) != "[{2026-03-14 2}]" || fmt.Sprint(daily[v2.ID]) != "[{2026-03-14 6}]" {
		t.Errorf("VersionDownloads = %v", daily)
	}
	n, err := s.PackageDownloadsSince(ctx, p.ID, "2026-03-01")
	must(t, err)
	if n != 11 {
		t.Errorf("PackageDownloadsSince = %d", n)
	}
	tot, err := s.Totals(ctx)
	must(t, err)
	if tot.Downloads != 11 || tot.Versions != 2 || tot.Users != 1 {
		t.Errorf("Totals = %+v", tot)
	}

	// Trending: the downloads since a day, summed over versions; days
	// before are left out, and so are deleted packages and packages not
	// downloaded since.
	got.Latest = "2.0.0"
	must(t, s.UpdatePackage(ctx, got))
	other := newPackage(t, s, "other", u)
	ov := newVersion(t, s, other, u, "1.0.0")
	other.Latest = "1.0.0"
	must(t, s.UpdatePackage(ctx, other))
	old := newPackage(t, s, "old", u)
	oldv := newVersion(t, s, old, u, "1.0.0")
	old.Latest = "1.0.0"
	must(t, s.UpdatePackage(ctx, old))
	gone := newPackage(t, s, "gone", u)
	gv := newVersion(t, s, gone, u, "1.0.0")
	d := t0
	gone.Latest, gone.DeletedAt = "1.0.0", &d
	must(t, s.UpdatePackage(ctx, gone))
	must(t, s.AddDownloads(ctx, "batch-3", []store.DownloadCount{
		{VersionID: ov.ID, Day: "2026-03-15", Count: 20},
		{VersionID: ov.ID, Day: "2026-03-01", Count: 500},
		{VersionID: oldv.ID, Day: "2026-03-01", Count: 1000},
		{VersionID: gv.ID, Day: "2026-03-15", Count: 900},
		{VersionID: v1.ID, Day: "2026-03-15", Count: 3},
	}))
	trend := func(since string, limit int) string {
		tp, err := s.TrendingPackages(ctx, since, limit)
		must(t, err)
		var parts []string
		for _, p := range tp {
			parts = append(parts, fmt.Sprintf("%s:%d", p.Name, p.Recent))
		}
		return strings.Join(parts, " ")
	}
	if got := trend("2026-03-14", 10); got != "other:20 pop:11" {
		t.Errorf("TrendingPackages(2026-03-14) = %q, want other:20 pop:11", got)
	}
	if got := trend("2026-03-14", 1); got != "other:20" {
		t.Errorf("TrendingPackages(2026-03-14, 1) = %q, want other:20", got)
	}
	if got := trend("2026-02-01", 10); got != "old:1000 other:520 pop:14" {
		t.Errorf("TrendingPackages(2026-02-01) = %q", got)
	}
	if got := trend("2026-04-01", 10); got != "" {
		t.Errorf("TrendingPackages(2026-04-01) = %q, want none", got)
	}
}

// testSearch pins the ranking rules that both engines must follow.
func testSearch(t *testing.T, s store.Store) {
	u := newUser(t, s, "search")
	add := func(name, desc string, keywords []string, downloads int64) {
		p := newPackage(t, s, name, u)
		v := newVersion(t, s, p, u, "1.0.0")
		p.Description, p.Keywords, p.Latest, p.UpdatedAt = desc, keywords, "1.0.0", t0.Add(time.Duration(len(name))*time.Minute)
		must(t, s.UpdatePackage(ctx, p))
		if downloads > 0 {
			must(t, s.AddDownloads(ctx, "b-"+name, []store.DownloadCount{{VersionID: v.ID, Day: "2026-03-14", Count: downloads}}))
		}
	}
	add("http", "HTTP client and server", []string{"net"}, 5)
	add("http-router", "Fast router", []string{"web"}, 50)
	add("http_server", "A server", nil, 100)
	add("fasthttp", "Another HTTP stack", nil, 1000)
	add("router", "Routes requests; works with http", []string{"http", "web"}, 7)
	add("json", "JSON encoding", []string{"encoding", "data-format"}, 3)
	add("webkit", "Renders pages", []string{"browser", "format-data"}, 1)
	gone := newPackage(t, s, "http-gone", u)
	newVersion(t, s, gone, u, "1.0.0")
	d := t0
	gone.Latest, gone.DeletedAt = "1.0.0", &d
	must(t, s.UpdatePackage(ctx, gone))
	newPackage(t, s, "http-empty", u) // no latest version: not listed
	// A second owner of two packages, for the owner filter; owning a
	// deleted package lists nothing.
	co := newUser(t, s, "Co_Owner")
	for _, n := range []string{"router", "json", "http-gone"} {
		p, err := s.GetPackage(ctx, n)
		must(t, err)
		must(t, s.AddOwner(ctx, p.ID, co.ID, t0))
	}

	names := func(r *store.SearchResult) string {
		var n []string
		for _, p := range r.Packages {
			n = append(n, p.Name)
		}
		return strings.Join(n, " ")
	}
	tests := []struct {
		q     store.SearchQuery
		want  string
		total int
	}{
		// exact, then prefix (by downloads), then contains, then keyword, then text.
		{store.SearchQuery{Text: "http"}, "http http_server http-router fasthttp router", 5},
		// Both words match "router" too (its name and its keyword).
		{store.SearchQuery{Text: "HTTP_Router"}, "http-router router", 2},
		{store.SearchQuery{Text: "http", Limit: 2, Offset: 1}, "http_server http-router", 5},
		{store.SearchQuery{Text: "rout"}, "router http-router", 2},
		// Inside a name, through the trigram index where there is one, and
		// too short for it.
		{store.SearchQuery{Text: "sthtt"}, "fasthttp", 1},
		{store.SearchQuery{Text: "tp-ro"}, "http-router", 1},
		{store.SearchQuery{Text: "st"}, "fasthttp", 1},
		{store.SearchQuery{Text: "web"}, "webkit http-router router", 3},
		{store.SearchQuery{Text: "encoding"}, "json", 1},
		{store.SearchQuery{Text: "server client"}, "http", 1},
		{store.SearchQuery{Text: "zzz"}, "", 0},
		{store.SearchQuery{Text: "%"}, "", 0},
		{store.SearchQuery{Text: "a'b\"c OR 1=1 --"}, "", 0},
		{store.SearchQuery{Sort: store.SortDownloads, Limit: 3}, "fasthttp http_server http-router", 7},
		{store.SearchQuery{Sort: store.SortName, Limit: 3}, "fasthttp http http-router", 7},
		{store.SearchQuery{Sort: store.SortRecent, Limit: 3}, "http-router http_server fasthttp", 7},
		{store.SearchQuery{Text: "http", Sort: store.SortName}, "fasthttp http http-router http_server router", 5},
		// A first page without the count of every match.
		{store.SearchQuery{Sort: store.SortName, Limit: 2, NoTotal: true}, "fasthttp http", 0},
		// A keyword is matched whole: "web" is not "webkit"'s "browser"
		// nor part of another keyword.
		{store.SearchQuery{Keyword: "web"}, "http-router router", 2},
		{store.SearchQuery{Keyword: "web", Text: "rout", Sort: store.SortName}, "http-router router", 2},
		{store.SearchQuery{Keyword: "http", Sort: store.SortName}, "router", 1},
		{store.SearchQuery{Keyword: "we"}, "", 0},
		// A keyword of several words is matched whole, in its order.
		{store.SearchQuery{Keyword: "data-format"}, "json", 1},
		{store.SearchQuery{Keyword: "format-data"}, "webkit", 1},
		{store.SearchQuery{Keyword: "data"}, "", 0},
		{store.SearchQuery{Keyword: "%"}, "", 0},
		{store.SearchQuery{Keyword: `"web"`}, "", 0},
		// Owner: by username in any case, combined with text and keyword.
		{store.SearchQuery{Owner: "co_owner", Sort: store.SortName}, "json router", 2},
		{store.SearchQuery{Owner: "CO_OWNER", Text: "http"}, "router", 1},
		{store.SearchQuery{Owner: "co_owner", Keyword: "encoding"}, "json", 1},
		{store.SearchQuery{Owner: "co_owner", Keyword: "net"}, "", 0},
		{store.SearchQuery{Owner: "co"}, "", 0},
		{store.SearchQuery{Owner: "nobody"}, "", 0},
		{store.SearchQuery{Owner: "search", Limit: 2}, "fasthttp http_server", 7},
		// UpdatedSince: packages were updated len(name) minutes after t0;
		// the bound itself is included.
		{store.SearchQuery{UpdatedSince: t0.Add(8 * time.Minute), Sort: store.SortName}, "fasthttp http-router http_server", 3},
		{store.SearchQuery{UpdatedSince: t0.Add(8 * time.Minute), Text: "router"}, "http-router", 1},
		{store.SearchQuery{UpdatedSince: t0.Add(6 * time.Minute), Owner: "co_owner", Keyword: "web", Text: "rout", Sort: store.SortRecent}, "router", 1},
		{store.SearchQuery{UpdatedSince: t0.Add(time.Hour)}, "", 0},
	}
	for _, tt := range tests {
		r, err := s.SearchPackages(ctx, tt.q)
		must(t, err)
		if got := names(r); got != tt.want || r.Total != tt.total {
			t.Errorf("Search(%+v) = %q (total %d), want %q (total %d)", tt.q, got, r.Total, tt.want, tt.total)
		}
	}
}

func testAudit(t *testing.T, s store.Store) {
	u := newUser(t, s, "auditor")
	events := []store.AuditEvent{
		{ActorID: u.ID, Actor: "auditor", IP: "10.0.0.1", Action: "publish", Package: "a", Target: "a@1.0.0", Outcome: store.OutcomeSuccess},
		{Actor: "", IP: "10.0.0.2", Action: "login", Target: "auditor", Outcome: store.OutcomeFailure, Detail: "bad password"},
		{ActorID: u.ID, Actor: "auditor", Action: "yank", Package: "a", Target: "a@1.0.0", Outcome: store.OutcomeSuccess},
		{ActorID: u.ID, Actor: "auditor", Action: "publish", Package: "b", Target: "b@1.0.0", Outcome: store.OutcomeDenied},
	}
	for i := range events {
		events[i].At = t0.Add(time.Duration(i) * time.Second)
		must(t, s.AddAudit(ctx, &events[i]))
	}
	list := func(f store.AuditFilter) string {
		got, total, err := s.ListAudit(ctx, f)
		must(t, err)
		var parts []string
		for _, e := range got {
			parts = append(parts, e.Action+":"+e.Target)
		}
		return fmt.Sprintf("%d %s", total, strings.Join(parts, " "))
	}
	tests := []struct {
		f    store.AuditFilter
		want string
	}{
		{store.AuditFilter{}, "4 publish:b@1.0.0 yank:a@1.0.0 login:auditor publish:a@1.0.0"},
		{store.AuditFilter{Actor: "AUDITOR"}, "3 publish:b@1.0.0 yank:a@1.0.0 publish:a@1.0.0"},
		{store.AuditFilter{Package: "a"}, "2 yank:a@1.0.0 publish:a@1.0.0"},
		{store.AuditFilter{Action: "login"}, "1 login:auditor"},
		{store.AuditFilter{Actions: []string{"yank", "login"}, Limit: 1}, "2 yank:a@1.0.0"},
		{store.AuditFilter{Package: "a", Action: "publish"}, "1 publish:a@1.0.0"},
	}
	for _, tt := range tests {
		if got := list(tt.f); got != tt.want {
			t.Errorf("ListAudit(%+v) = %q, want %q", tt.f, got, tt.want)
		}
	}
	got, _, err := s.ListAudit(ctx, store.AuditFilter{Action: "login"})
	must(t, err)
	if got[0].IP != "10.0.0.2" || got[0].Detail != "bad password" || got[0].ActorID != 0 || !got[0].At.Equal(t0.Add(time.Second)) {
		t.Errorf("event = %+v", got[0])
	}
}

func testGitJobs(t *testing.T, s store.Store) {
	u := newUser(t, s, "git")
	a, b := newPackage(t, s, "ga", u), newPackage(t, s, "gb", u)
	for _, j := range []store.GitJob{
		{PackageID: a.ID, Kind: store.GitCommit, Version: "1.0.0"},
		{PackageID: a.ID, Kind: store.GitCommit, Version: "1.1.0"},
		{PackageID: b.ID, Kind: store.GitCommit, Version: "0.1.0"},
	} {
		j.CreatedAt = t0
		must(t, s.EnqueueGitJob(ctx, &j))
	}
	jobs, err := s.ClaimGitJobs(ctx, t0, time.Minute, 10)
	must(t, err)
	if len(jobs) != 2 || jobs[0].Version != "1.0.0" || jobs[1].Version != "0.1.0" {
		t.Fatalf("claimed %+v; want the oldest job of each package", jobs)
	}
	// Claimed jobs are leased: a second worker gets nothing now.
	again, err := s.ClaimGitJobs(ctx, t0.Add(time.Second), time.Minute, 10)
	must(t, err)
	if len(again) != 0 {
		t.Fatalf("claimed leased jobs: %+v", again)
	}
	must(t, s.CompleteGitJob(ctx, jobs[0].ID))
	must(t, s.FailGitJob(ctx, jobs[1].ID, "read-only file system", t0.Add(time.Hour)))
	pending, failing, err := s.CountGitJobs(ctx)
	must(t, err)
	if pending != 2 || failing != 1 {
		t.Errorf("CountGitJobs = %d pending, %d failing", pending, failing)
	}
	next, err := s.ClaimGitJobs(ctx, t0.Add(2*time.Minute), time.Minute, 10)
	must(t, err)
	if len(next) != 1 || next[0].Version != "1.1.0" {
		t.Fatalf("after completing 1.0.0 claimed %+v", next)
	}
	later, err := s.ClaimGitJobs(ctx, t0.Add(2*time.Hour), time.Minute, 10)
	must(t, err)
	if len(later) != 2 || later[1].Attempts != 1 || later[1].LastError != "read-only file system" {
		t.Errorf("retry claim = %+v", later)
	}
}

func testMirrorSummary(t *testing.T, s store.Store) {
	u := newUser(t, s, "mirror")
	sum, err := s.MirrorSummary(ctx, 10)
	must(t, err)
	if sum.Pushed != 0 || sum.LastPushedAt != nil || sum.Failing != 0 || len(sum.Failures) != 0 {
		t.Errorf("empty store: %+v", sum)
	}
	a, b, c := newPackage(t, s, "mb", u), newPackage(t, s, "ma", u), newPackage(t, s, "mc", u)
	newPackage(t, s, "never-pushed", u)
	must(t, s.SetMirrorState(ctx, a.ID, &t0, ""))
	later := t0.Add(time.Hour)
	must(t, s.SetMirrorState(ctx, b.ID, &later, ""))
	// A failure keeps the time of the last successful push.
	must(t, s.SetMirrorState(ctx, b.ID, nil, "b: refused"))
	must(t, s.SetMirrorState(ctx, a.ID, nil, "a: unreachable"))
	must(t, s.SetMirrorState(ctx, c.ID, nil, "c: no such repository"))
	sum, err = s.MirrorSummary(ctx, 2)
	must(t, err)
	if sum.Pushed != 2 || sum.LastPushedAt == nil || !sum.LastPushedAt.Equal(later) || sum.Failing != 3 {
		t.Errorf("summary = %+v", sum)
	}
	want := []store.MirrorFailure{{Package: "ma", Error: "b: refused"}, {Package: "mb", Error: "a: unreachable"}}
	if fmt.Sprint(sum.Failures) != fmt.Sprint(want) {
		t.Errorf("failures = %v, want %v (by name, limited)", sum.Failures, want)
	}
	must(t, s.SetMirrorState(ctx, a.ID, &later, ""))
	sum, err = s.MirrorSummary(ctx, 0)
	must(t, err)
	if sum.Failing != 2 || len(sum.Failures) != 0 {
		t.Errorf("after a's push, with no list asked: %+v", sum)
	}
}

// testRegistryID: the first identity stored stays; racing instances all
// read the one that won.
func testRegistryID(t *testing.T, s store.Store) {
	if id, err := s.RegistryID(ctx); err != nil || id != "" {
		t.Fatalf("RegistryID of a new store = %q, %v", id, err)
	}
	testenv.FirstInitWins(t, func(v string) (string, error) { return s.InitRegistryID(ctx, v) },
		func() (string, error) { return s.RegistryID(ctx) })
}

// testSharedLock: while one transaction holds a package shared (a publish
// that read its versions for a dependency), another cannot lock it (a
// delete of one of those versions) until the first has committed. The
// pause before the commit only gives a broken lock the chance to show; a
// slow machine makes the test weaker, never wrong.
func testSharedLock(t *testing.T, s store.Store) {
	newPackage(t, s, "dep", newUser(t, s, "holder"))
	held, release := make(chan struct{}), make(chan struct{})
	var committed atomic.Bool
	first := make(chan error, 1)
	go func() {
		first <- s.Transact(ctx, func(tx store.Queries) error {
			p, err := tx.LockPackageShared(ctx, "dep")
			if err != nil || p.Name != "dep" {
				return fmt.Errorf("LockPackageShared = %+v, %v", p, err)
			}
			close(held)
			<-release
			committed.Store(true) // the commit follows at once
			return nil
		})
	}()
	<-held
	second := make(chan error, 1)
	var sawCommitted bool
	go func() {
		second <- s.Transact(ctx, func(tx store.Queries) error {
			_, err := tx.LockPackage(ctx, "dep")
			sawCommitted = committed.Load()
			return err
		})
	}()
	time.Sleep(100 * time.Millisecond)
	close(release)
	must(t, <-first)
	must(t, <-second)
	if !sawCommitted {
		t.Error("LockPackage went ahead while another transaction held the package shared")
	}
	err := s.Transact(ctx, func(tx store.Queries) error {
		_, err := tx.LockPackageShared(ctx, "nope")
		return err
	})
	wantKind(t, err, errs.NotFound)
}

// testConcurrentWrites publishes, counts and audits from many goroutines at
// once: every write lands, none fails with a transient engine error.
func testConcurrentWrites(t *testing.T, s store.Store) {
	u := newUser(t, s, "busy")
	p := newPackage(t, s, "busy", u)
	const n = 24
	var wg sync.WaitGroup
	errc := make(chan error, 3*n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			err := s.Transact(ctx, func(tx store.Queries) error {
				if _, err := tx.LockPackage(ctx, "busy"); err != nil {
					return err
				}
				v := &store.Version{PackageID: p.ID, Version: fmt.Sprintf("1.0.%d", i), Key: fmt.Sprintf("1.0.%d", i),
					Manifest: []byte("{}"), Checksum: "c", PublisherID: u.ID}
				if err := tx.CreateVersion(ctx, v); err != nil {
					return err
				}
				return tx.AddAudit(ctx, &store.AuditEvent{Action: "publish", Target: v.Version, Outcome: store.OutcomeSuccess})
			})
			errc <- err
			errc <- s.AddDownloads(ctx, fmt.Sprintf("c-%d", i), nil)
			_, err = s.SearchPackages(ctx, store.SearchQuery{Text: "busy"})
			errc <- err
		}(i)
	}
	// Racing to publish the same version: exactly one wins, the rest conflict.
	var conflicts, wins int
	var mu sync.Mutex
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.CreateVersion(ctx, &store.Version{PackageID: p.ID, Version: "9.0.0", Key: "9.0.0", Manifest: []byte("{}"), Checksum: "c", PublisherID: u.ID})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, errs.Conflict):
				conflicts++
			default:
				errc <- err
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Error(err)
		}
	}
	if wins != 1 || conflicts != 7 {
		t.Errorf("racing publishes of one version: %d won, %d conflicted", wins, conflicts)
	}
	vs, err := s.ListVersions(ctx, p.ID)
	must(t, err)
	if len(vs) != n+1 {
		t.Errorf("%d versions, want %d", len(vs), n+1)
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.Version)
	}
	sort.Strings(got)
	if got[0] != "1.0.0" {
		t.Errorf("versions = %v", got)
	}
}

func testSnapshot(t *testing.T, s store.Store) {
	u := newUser(t, s, "snap")
	newPackage(t, s, "before", u)
	err := s.Snapshot(ctx, func(tx store.Queries) error {
		if _, err := tx.GetPackage(ctx, "before"); err != nil {
			return err
		}
		// A write committed meanwhile is not seen inside the snapshot.
		newPackage(t, s, "during", u)
		_, err := tx.GetPackage(ctx, "during")
		if !errors.Is(err, errs.NotFound) {
			t.Errorf("snapshot saw a later write: %v", err)
		}
		return nil
	})
	must(t, err)
	if _, err := s.GetPackage(ctx, "during"); err != nil {
		t.Errorf("write during snapshot lost: %v", err)
	}
}

func testTimes(t *testing.T, s store.Store) {
	u := newUser(t, s, "times")
	// Times in other zones are stored as the same instant and read in UTC.
	paris := time.FixedZone("CET", 3600)
	at := t0.In(paris)
	must(t, s.AddAudit(ctx, &store.AuditEvent{At: at, Actor: u.Username, Action: "x", Outcome: store.OutcomeSuccess}))
	got, _, err := s.ListAudit(ctx, store.AuditFilter{Action: "x"})
	must(t, err)
	if !got[0].At.Equal(t0) || got[0].At.Location() != time.UTC {
		t.Errorf("time round trip: %v (%v), want %v", got[0].At, got[0].At.Location(), t0)
	}
	// Order by time survives sub-second differences (text timestamps in SQLite).
	p := newPackage(t, s, "ticks", u)
	for i, d := range []time.Duration{0, 500 * time.Millisecond, 1500 * time.Millisecond, 1 * time.Second} {
		j := store.GitJob{PackageID: p.ID, Kind: store.GitMirror, Version: fmt.Sprint(i), CreatedAt: t0.Add(d), NextAttemptAt: t0.Add(d)}
		must(t, s.EnqueueGitJob(ctx, &j))
		must(t, s.CompleteGitJob(ctx, j.ID))
	}
	late := store.GitJob{PackageID: p.ID, Kind: store.GitMirror, NextAttemptAt: t0.Add(1500 * time.Millisecond)}
	must(t, s.EnqueueGitJob(ctx, &late))
	jobs, err := s.ClaimGitJobs(ctx, t0.Add(1200*time.Millisecond), time.Minute, 5)
	must(t, err)
	if len(jobs) != 0 {
		t.Errorf("claimed a job due later: %+v", jobs)
	}
	jobs, err = s.ClaimGitJobs(ctx, t0.Add(1500*time.Millisecond), time.Minute, 5)
	must(t, err)
	if len(jobs) != 1 {
		t.Errorf("job due now not claimed: %+v", jobs)
	}
}
