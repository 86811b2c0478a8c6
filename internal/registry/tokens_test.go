package registry_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
)

var allScopes = []string{"publish", "yank", "owners"}

func TestAuthenticateHeader(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t, registrytest.SessionTimeout(time.Hour))
	alice := f.SignUp("alice")
	jwt := f.LoginToken("alice")
	_, tok := f.Token(alice, registry.TokenRequest{Scopes: []string{"yank", "publish"}, Packages: []string{"alice-*"}})
	_, revoked := f.Token(alice, registry.TokenRequest{Scopes: []string{"publish"}})
	if err := f.Service.RevokeToken(ctx, alice, revoked.ID, ip); err != nil {
		t.Fatal(err)
	}
	_, expiring := f.Token(alice, registry.TokenRequest{Scopes: []string{"publish"}, ExpiresInDays: 1})
	unknown, _, _ := auth.NewToken()
	other, _ := auth.NewSigner([]byte("another-secret-0123456789abcdef"), time.Hour)
	forged, _, _ := other.Issue(auth.Claims{UserID: alice.UserID, Username: "alice", Role: auth.RoleAdmin, CredVersion: 1})

	tests := []struct {
		name   string
		header string
		kind   errs.Kind
		msg    string
		via    auth.Via // "" for anonymous
	}{
		{"no header", "", success, "", ""},
		{"another scheme", "Token " + jwt, errs.Unauthenticated, "Bearer", ""},
		{"no credential", "Bearer ", errs.Unauthenticated, "Bearer", ""},
		{"scheme alone", "Bearer", errs.Unauthenticated, "Bearer", ""},
		{"garbage", "Bearer not-a-token", errs.Unauthenticated, "", ""},
		{"login token", "Bearer " + jwt, success, "", auth.ViaJWT},
		{"scheme in lower case, padded", "  bearer   " + jwt + " ", success, "", auth.ViaJWT},
		{"login token signed with another secret", "Bearer " + forged, errs.Unauthenticated, "signature", ""},
		{"API token", "Bearer " + tok.Secret, success, "", auth.ViaToken},
		{"unknown API token", "Bearer " + unknown, errs.Unauthenticated, "unknown API token", ""},
		{"revoked API token", "Bearer " + revoked.Secret, errs.Unauthenticated, "revoked", ""},
		{"API token before its expiry", "Bearer " + expiring.Secret, success, "", auth.ViaToken},
	}
	for _, tt := range tests {
		p, err := f.Service.AuthenticateHeader(ctx, tt.header)
		if !checkErr(t, tt.name, err, tt.kind, tt.msg) || err != nil {
			continue
		}
		if tt.via == "" {
			if p != nil {
				t.Errorf("%s: principal %+v, want anonymous", tt.name, p)
			}
			continue
		}
		if p == nil || p.UserID != alice.UserID || p.Username != "alice" || p.Role != auth.RoleUser || p.Via != tt.via {
			t.Errorf("%s: principal %+v", tt.name, p)
		}
	}

	p := f.Authenticate(tok.Secret)
	if p.TokenID != tok.ID || !slices.Equal(p.Scopes, []auth.Scope{auth.ScopePublish, auth.ScopeYank}) || !slices.Equal(p.Packages, []string{"alice-*"}) {
		t.Errorf("token principal: %+v", p)
	}

	// Time runs out for the login token and the day-long API token.
	f.Clock.Advance(time.Hour + time.Second)
	_, err := f.Service.AuthenticateHeader(ctx, "Bearer "+jwt)
	checkErr(t, "expired login token", err, errs.Unauthenticated, "expired")
	f.Clock.Advance(24 * time.Hour)
	_, err = f.Service.AuthenticateHeader(ctx, "Bearer "+expiring.Secret)
	checkErr(t, "expired API token", err, errs.Unauthenticated, "expired")
	_, err = f.Service.AuthenticateHeader(ctx, "Bearer "+tok.Secret)
	checkErr(t, "token without expiry a day later", err, success, "")

	// An account disabled in the store, its tokens still live, is refused.
	u, _ := f.Store.GetUser(ctx, alice.UserID)
	u.Disabled = true
	if err := f.Store.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	_, err = f.Service.AuthenticateHeader(ctx, "Bearer "+tok.Secret)
	checkErr(t, "token of a disabled account", err, errs.Forbidden, "disabled")
}

