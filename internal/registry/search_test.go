package registry_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
	"github.com/dryad-lang/registry/internal/store"
)

func summaryNames(ps []registry.PackageSummary) string {
	return joined(ps, func(p registry.PackageSummary) string { return p.Name })
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	erin := f.SignUp("erin")
	for _, p := range []struct {
		name  string
		field map[string]any
	}{
		{"yaml", map[string]any{"description": "YAML, a superset of json"}},
		{"json_schema", map[string]any{"description": "Validate JSON"}},
		{"json", map[string]any{"description": "JSON encoding", "keywords": []string{"encoding"}, "license": "MIT"}},
		{"http", map[string]any{"description": "HTTP client"}},
		{"hidden", map[string]any{"description": "json, but every version yanked"}},
		{"dropped", map[string]any{"description": "json, but deleted"}},
	} {
		f.Publish(erin, withFields(p.name, "1.0.0", p.field))
		f.Clock.Advance(time.Minute)
	}
	f.Publish(erin, withFields("json", "1.1.0", map[string]any{"description": "JSON encoding", "keywords": []string{"encoding"}, "license": "MIT"}))
	if _, err := f.Service.SetYanked(ctx, erin, "hidden", "1.0.0", true, ip); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.DeletePackage(ctx, erin, "dropped", ip); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, text, sort string
		limit, offset    int
		kind             errs.Kind
		want             string
		total            int
		more             bool
	}{
		{"relevance", "json", "", 0, 0, success, "json json_schema yaml", 3, false},
		{"a name's other spelling", "JSON-SCHEMA", "", 0, 0, success, "json_schema", 1, false},
		{"a page", "json", "", 1, 1, success, "json_schema", 3, true},
		{"all by name", "", "name", 0, 0, success, "http json json_schema yaml", 4, false},
		{"all by recency", "", "recent", 0, 0, success, "json http json_schema yaml", 4, false},
		{"no match", "zzz", "", 0, 0, success, "", 0, false},
		{"unknown sort", "", "sideways", 0, 0, errs.Invalid, "", 0, false},
		{"limit too large", "", "", 101, 0, errs.Invalid, "", 0, false},
		{"negative limit", "", "", -1, 0, errs.Invalid, "", 0, false},
		{"negative offset", "", "", 0, -1, errs.Invalid, "", 0, false},
		{"offset too large", "", "", 0, 100001, errs.Invalid, "", 0, false},
		{"text too long", strings.Repeat("j", 201), "", 0, 0, errs.Invalid, "", 0, false},
	}
	for _, tt := range tests {
		r, err := f.Service.Search(ctx, tt.text, tt.sort, tt.limit, tt.offset)
		if !checkErr(t, tt.name, err, tt.kind, "") || err != nil {
			continue
		}
		if summaryNames(r.Packages) != tt.want || r.Total != tt.total || r.HasMore != tt.more || r.Offset != tt.offset {
			t.Errorf("%s: %q (total %d, more %v), want %q (total %d, more %v)", tt.name, summaryNames(r.Packages), r.Total, r.HasMore, tt.want, tt.total, tt.more)
		}
	}
	for _, tt := range []struct {
		name, keyword string
		kind          errs.Kind
		want          string
	}{
		{"a keyword", "encoding", success, "json"},
		{"any case", " Encoding ", success, "json"},
		{"a part of one", "encod", success, ""},
		{"a word of descriptions only", "json", success, ""},
		{"too long", strings.Repeat("k", 51), errs.Invalid, ""},
	} {
		r, err := f.Service.Find(ctx, registry.SearchQuery{Keyword: tt.keyword})
		if !checkErr(t, "keyword: "+tt.name, err, tt.kind, "") || err != nil {
			continue
		}
		if summaryNames(r.Packages) != tt.want {
			t.Errorf("keyword %s: %q, want %q", tt.name, summaryNames(r.Packages), tt.want)
		}
	}
	r, _ := f.Service.Search(ctx, "json", "", 0, 0)
	if r.Limit != 20 {
		t.Errorf("default limit = %d", r.Limit)
	}
	if s := r.Packages[0]; s.Version != "1.1.0" || s.Description != "JSON encoding" || s.License != "MIT" ||
		len(s.Keywords) != 1 || !s.UpdatedAt.Equal(registrytest.Start.Add(6*time.Minute)) {
		t.Errorf("json's summary: %+v", s)
	}
	if s := r.Packages[1]; s.Keywords == nil {
		t.Error("keywords of a package without any are nil")
	}
}

