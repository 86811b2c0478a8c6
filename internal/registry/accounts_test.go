package registry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
	"github.com/dryad-lang/registry/internal/store"
)

func TestRegister(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	tests := []struct {
		name                      string
		username, email, password string
		fullName                  string
		kind                      errs.Kind
		msg                       string
	}{
		{"short username", "al", "al@example.org", "long enough pass", "", errs.Invalid, "3 to 20"},
		{"long username", strings.Repeat("a", 21), "al@example.org", "long enough pass", "", errs.Invalid, "3 to 20"},
		{"space in username", "al ice", "al@example.org", "long enough pass", "", errs.Invalid, "letters"},
		{"bad email", "alice", "not-an-email", "long enough pass", "", errs.Invalid, "email"},
		{"email with a display name", "alice", "Alice <alice@example.org>", "long enough pass", "", errs.Invalid, "email"},
		{"full name too long", "alice", "alice@example.org", "long enough pass", strings.Repeat("x", 101), errs.Invalid, "full_name"},
		{"short password", "alice", "alice@example.org", "short", "", errs.Invalid, "8"},
		{"common password", "alice", "alice@example.org", "password", "", errs.Invalid, "common"},
		{"password is the email", "alice", "alice@example.org", "ALICE@example.org", "", errs.Invalid, "email"},
		{"password is the username", "alicealice", "alice@example.org", "AliceAlice", "", errs.Invalid, "username"},
		{"valid, padded", "  alice ", " alice@example.org ", "correct horse battery", " Alice A. ", success, ""},
		{"username taken in another case", "ALICE", "other@example.org", "correct horse battery", "", errs.Conflict, "taken"},
		{"email taken in another case", "bob", "Alice@Example.org", "correct horse battery", "", errs.Conflict, "email"},
	}
	for _, tt := range tests {
		u, err := f.Service.Register(ctx, registry.Registration{Username: tt.username, Email: tt.email, Password: tt.password, FullName: tt.fullName}, ip)
		if !checkErr(t, tt.name, err, tt.kind, tt.msg) || err != nil {
			continue
		}
		if u.ID == 0 || u.Username != "alice" || u.Email != "alice@example.org" || u.FullName != "Alice A." ||
			u.Role != "user" || u.Disabled || !u.CreatedAt.Equal(registrytest.Start) || u.LastLoginAt != nil {
			t.Errorf("%s: registered %+v", tt.name, u)
		}
	}
	// Only the valid registration made an account, and it was audited.
	root := f.Admin("root")
	users, err := f.Service.ListUsers(ctx, root, "", 0, 0)
	if err != nil || users.Total != 2 {
		t.Fatalf("users after the table: %+v, %v", users, err)
	}
	ev, err := f.Service.Audit(ctx, root, registry.AuditQuery{Action: "register", Actor: "alice"})
	if err != nil || ev.Total != 1 || ev.Events[0].IP != ip || ev.Events[0].Outcome != store.OutcomeSuccess {
		t.Errorf("register audit: %+v, %v", ev, err)
	}
}