func TestTokenLastUsed(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	_, tok := f.Token(alice, registry.TokenRequest{Scopes: []string{"publish"}})
	lastUsed := func() *time.Time {
		ts, err := f.Service.Tokens(ctx, alice)
		if err != nil || len(ts) != 1 {
			t.Fatalf("tokens: %+v, %v", ts, err)
		}
		return ts[0].LastUsedAt
	}
	if tok.LastUsedAt != nil {
		t.Errorf("new token used at %v", tok.LastUsedAt)
	}
	f.Authenticate(tok.Secret) // Token used it once, at Start.
	if at := lastUsed(); at == nil || !at.Equal(registrytest.Start) {
		t.Fatalf("last used = %v, want %v", at, registrytest.Start)
	}
	// Uses within a minute are not written again.
	f.Clock.Advance(30 * time.Second)
	f.Authenticate(tok.Secret)
	if at := lastUsed(); !at.Equal(registrytest.Start) {
		t.Errorf("last used rewritten after 30 s: %v", at)
	}
	f.Clock.Advance(time.Minute)
	f.Authenticate(tok.Secret)
	if at := lastUsed(); !at.Equal(registrytest.Start.Add(90 * time.Second)) {
		t.Errorf("last used after 90 s = %v", at)
	}
}

func TestCreateToken(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	tokP, _ := f.Token(alice, registry.TokenRequest{Scopes: allScopes})
	many := make([]string, 51)
	for i := range many {
		many[i] = "p" + strings.Repeat("x", i)
	}
	tests := []struct {
		name string
		p    *auth.Principal
		r    registry.TokenRequest
		kind errs.Kind
		msg  string
	}{
		{"anonymous", nil, registry.TokenRequest{Name: "ci", Scopes: []string{"publish"}}, errs.Unauthenticated, ""},
		{"with an API token", tokP, registry.TokenRequest{Name: "ci", Scopes: []string{"publish"}}, errs.Forbidden, "API tokens"},
		{"no name", alice, registry.TokenRequest{Name: "  ", Scopes: []string{"publish"}}, errs.Invalid, "name"},
		{"long name", alice, registry.TokenRequest{Name: strings.Repeat("n", 65), Scopes: []string{"publish"}}, errs.Invalid, "name"},
		{"no scope", alice, registry.TokenRequest{Name: "ci"}, errs.Invalid, "scope"},
		{"unknown scope", alice, registry.TokenRequest{Name: "ci", Scopes: []string{"root"}}, errs.Invalid, "root"},
		{"bad package pattern", alice, registry.TokenRequest{Name: "ci", Scopes: []string{"publish"}, Packages: []string{"UPPER"}}, errs.Invalid, "UPPER"},
		{"51 packages", alice, registry.TokenRequest{Name: "ci", Scopes: []string{"publish"}, Packages: many}, errs.Invalid, "50"},
		{"too long a life", alice, registry.TokenRequest{Name: "ci", Scopes: []string{"publish"}, ExpiresInDays: 366}, errs.Invalid, "expires_in_days"},
		{"negative life", alice, registry.TokenRequest{Name: "ci", Scopes: []string{"publish"}, ExpiresInDays: -1}, errs.Invalid, "expires_in_days"},
	}
	for _, tt := range tests {
		_, err := f.Service.CreateToken(ctx, tt.p, tt.r, ip)
		checkErr(t, tt.name, err, tt.kind, tt.msg)
	}

	tok, err := f.Service.CreateToken(ctx, alice, registry.TokenRequest{Name: " ci ", Scopes: []string{"owners", "publish", "publish"},
		Packages: []string{"alice-*", "tools"}, ExpiresInDays: 30}, ip)
	if !checkErr(t, "valid", err, success, "") {
		return
	}
	if !auth.LooksLikeToken(tok.Secret) || tok.Name != "ci" || !slices.Equal(tok.Scopes, []string{"publish", "owners"}) ||
		!slices.Equal(tok.Packages, []string{"alice-*", "tools"}) || tok.ExpiresAt == nil ||
		!tok.ExpiresAt.Equal(registrytest.Start.Add(30*24*time.Hour)) || !tok.CreatedAt.Equal(registrytest.Start) {
		t.Errorf("created %+v", tok)
	}
	// Only the hash is stored.
	st, err := f.Store.GetTokenByHash(ctx, auth.HashToken(tok.Secret))
	if err != nil || st.Hash == tok.Secret || st.ID != tok.ID {
		t.Errorf("stored token: %+v, %v", st, err)
	}
	root := f.Admin("root")
	if ev, _ := f.Service.Audit(ctx, root, registry.AuditQuery{Action: "token_create"}); ev.Total != 2 || ev.Events[0].Detail != "scopes publish,owners" {
		t.Errorf("token_create events: %+v", ev)
	}
}