func TestUserPackagesAndPublicProfile(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	bob := f.SignUp("bob")
	root := f.Admin("root")
	if _, err := f.Service.Register(ctx, registry.Registration{Username: "carol", Email: "carol@example.org",
		Password: registrytest.Password("carol"), FullName: "Carol C."}, ip); err != nil {
		t.Fatal(err)
	}
	f.Publish(alice, pkg("b-live", "1.0.0"))
	f.Publish(alice, pkg("a-yanked", "1.0.0"))
	if _, err := f.Service.SetYanked(ctx, alice, "a-yanked", "1.0.0", true, ip); err != nil {
		t.Fatal(err)
	}
	f.Publish(alice, pkg("c-deleted", "1.0.0"))
	if _, err := f.Service.DeletePackage(ctx, alice, "c-deleted", ip); err != nil {
		t.Fatal(err)
	}
	f.Publish(bob, pkg("shared", "1.0.0"))
	if _, err := f.Service.AddOwners(ctx, bob, "shared", []string{"alice"}, ip); err != nil {
		t.Fatal(err)
	}

	users := []struct {
		name string
		id   int64
		want string
	}{
		{"alice", alice.UserID, "a-yanked b-live shared"},
		{"bob", bob.UserID, "shared"},
		{"root", root.UserID, ""},
	}
	for _, tt := range users {
		ps, err := f.Service.UserPackages(ctx, tt.id)
		if err != nil || ps == nil || summaryNames(ps) != tt.want {
			t.Errorf("UserPackages(%s) = %q, %v; want %q", tt.name, summaryNames(ps), err, tt.want)
		}
	}

	yes := true
	if _, err := f.Service.UpdateUser(ctx, root, "bob", registry.UserChange{Disabled: &yes}, ip); err != nil {
		t.Fatal(err)
	}
	profiles := []struct {
		username string
		kind     errs.Kind
		fullName string
		packages string
	}{
		{"alice", success, "", "b-live shared"},
		{" ALICE ", success, "", "b-live shared"},
		{"carol", success, "Carol C.", ""},
		{"bob", errs.NotFound, "", ""},
		{"ghost", errs.NotFound, "", ""},
	}
	for _, tt := range profiles {
		u, err := f.Service.PublicProfile(ctx, tt.username)
		if !checkErr(t, "PublicProfile("+tt.username+")", err, tt.kind, "") || err != nil {
			continue
		}
		if strings.ToLower(u.Username) != strings.ToLower(strings.TrimSpace(tt.username)) || u.FullName != tt.fullName ||
			summaryNames(u.Packages) != tt.packages || !u.JoinedAt.Equal(registrytest.Start) {
			t.Errorf("PublicProfile(%s) = %+v", tt.username, u)
		}
	}
}

func TestCanManage(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	bob := f.SignUp("bob")
	root := f.Admin("root")
	rootToken, _ := f.Token(root, registry.TokenRequest{Scopes: allScopes})
	aliceToken, _ := f.Token(alice, registry.TokenRequest{Scopes: []string{"yank"}})
	f.Publish(alice, pkg("my_lib", "1.0.0"))
	f.Publish(alice, pkg("dropped", "1.0.0"))
	if _, err := f.Service.DeletePackage(ctx, alice, "dropped", ip); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    *auth.Principal
		pkg  string
		kind errs.Kind
		want bool
	}{
		{"anonymous", nil, "my_lib", success, false},
		{"anonymous, unknown package", nil, "ghost", success, false},
		{"owner, other spelling", alice, "MY-LIB", success, true},
		{"owner's token", aliceToken, "my_lib", success, true},
		{"not an owner", bob, "my_lib", success, false},
		{"admin", root, "my_lib", success, true},
		{"admin's token", rootToken, "my_lib", success, false},
		{"unknown package", alice, "ghost", errs.NotFound, false},
		{"deleted package", alice, "dropped", errs.Gone, false},
	}
	for _, tt := range tests {
		ok, err := f.Service.CanManage(ctx, tt.p, tt.pkg)
		if checkErr(t, tt.name, err, tt.kind, "") && ok != tt.want {
			t.Errorf("%s: CanManage = %v, want %v", tt.name, ok, tt.want)
		}
	}
}

