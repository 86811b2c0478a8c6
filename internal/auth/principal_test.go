package auth

import (
	"context"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
)

func TestPrincipalRequire(t *testing.T) {
	login := &Principal{UserID: 1, Username: "alice", Role: RoleUser, Via: ViaJWT}
	session := &Principal{UserID: 1, Username: "alice", Role: RoleUser, Via: ViaSession}
	publishAll := &Principal{UserID: 1, Role: RoleUser, Via: ViaToken, TokenID: 9, Scopes: []Scope{ScopePublish}}
	yankMine := &Principal{UserID: 1, Role: RoleUser, Via: ViaToken, TokenID: 10,
		Scopes: []Scope{ScopeYank, ScopeOwners}, Packages: []string{"mylib-*", "tool"}}
	adminToken := &Principal{UserID: 2, Role: RoleAdmin, Via: ViaToken, TokenID: 11, Scopes: []Scope{ScopeYank}}

	for _, tc := range []struct {
		name  string
		p     *Principal
		scope Scope
		pkg   string
		want  *errs.Kind
		msg   string
	}{
		{"login publishes", login, ScopePublish, "anything", nil, ""},
		{"login yanks", login, ScopeYank, "anything", nil, ""},
		{"login manages owners", login, ScopeOwners, "", nil, ""},
		{"session publishes", session, ScopePublish, "anything", nil, ""},
		{"session yanks", session, ScopeYank, "other", nil, ""},
		{"publish token publishes", publishAll, ScopePublish, "anything", nil, ""},
		{"publish token cannot yank", publishAll, ScopeYank, "anything", kind(errs.Forbidden), `this API token lacks the "yank" scope`},
		{"publish token cannot manage owners", publishAll, ScopeOwners, "anything", kind(errs.Forbidden), `lacks the "owners" scope`},
		{"restricted token in pattern", yankMine, ScopeYank, "mylib-core", nil, ""},
		{"restricted token, underscore spelling", yankMine, ScopeYank, "mylib_core", nil, ""},
		{"restricted token, exact name", yankMine, ScopeOwners, "tool", nil, ""},
		{"restricted token outside", yankMine, ScopeYank, "other",
			kind(errs.Forbidden), `this API token is restricted to packages mylib-*, tool; "other" is outside them`},
		{"restricted token, bare prefix", yankMine, ScopeYank, "mylib", kind(errs.Forbidden), `"mylib" is outside them`},
		{"scope is checked before packages", yankMine, ScopePublish, "other", kind(errs.Forbidden), `lacks the "publish" scope`},
		{"no package checks the scope only", yankMine, ScopeOwners, "", nil, ""},
		{"admin token keeps its scopes", adminToken, ScopePublish, "anything", kind(errs.Forbidden), `lacks the "publish" scope`},
		{"no principal", nil, ScopePublish, "x", kind(errs.Unauthenticated), "log in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, tc.p.Require(tc.scope, tc.pkg), tc.want, tc.msg)
		})
	}
}

func TestPrincipalIsAdmin(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    *Principal
		want bool
	}{
		{"admin login", &Principal{Role: RoleAdmin, Via: ViaJWT}, true},
		{"admin session", &Principal{Role: RoleAdmin, Via: ViaSession}, true},
		{"admin's API token", &Principal{Role: RoleAdmin, Via: ViaToken, Scopes: []Scope{ScopePublish, ScopeYank, ScopeOwners}}, false},
		{"user login", &Principal{Role: RoleUser, Via: ViaJWT}, false},
		{"nil", nil, false},
	} {
		if got := tc.p.IsAdmin(); got != tc.want {
			t.Errorf("%s: IsAdmin = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPrincipalContext(t *testing.T) {
	if p, ok := FromContext(context.Background()); ok || p != nil {
		t.Errorf("empty context gave %v, %v", p, ok)
	}
	if p, ok := FromContext(WithPrincipal(context.Background(), nil)); ok || p != nil {
		t.Errorf("nil principal gave %v, %v", p, ok)
	}
	want := &Principal{UserID: 5, Username: "bob", Role: RoleUser, Via: ViaSession}
	got, ok := FromContext(WithPrincipal(context.Background(), want))
	if !ok || got != want {
		t.Errorf("FromContext = %v, %v; want %v", got, ok, want)
	}
}

func TestParseRole(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Role
		ok   bool
	}{
		{"user", RoleUser, true},
		{"admin", RoleAdmin, true},
		{"Admin", "", false},
		{"", "", false},
	} {
		got, err := ParseRole(tc.in)
		if tc.ok {
			checkErr(t, err, nil)
		} else {
			checkErr(t, err, kind(errs.Invalid), "unknown role")
		}
		if got != tc.want {
			t.Errorf("ParseRole(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