func TestTokenLimit(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	var last *registry.NewToken
	for range 100 {
		_, last = f.Token(alice, registry.TokenRequest{Scopes: []string{"publish"}})
	}
	_, err := f.Service.CreateToken(ctx, alice, registry.TokenRequest{Name: "one more", Scopes: []string{"publish"}}, ip)
	checkErr(t, "101st token", err, errs.Conflict, "100")
	// Revoking one makes room.
	if err := f.Service.RevokeToken(ctx, alice, last.ID, ip); err != nil {
		t.Fatal(err)
	}
	_, err = f.Service.CreateToken(ctx, alice, registry.TokenRequest{Name: "one more", Scopes: []string{"publish"}}, ip)
	checkErr(t, "after a revocation", err, success, "")
	// The limit is per user.
	_, err = f.Service.CreateToken(ctx, f.SignUp("bob"), registry.TokenRequest{Name: "bob's", Scopes: []string{"publish"}}, ip)
	checkErr(t, "another user", err, success, "")
}

// Expired tokens are not listed, so they do not count against the limit
// either: a user is never told to revoke tokens they cannot see.
func TestTokenLimitCountsLiveTokens(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	for range 100 {
		f.Token(alice, registry.TokenRequest{Scopes: []string{"publish"}, ExpiresInDays: 1})
	}
	f.Clock.Advance(48 * time.Hour)
	if ts, err := f.Service.Tokens(ctx, alice); err != nil || len(ts) != 0 {
		t.Fatalf("tokens after they expired: %d, %v", len(ts), err)
	}
	_, err := f.Service.CreateToken(ctx, alice, registry.TokenRequest{Name: "fresh", Scopes: []string{"publish"}}, ip)
	checkErr(t, "a token once the others expired", err, success, "")
}

func TestTokensAndRevokeToken(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	bob := f.SignUp("bob")
	tokP, first := f.Token(alice, registry.TokenRequest{Name: "first", Scopes: []string{"publish"}})
	f.Token(alice, registry.TokenRequest{Name: "short", Scopes: []string{"publish"}, ExpiresInDays: 1})
	_, second := f.Token(alice, registry.TokenRequest{Name: "second", Scopes: []string{"yank"}})
	_, bobs := f.Token(bob, registry.TokenRequest{Name: "bob's", Scopes: []string{"publish"}})

	names := func(p *auth.Principal) string {
		ts, err := f.Service.Tokens(ctx, p)
		if err != nil {
			t.Fatalf("tokens of %s: %v", p.Username, err)
		}
		var out []string
		for _, tk := range ts {
			out = append(out, tk.Name)
		}
		return strings.Join(out, " ")
	}
	if got := names(alice); got != "second short first" {
		t.Errorf("alice's tokens = %q, want newest first", got)
	}
	_, err := f.Service.Tokens(ctx, nil)
	checkErr(t, "tokens, anonymous", err, errs.Unauthenticated, "")
	_, err = f.Service.Tokens(ctx, tokP)
	checkErr(t, "tokens with an API token", err, errs.Forbidden, "API tokens")
	// Expired tokens are not listed.
	f.Clock.Advance(25 * time.Hour)
	if got := names(alice); got != "second first" {
		t.Errorf("alice's tokens a day later = %q", got)
	}

	tests := []struct {
		name string
		p    *auth.Principal
		id   int64
		kind errs.Kind
	}{
		{"anonymous", nil, first.ID, errs.Unauthenticated},
		// An API token may revoke itself, and no other token.
		{"another token with an API token", tokP, second.ID, errs.Forbidden},
		{"someone else's token", bob, first.ID, errs.NotFound},
		{"unknown id", alice, 9999, errs.NotFound},
		{"an API token itself", tokP, first.ID, success},
		{"again", alice, first.ID, errs.NotFound},
	}
	for _, tt := range tests {
		checkErr(t, "revoke: "+tt.name, f.Service.RevokeToken(ctx, tt.p, tt.id, ip), tt.kind, "")
	}
	// RevokeOwnToken: only an API token has itself to revoke; a revoked
	// one is refused as any revoked credential is.
	_, err = f.Service.RevokeOwnToken(ctx, alice, ip)
	checkErr(t, "revoke own token with a login", err, errs.Invalid, "DELETE /api/tokens/{id}")
	_, err = f.Service.RevokeOwnToken(ctx, nil, ip)
	checkErr(t, "revoke own token anonymously", err, errs.Unauthenticated, "")
	_, err = f.Service.RevokeOwnToken(ctx, tokP, ip)
	checkErr(t, "revoke own token again", err, errs.Unauthenticated, "already revoked")
	_, err = f.Service.AuthenticateHeader(ctx, "Bearer "+first.Secret)
	checkErr(t, "revoked token", err, errs.Unauthenticated, "revoked")
	for _, tk := range []*registry.NewToken{second, bobs} {
		if _, err := f.Service.AuthenticateHeader(ctx, "Bearer "+tk.Secret); err != nil {
			t.Errorf("token %s refused after another was revoked: %v", tk.Name, err)
		}
	}
	if got := names(alice); got != "second" {
		t.Errorf("alice's tokens after the revocation = %q", got)
	}
}