func TestDependents(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	f.Publish(alice, pkg("base_lib", "1.0.0"))
	f.Publish(alice, pkg("base_lib", "2.0.0"))
	f.Publish(alice, withDeps("app", "1.0.0", map[string]string{"base-lib": "^1.0.0"}))
	f.Publish(alice, withDeps("app", "1.1.0", map[string]string{"base_lib": "^2.0.0"}))
	f.Publish(alice, withDeps("zed", "1.0.0", map[string]string{"base_lib": "*"}))
	f.Publish(alice, withDeps("tool", "1.0.0", map[string]string{}))
	f.Publish(alice, withFields("devonly", "1.0.0", map[string]any{"dev_dependencies": map[string]string{"base_lib": "*"}}))
	f.Publish(alice, withDeps("gone", "1.0.0", map[string]string{"base_lib": "*"}))
	if _, err := f.Service.DeletePackage(ctx, alice, "gone", ip); err != nil {
		t.Fatal(err)
	}

	show := func(ds []registry.Dependent) string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Name+"@"+d.Version+" "+d.Range)
		}
		return strings.Join(out, ", ")
	}
	tests := []struct{ name, want string }{
		{"BASE-LIB", "app@1.1.0 ^2.0.0, zed@1.0.0 *"},
		{"app", ""},
		{"ghost", ""},
	}
	for _, tt := range tests {
		ds, err := f.Service.Dependents(ctx, tt.name)
		if err != nil || ds == nil || show(ds) != tt.want {
			t.Errorf("Dependents(%s) = %q, %v; want %q", tt.name, show(ds), err, tt.want)
		}
	}
	// A deleted version no longer counts; the newest live one does.
	if _, err := f.Service.DeleteVersion(ctx, alice, "app", "1.1.0", ip); err != nil {
		t.Fatal(err)
	}
	if ds, _ := f.Service.Dependents(ctx, "base_lib"); show(ds) != "app@1.0.0 ^1.0.0, zed@1.0.0 *" {
		t.Errorf("after deleting app@1.1.0: %q", show(ds))
	}
}