func TestLogin(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t, registrytest.SessionTimeout(2*time.Hour))
	f.SignUp("alice")
	pw := registrytest.Password("alice")
	tests := []struct {
		name, login, password string
		kind                  errs.Kind
	}{
		{"username", "alice", pw, success},
		{"username in capitals", "ALICE", pw, success},
		{"email", "alice@example.org", pw, success},
		{"email in another case", "Alice@Example.ORG", pw, success},
		{"padded login", "  alice  ", pw, success},
		{"wrong password", "alice", "wrong password!", errs.Unauthenticated},
		{"unknown user", "nobody", pw, errs.Unauthenticated},
		{"empty login", "", pw, errs.Unauthenticated},
		{"empty password", "alice", "", errs.Unauthenticated},
		{"oversized login", strings.Repeat("a", 255), pw, errs.Unauthenticated},
	}
	for _, tt := range tests {
		res, err := f.Service.Login(ctx, tt.login, tt.password, ip)
		if !checkErr(t, tt.name, err, tt.kind, "") || err != nil {
			continue
		}
		if res.User.Username != "alice" || !res.ExpiresAt.Equal(registrytest.Start.Add(2*time.Hour)) {
			t.Errorf("%s: user %q, expires %v", tt.name, res.User.Username, res.ExpiresAt)
		}
		if p := f.Authenticate(res.Token); p.Username != "alice" || p.Via != auth.ViaJWT || p.Role != auth.RoleUser {
			t.Errorf("%s: token principal %+v", tt.name, p)
		}
	}

	// A wrong user and a wrong password get the same answer.
	_, a := f.Service.Login(ctx, "nobody", pw, ip)
	_, b := f.Service.Login(ctx, "alice", "wrong password!", ip)
	if errs.Message(a) != errs.Message(b) {
		t.Errorf("wrong user %q and wrong password %q differ", errs.Message(a), errs.Message(b))
	}

	// Failures are audited with the client address and the reason.
	root := f.Admin("root")
	ev, err := f.Service.Audit(ctx, root, registry.AuditQuery{Action: "login", Outcome: store.OutcomeFailure})
	if err != nil || ev.Total != 7 || ev.Events[0].IP != ip {
		t.Fatalf("failed logins audit: %+v, %v", ev, err)
	}
	details := map[string]int{}
	for _, e := range ev.Events {
		details[e.Detail]++
	}
	if details["wrong password"] != 2 || details["no such user"] != 2 || details["empty or oversized credentials"] != 3 {
		t.Errorf("failed logins' reasons: %v", details)
	}
}

func TestLoginRecordsAndUpgrades(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")

	// A login records its time.
	f.Clock.Advance(time.Hour)
	f.LoginToken("alice")
	u, err := f.Service.Profile(ctx, alice)
	if err != nil || u.LastLoginAt == nil || !u.LastLoginAt.Equal(registrytest.Start.Add(time.Hour)) {
		t.Fatalf("last login: %+v, %v", u, err)
	}

	// A hash made at another cost is redone at the service's cost.
	other, _ := auth.NewHasher(5)
	h, _ := other.Hash(registrytest.Password("alice"))
	su, _ := f.Store.GetUser(ctx, alice.UserID)
	su.PasswordHash = h
	if err := f.Store.UpdateUser(ctx, su); err != nil {
		t.Fatal(err)
	}
	f.LoginToken("alice")
	su, _ = f.Store.GetUser(ctx, alice.UserID)
	if su.PasswordHash == h || f.Hasher.NeedsRehash(su.PasswordHash) {
		t.Error("the cost-5 hash was not upgraded at login")
	}
	f.LoginToken("alice")
}