// TestTokenLimits checks that an API token does only what its scopes and
// package patterns allow, and never carries admin rights.
func TestTokenLimits(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	bob := f.SignUp("bob")
	root := f.Admin("root")
	f.Publish(alice, pkg("alice-lib", "1.0.0"))
	f.Publish(alice, pkg("tools", "1.0.0"))
	f.Publish(bob, pkg("bobs", "1.0.0"))
	token := func(p *auth.Principal, scopes []string, pkgs ...string) *auth.Principal {
		tp, _ := f.Token(p, registry.TokenRequest{Scopes: scopes, Packages: pkgs})
		return tp
	}
	noPublish := token(alice, []string{"yank", "owners"})
	noYank := token(alice, []string{"publish", "owners"})
	noOwners := token(alice, []string{"publish", "yank"})
	onlyAlice := token(alice, allScopes, "alice-*")
	full := token(alice, allScopes)
	rootToken := token(root, allScopes)

	tests := []struct {
		name string
		call func() error
		kind errs.Kind
		msg  string
	}{
		{"publish without the scope", func() error { _, err := f.TryPublish(noPublish, pkg("tools", "1.1.0")); return err }, errs.Forbidden, `"publish"`},
		{"publish within the patterns, other spelling", func() error { _, err := f.TryPublish(onlyAlice, pkg("alice_lib", "1.1.0")); return err }, success, ""},
		{"publish a new name within the patterns", func() error { _, err := f.TryPublish(onlyAlice, pkg("alice-new", "1.0.0")); return err }, success, ""},
		{"publish outside the patterns", func() error { _, err := f.TryPublish(onlyAlice, pkg("tools", "1.1.0")); return err }, errs.Forbidden, "alice-*"},
		{"publish with every scope", func() error { _, err := f.TryPublish(full, pkg("tools", "1.2.0")); return err }, success, ""},
		{"yank without the scope", func() error {
			_, err := f.Service.SetYanked(ctx, noYank, "tools", "1.0.0", true, ip)
			return err
		}, errs.Forbidden, `"yank"`},
		{"yank outside the patterns", func() error {
			_, err := f.Service.SetYanked(ctx, onlyAlice, "tools", "1.0.0", true, ip)
			return err
		}, errs.Forbidden, "alice-*"},
		{"delete without the publish scope", func() error {
			_, err := f.Service.DeleteVersion(ctx, noPublish, "tools", "1.0.0", ip)
			return err
		}, errs.Forbidden, `"publish"`},
		{"delete a package without the publish scope", func() error {
			_, err := f.Service.DeletePackage(ctx, noPublish, "tools", ip)
			return err
		}, errs.Forbidden, `"publish"`},
		{"add owners without the scope", func() error {
			_, err := f.Service.AddOwners(ctx, noOwners, "tools", []string{"bob"}, ip)
			return err
		}, errs.Forbidden, `"owners"`},
		{"remove owners without the scope", func() error {
			_, err := f.Service.RemoveOwners(ctx, noOwners, "tools", []string{"alice"}, ip)
			return err
		}, errs.Forbidden, `"owners"`},
		{"admin's token on someone else's package", func() error {
			_, err := f.Service.SetYanked(ctx, rootToken, "bobs", "1.0.0", true, ip)
			return err
		}, errs.Forbidden, "owner"},
		{"admin's token on admin pages", func() error { _, err := f.Service.ListUsers(ctx, rootToken, "", 0, 0); return err }, errs.Forbidden, "admin"},
	}
	for _, tt := range tests {
		checkErr(t, tt.name, tt.call(), tt.kind, tt.msg)
	}
	if v, err := f.Service.Version(ctx, "tools", "1.0.0"); err != nil || v.Yanked {
		t.Errorf("tools@1.0.0 after refused yanks: %+v, %v", v, err)
	}
}