func TestHistory(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	bob := f.SignUp("bob")
	f.Publish(alice, pkg("hist", "1.0.0"))
	f.Clock.Advance(time.Minute)
	f.Publish(alice, pkg("hist", "1.1.0"))
	f.Clock.Advance(time.Minute)
	steps := []func() error{
		func() error { _, err := f.Service.SetYanked(ctx, alice, "hist", "1.0.0", true, ip); return err },
		func() error { _, err := f.Service.SetYanked(ctx, alice, "hist", "1.0.0", false, ip); return err },
		func() error { _, err := f.Service.AddOwners(ctx, alice, "hist", []string{"bob"}, ip); return err },
		func() error { _, err := f.Service.RemoveOwners(ctx, bob, "hist", []string{"bob"}, ip); return err },
		func() error { _, err := f.Service.DeleteVersion(ctx, alice, "hist", "1.1.0", ip); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		f.Clock.Advance(time.Minute)
	}
	// Neither refusals, nor other packages, nor other actions show.
	f.TryPublish(bob, pkg("hist", "2.0.0"))
	if err := f.Store.AddAudit(ctx, &store.AuditEvent{At: f.Clock.Now(), Actor: "root", Action: "admin_note", Package: "hist",
		Target: "hist", Outcome: store.OutcomeSuccess}); err != nil {
		t.Fatal(err)
	}
	f.Publish(bob, pkg("other", "1.0.0"))

	actions := func(h *registry.HistoryPage) string {
		var out []string
		for _, e := range h.Events {
			out = append(out, e.Action+":"+e.Actor+":"+e.Target)
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		name          string
		limit, offset int
		kind          errs.Kind
		want          string
	}{
		{"HIST", 0, 0, success, "delete:alice:hist@1.1.0 owner_remove:bob:bob owner_add:alice:bob unyank:alice:hist@1.0.0 " +
			"yank:alice:hist@1.0.0 publish:alice:hist@1.1.0 publish:alice:hist@1.0.0"},
		{"hist", 2, 1, success, "owner_remove:bob:bob owner_add:alice:bob"},
		{"ghost", 0, 0, errs.NotFound, ""},
	}
	for _, tt := range tests {
		h, err := f.Service.History(ctx, tt.name, tt.limit, tt.offset)
		if !checkErr(t, "History("+tt.name+")", err, tt.kind, "") || err != nil {
			continue
		}
		if h.Name != "hist" || h.Total != 7 || actions(h) != tt.want {
			t.Errorf("History(%s) = %s (total %d): %q", tt.name, h.Name, h.Total, actions(h))
		}
	}
	h, _ := f.Service.History(ctx, "hist", 0, 0)
	if last := h.Events[len(h.Events)-1]; !last.At.Equal(registrytest.Start) {
		t.Errorf("first publish at %v", last.At)
	}
}

// TestFind checks the search filters: owner (any case, a leading @
// ignored), keyword and update period combine with the text, and a bad
// filter value is Invalid naming its field, for forms to show it there.
func TestFind(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	ann, ben := f.SignUp("ann"), f.SignUp("ben")
	f.Publish(ann, withFields("old_http", "1.0.0", map[string]any{"keywords": []string{"http"}}))
	f.Clock.Advance(40 * 24 * time.Hour)
	f.Publish(ann, withFields("mid_http", "1.0.0", map[string]any{"keywords": []string{"http"}}))
	f.Clock.Advance(10 * 24 * time.Hour)
	f.Publish(ben, withFields("new_http", "1.0.0", map[string]any{"keywords": []string{"http", "server"}}))
	f.Publish(ann, withFields("new_json", "1.0.0", map[string]any{"keywords": []string{"json"}}))
	for _, tt := range []struct {
		name  string
		q     registry.SearchQuery
		kind  errs.Kind
		field string
		want  string
	}{
		{"owner", registry.SearchQuery{Owner: "ANN", Sort: "name"}, success, "", "mid_http new_json old_http"},
		{"owner with @", registry.SearchQuery{Owner: "@ben"}, success, "", "new_http"},
		{"owner and text", registry.SearchQuery{Owner: "ann", Text: "http", Sort: "name"}, success, "", "mid_http old_http"},
		{"unknown owner", registry.SearchQuery{Owner: "nobody"}, success, "", ""},
		{"week", registry.SearchQuery{Updated: "week", Sort: "name"}, success, "", "new_http new_json"},
		{"month", registry.SearchQuery{Updated: "month", Keyword: "HTTP", Sort: "name"}, success, "", "mid_http new_http"},
		{"year, owner, keyword, text", registry.SearchQuery{Updated: "year", Owner: "ann", Keyword: "http", Text: "old"}, success, "", "old_http"},
		{"bad period", registry.SearchQuery{Updated: "decade"}, errs.Invalid, "updated", ""},
		{"long keyword", registry.SearchQuery{Keyword: strings.Repeat("k", 51)}, errs.Invalid, "keyword", ""},
		{"long owner", registry.SearchQuery{Owner: strings.Repeat("o", 101)}, errs.Invalid, "owner", ""},
		{"bad sort", registry.SearchQuery{Sort: "sideways"}, errs.Invalid, "sort", ""},
	} {
		res, err := f.Service.Find(ctx, tt.q)
		checkErr(t, tt.name, err, tt.kind, "")
		if err != nil {
			if got := errs.FieldOf(err); got != tt.field {
				t.Errorf("%s: field %q, want %q", tt.name, got, tt.field)
			}
			continue
		}
		if got := summaryNames(res.Packages); got != tt.want || res.Total != len(res.Packages) {
			t.Errorf("%s: %q (total %d), want %q", tt.name, got, res.Total, tt.want)
		}
	}
}