func TestLoginBruteForce(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	f.SignUp("victim")
	f.SignUp("alice")
	const a, b = "198.51.100.1", "198.51.100.2"
	right := registrytest.Password("victim")

	// Five failures of one address on one account, under both of its
	// spellings: the account counts as itself.
	for i := range 5 {
		login := "victim"
		if i%2 == 1 {
			login = registrytest.Email("victim")
		}
		_, err := f.Service.Login(ctx, login, "guess number "+string(rune('0'+i)), a)
		checkErr(t, "failure", err, errs.Unauthenticated, "")
	}
	// That address is refused for that account now, the right password
	// and any spelling included.
	for _, login := range []string{"VICTIM", registrytest.Email("victim"), "Victim@Example.org"} {
		_, err := f.Service.Login(ctx, login, right, a)
		if checkErr(t, "6th attempt as "+login, err, errs.RateLimited, "login:pair") {
			if d, ok := errs.RetryAfter(err); !ok || d <= 0 {
				t.Errorf("6th attempt: Retry-After %v %v", d, ok)
			}
		}
	}
	// Web sign-ins share the limit.
	_, err := f.Service.SignIn(ctx, "victim", right, a)
	checkErr(t, "sign-in after 5 failures", err, errs.RateLimited, "login:pair")
	// The owner, from their own address, is not locked out.
	_, err = f.Service.Login(ctx, "victim", right, b)
	checkErr(t, "the owner's address", err, success, "")
	// Another account from the same address still logs in.
	_, err = f.Service.Login(ctx, "alice", registrytest.Password("alice"), a)
	checkErr(t, "other account, same address", err, success, "")
	// The window passes.
	f.Clock.Advance(15 * time.Minute)
	_, err = f.Service.Login(ctx, "victim", right, a)
	checkErr(t, "after 15 minutes", err, success, "")

	// Many addresses, one guess each: past 20 failures on the account, an
	// address that failed on it is refused, and a fresh one still works.
	f.Clock.Advance(15 * time.Minute)
	for i := range 20 {
		_, err := f.Service.Login(ctx, "victim", "wrong password", fmt.Sprintf("203.0.113.%d", i))
		checkErr(t, "distributed failure", err, errs.Unauthenticated, "")
	}
	_, err = f.Service.Login(ctx, "victim", right, "203.0.113.3")
	checkErr(t, "an address that failed, account under attack", err, errs.RateLimited, "login:acct")
	_, err = f.Service.Login(ctx, "victim", "another guess", "203.0.113.50")
	checkErr(t, "a new address's first guess", err, errs.Unauthenticated, "")
	_, err = f.Service.Login(ctx, "victim", "and another", "203.0.113.50")
	checkErr(t, "its second guess", err, errs.RateLimited, "login:acct")
	_, err = f.Service.Login(ctx, "victim", right, b)
	checkErr(t, "the owner's address, account under attack", err, success, "")

	// 20 failures from one address, on as many names, close that address.
	const c, d = "198.51.100.3", "198.51.100.4"
	for i := range 20 {
		f.Service.Login(ctx, "ghost"+strings.Repeat("x", i), "wrong password", c)
	}
	_, err = f.Service.Login(ctx, "alice", registrytest.Password("alice"), c)
	checkErr(t, "after 20 failures from the address", err, errs.RateLimited, "login:ip")
	_, err = f.Service.Login(ctx, "alice", registrytest.Password("alice"), d)
	checkErr(t, "from another address", err, success, "")

	// Refusals are audited as denied.
	root := f.Admin("root")
	ev, err := f.Service.Audit(ctx, root, registry.AuditQuery{Action: "login", Outcome: store.OutcomeDenied})
	if err != nil || ev.Total == 0 || !strings.Contains(ev.Events[0].Detail, "too many") {
		t.Errorf("denied logins audit: %+v, %v", ev, err)
	}
}

func TestProfile(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	tok, _ := f.Token(alice, registry.TokenRequest{Scopes: []string{"publish"}})
	tests := []struct {
		name string
		p    *auth.Principal
		kind errs.Kind
	}{
		{"anonymous", nil, errs.Unauthenticated},
		{"login", alice, success},
		{"API token", tok, success},
	}
	for _, tt := range tests {
		u, err := f.Service.Profile(ctx, tt.p)
		if checkErr(t, tt.name, err, tt.kind, "") && err == nil && (u.Username != "alice" || u.Email != "alice@example.org" || u.ID != alice.UserID) {
			t.Errorf("%s: profile %+v", tt.name, u)
		}
	}
}

func TestChangePassword(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	jwt := f.LoginToken(f.SignUp("alice").Username)
	alice := f.Authenticate(jwt)
	tokP, tok := f.Token(alice, registry.TokenRequest{Scopes: []string{"publish"}})
	sess, err := f.Service.SignIn(ctx, "alice", registrytest.Password("alice"), ip)
	if err != nil {
		t.Fatal(err)
	}
	old, fresh := registrytest.Password("alice"), "a brand new passphrase"

	tests := []struct {
		name          string
		p             *auth.Principal
		current, next string
		kind          errs.Kind
		msg           string
	}{
		{"anonymous", nil, old, fresh, errs.Unauthenticated, ""},
		{"API token", tokP, old, fresh, errs.Forbidden, "API tokens"},
		{"wrong current password", alice, "not my password", fresh, errs.Forbidden, "current password"},
		{"weak new password", alice, old, "123456", errs.Invalid, ""},
		{"new password is the email", alice, old, "alice@example.org", errs.Invalid, "email"},
	}
	for _, tt := range tests {
		checkErr(t, tt.name, f.Service.ChangePassword(ctx, tt.p, tt.current, tt.next, ip), tt.kind, tt.msg)
	}
	// The refusals changed nothing.
	if _, err := f.Service.AuthenticateHeader(ctx, "Bearer "+jwt); err != nil {
		t.Fatalf("login token refused before the change: %v", err)
	}

	checkErr(t, "change", f.Service.ChangePassword(ctx, alice, old, fresh, ip), success, "")
	_, err = f.Service.AuthenticateHeader(ctx, "Bearer "+jwt)
	checkErr(t, "login token issued before", err, errs.Unauthenticated, "password change")
	_, err = f.Service.AuthenticateHeader(ctx, "Bearer "+tok.Secret)
	checkErr(t, "API token issued before", err, errs.Unauthenticated, "revoked")
	if p, err := f.Service.SessionPrincipal(ctx, sess.ID); p != nil || err != nil {
		t.Errorf("session opened before: %+v, %v", p, err)
	}
	if _, err := f.Store.GetSession(ctx, auth.HashSessionID(sess.ID)); !errors.Is(err, errs.NotFound) {
		t.Errorf("session opened before still stored: %v", err)
	}
	_, err = f.Service.Login(ctx, "alice", old, ip)
	checkErr(t, "old password", err, errs.Unauthenticated, "")
	res, err := f.Service.Login(ctx, "alice", fresh, ip)
	if !checkErr(t, "new password", err, success, "") {
		return
	}
	alice = f.Authenticate(res.Token)
	if ts, err := f.Service.Tokens(ctx, alice); err != nil || len(ts) != 0 {
		t.Errorf("tokens after the change: %+v, %v", ts, err)
	}
	root := f.Admin("root")
	for _, outcome := range []string{store.OutcomeFailure, store.OutcomeSuccess} {
		ev, err := f.Service.Audit(ctx, root, registry.AuditQuery{Action: "password_change", Outcome: outcome})
		if err != nil || ev.Total != 1 {
			t.Errorf("password_change %s events: %+v, %v", outcome, ev, err)
		}
	}
}

func TestListUsers(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	f.SignUp("alicia")
	f.SignUp("bob")
	root := f.Admin("root")
	rootToken, _ := f.Token(root, registry.TokenRequest{Scopes: []string{"publish", "yank", "owners"}})

	names := func(l *registry.UserList) string {
		var out []string
		for _, u := range l.Users {
			out = append(out, u.Username)
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		name          string
		p             *auth.Principal
		query         string
		limit, offset int
		kind          errs.Kind
		want          string
		total         int
	}{
		{"anonymous", nil, "", 0, 0, errs.Unauthenticated, "", 0},
		{"user", alice, "", 0, 0, errs.Forbidden, "", 0},
		{"admin's API token", rootToken, "", 0, 0, errs.Forbidden, "", 0},
		{"all", root, "", 0, 0, success, "alice alicia bob root", 4},
		{"by name", root, "ALI", 0, 0, success, "alice alicia", 2},
		{"by email", root, "bob@example", 0, 0, success, "bob", 1},
		{"a page", root, "", 1, 1, success, "alicia", 4},
		{"no match", root, "zzz", 0, 0, success, "", 0},
	}
	for _, tt := range tests {
		l, err := f.Service.ListUsers(ctx, tt.p, tt.query, tt.limit, tt.offset)
		if !checkErr(t, tt.name, err, tt.kind, "") || err != nil {
			continue
		}
		if names(l) != tt.want || l.Total != tt.total || l.Users == nil {
			t.Errorf("%s: %q (total %d), want %q (total %d)", tt.name, names(l), l.Total, tt.want, tt.total)
		}
	}
}

func TestUpdateUser(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	bob := f.SignUp("bob")
	bobJWT := f.LoginToken("bob")
	_, bobToken := f.Token(bob, registry.TokenRequest{Scopes: []string{"publish"}})
	bobSession, err := f.Service.SignIn(ctx, "bob", registrytest.Password("bob"), ip)
	if err != nil {
		t.Fatal(err)
	}
	root := f.Admin("root")
	yes, no := true, false
	role := func(s string) *string { return &s }

	tests := []struct {
		name   string
		p      *auth.Principal
		target string
		change registry.UserChange
		kind   errs.Kind
		msg    string
	}{
		{"anonymous", nil, "bob", registry.UserChange{Disabled: &yes}, errs.Unauthenticated, ""},
		{"not an admin", alice, "bob", registry.UserChange{Disabled: &yes}, errs.Forbidden, "admin"},
		{"unknown role", root, "bob", registry.UserChange{Role: role("king")}, errs.Invalid, "role"},
		{"unknown user", root, "ghost", registry.UserChange{Disabled: &yes}, errs.NotFound, "ghost"},
		{"disable oneself", root, "root", registry.UserChange{Disabled: &yes}, errs.Conflict, "themselves"},
		{"demote oneself", root, "ROOT", registry.UserChange{Role: role("user")}, errs.Conflict, "themselves"},
		{"keep one's own role", root, "root", registry.UserChange{Role: role("admin")}, success, ""},
	}
	for _, tt := range tests {
		_, err := f.Service.UpdateUser(ctx, tt.p, tt.target, tt.change, ip)
		checkErr(t, tt.name, err, tt.kind, tt.msg)
	}
	if u, _ := f.Service.Profile(ctx, bob); u.Disabled {
		t.Fatal("a refused change disabled bob")
	}

	// Disabling revokes everything bob holds.
	u, err := f.Service.UpdateUser(ctx, root, "bob", registry.UserChange{Disabled: &yes}, ip)
	if !checkErr(t, "disable", err, success, "") || !u.Disabled || u.Username != "bob" {
		t.Fatalf("disabled: %+v", u)
	}
	_, err = f.Service.AuthenticateHeader(ctx, "Bearer "+bobJWT)
	checkErr(t, "disabled user's login token", err, errs.Forbidden, "disabled")
	_, err = f.Service.AuthenticateHeader(ctx, "Bearer "+bobToken.Secret)
	checkErr(t, "disabled user's API token", err, errs.Unauthenticated, "revoked")
	if p, _ := f.Service.SessionPrincipal(ctx, bobSession.ID); p != nil {
		t.Error("disabled user's session still valid")
	}
	_, err = f.Service.Login(ctx, "bob", registrytest.Password("bob"), ip)
	checkErr(t, "disabled user's login", err, errs.Forbidden, "disabled")
	// Wrong passwords are still told apart from nothing.
	_, err = f.Service.Login(ctx, "bob", "wrong password!", ip)
	checkErr(t, "disabled user, wrong password", err, errs.Unauthenticated, "")

	// Enabling lets bob log in again; what was revoked stays revoked.
	u, err = f.Service.UpdateUser(ctx, root, "bob", registry.UserChange{Disabled: &no}, ip)
	if !checkErr(t, "enable", err, success, "") || u.Disabled {
		t.Fatalf("enabled: %+v", u)
	}
	if _, err := f.Service.AuthenticateHeader(ctx, "Bearer "+f.LoginToken("bob")); err != nil {
		t.Errorf("a new login after enabling: %v", err)
	}
	_, err = f.Service.AuthenticateHeader(ctx, "Bearer "+bobToken.Secret)
	checkErr(t, "revoked token after enabling", err, errs.Unauthenticated, "revoked")
	// A login token issued before the account was disabled stays refused,
	// as after a password change.
	_, err = f.Service.AuthenticateHeader(ctx, "Bearer "+bobJWT)
	checkErr(t, "login token from before the disabling, after enabling", err, errs.Unauthenticated, "")

	// A role change applies to login tokens already issued.
	u, err = f.Service.UpdateUser(ctx, root, "alice", registry.UserChange{Role: role("admin")}, ip)
	if !checkErr(t, "promote", err, success, "") || u.Role != "admin" {
		t.Fatalf("promoted: %+v", u)
	}
	if _, err := f.Service.ListUsers(ctx, f.Authenticate(f.LoginToken("alice")), "", 0, 0); err != nil {
		t.Errorf("promoted user's new login: %v", err)
	}
	ev, err := f.Service.Audit(ctx, root, registry.AuditQuery{Action: "admin_user_update", Actor: "root"})
	if err != nil || ev.Total < 3 {
		t.Fatalf("admin_user_update events: %+v, %v", ev, err)
	}
	if ev.Events[0].Target != "alice" || ev.Events[0].Detail != "role=admin" || ev.Events[1].Detail != "disabled=false " {
		t.Errorf("newest admin_user_update events: %+v", ev.Events[:2])
	}
}

func TestEnsureAdmin(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	bob := f.SignUp("bob")
	tests := []struct {
		name, username, email, password string
		kind                            errs.Kind
		created                         bool
	}{
		{"new account", "root", "root@example.org", "root's long password", success, true},
		{"already an admin", "root", "", "", success, false},
		{"existing user, any case", "ALICE", "", "", success, false},
		{"new account without a password", "carol", "carol@example.org", "", errs.Invalid, false},
		{"new account without an email", "dave", "", "dave's long password", errs.Invalid, false},
	}
	for _, tt := range tests {
		created, err := f.Service.EnsureAdmin(ctx, tt.username, tt.email, tt.password)
		if checkErr(t, tt.name, err, tt.kind, "") && created != tt.created {
			t.Errorf("%s: created = %v", tt.name, created)
		}
	}
	res, err := f.Service.Login(ctx, "root", "root's long password", ip)
	if err != nil || res.User.Role != "admin" {
		t.Fatalf("new admin's login: %+v, %v", res, err)
	}
	root := f.Authenticate(res.Token)
	if u, _ := f.Service.Profile(ctx, alice); u.Role != "admin" {
		t.Errorf("alice's role = %q", u.Role)
	}
	if l, _ := f.Service.ListUsers(ctx, root, "", 0, 0); l.Total != 3 {
		t.Errorf("refused creations made accounts: %d users", l.Total)
	}

	// A disabled account is enabled as it is promoted.
	yes := true
	if _, err := f.Service.UpdateUser(ctx, root, "bob", registry.UserChange{Disabled: &yes}, ip); err != nil {
		t.Fatal(err)
	}
	if created, err := f.Service.EnsureAdmin(ctx, "bob", "", ""); err != nil || created {
		t.Fatalf("promoting disabled bob: %v %v", created, err)
	}
	if u, _ := f.Service.Profile(ctx, bob); u.Disabled || u.Role != "admin" {
		t.Errorf("bob after EnsureAdmin: %+v", u)
	}
	ev, _ := f.Service.Audit(ctx, root, registry.AuditQuery{Actor: "create-admin"})
	if ev.Total != 3 {
		t.Errorf("create-admin events: %d, want 3 (root created, alice and bob promoted)", ev.Total)
	}
}

func TestAudit(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	bob := f.SignUp("bob")
	root := f.Admin("root")
	f.Publish(alice, pkg("my_lib", "1.0.0"))
	f.Clock.Advance(time.Minute)
	f.Publish(alice, pkg("my_lib", "1.1.0"))
	f.Publish(alice, pkg("other", "1.0.0"))
	if _, err := f.TryPublish(bob, pkg("my-lib", "2.0.0")); errs.KindOf(err) != errs.Forbidden {
		t.Fatalf("bob's publish: %v", err)
	}

	targets := func(p *registry.AuditPage) string {
		var out []string
		for _, e := range p.Events {
			out = append(out, e.Target)
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		name  string
		p     *auth.Principal
		q     registry.AuditQuery
		kind  errs.Kind
		want  string
		total int
	}{
		{"anonymous", nil, registry.AuditQuery{}, errs.Unauthenticated, "", 0},
		{"user", alice, registry.AuditQuery{}, errs.Forbidden, "", 0},
		{"a package in any spelling, newest first", root, registry.AuditQuery{Package: "MY_LIB", Action: "publish", Outcome: store.OutcomeSuccess}, success, "my_lib@1.1.0 my_lib@1.0.0", 2},
		{"denied", root, registry.AuditQuery{Action: "publish", Outcome: store.OutcomeDenied}, success, "my-lib@2.0.0", 1},
		{"by actor", root, registry.AuditQuery{Actor: "bob", Action: "publish"}, success, "my-lib@2.0.0", 1},
		{"a page", root, registry.AuditQuery{Action: "publish", Limit: 1, Offset: 1}, success, "other@1.0.0", 4},
	}
	for _, tt := range tests {
		page, err := f.Service.Audit(ctx, tt.p, tt.q)
		if !checkErr(t, tt.name, err, tt.kind, "") || err != nil {
			continue
		}
		if targets(page) != tt.want || page.Total != tt.total {
			t.Errorf("%s: %q (total %d), want %q (total %d)", tt.name, targets(page), page.Total, tt.want, tt.total)
		}
	}
	page, _ := f.Service.Audit(ctx, root, registry.AuditQuery{Package: "my-lib", Outcome: store.OutcomeSuccess, Limit: 1})
	if e := page.Events[0]; e.Actor != "alice" || e.ActorID != alice.UserID || e.IP != ip || e.Package != "my-lib" ||
		!e.At.Equal(registrytest.Start.Add(time.Minute)) || !strings.Contains(e.Detail, "sha256") {
		t.Errorf("publish event: %+v", e)
	}
}
