package registry_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
)

func TestSignIn(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t, registrytest.SessionTimeout(2*time.Hour))
	alice := f.SignUp("alice")
	root := f.Admin("root")
	tests := []struct {
		name, login, password string
		kind                  errs.Kind
	}{
		{"wrong password", "alice", "wrong password!", errs.Unauthenticated},
		{"unknown user", "nobody", "wrong password!", errs.Unauthenticated},
		{"by email", "alice@example.org", registrytest.Password("alice"), success},
		{"by username", "Alice", registrytest.Password("alice"), success},
	}
	for _, tt := range tests {
		s, err := f.Service.SignIn(ctx, tt.login, tt.password, ip)
		if !checkErr(t, tt.name, err, tt.kind, "") || err != nil {
			continue
		}
		if s.ID == "" || s.User.Username != "alice" || !s.Expires.Equal(registrytest.Start.Add(2*time.Hour)) {
			t.Errorf("%s: session %+v", tt.name, s)
		}
		p, err := f.Service.SessionPrincipal(ctx, s.ID)
		if err != nil || p == nil || p.UserID != alice.UserID || p.Via != auth.ViaSession {
			t.Errorf("%s: session principal %+v, %v", tt.name, p, err)
		}
		// The store holds only the hash of the cookie.
		if _, err := f.Store.GetSession(ctx, s.ID); !errors.Is(err, errs.NotFound) {
			t.Errorf("%s: session stored under its clear id", tt.name)
		}
	}
	// A disabled account cannot sign in.
	yes := true
	if _, err := f.Service.UpdateUser(ctx, root, "alice", registry.UserChange{Disabled: &yes}, ip); err != nil {
		t.Fatal(err)
	}
	_, err := f.Service.SignIn(ctx, "alice", registrytest.Password("alice"), ip)
	checkErr(t, "disabled", err, errs.Forbidden, "disabled")
}

func TestSessionPrincipal(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t, registrytest.SessionTimeout(time.Hour))
	f.SignUp("alice")
	f.Admin("root")
	signIn := func(user string) string {
		s, err := f.Service.SignIn(ctx, user, registrytest.Password(user), ip)
		if err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	live := signIn("alice")
	ended := signIn("alice")
	if err := f.Service.EndSession(ctx, ended); err != nil {
		t.Fatal(err)
	}
	rootSession := signIn("root")

	tests := []struct {
		name, id string
		user     string // "" for no principal
	}{
		{"empty", "", ""},
		{"too long", strings.Repeat("a", 129), ""},
		{"unknown", "not-a-session", ""},
		{"ended", ended, ""},
		{"live", live, "alice"},
		{"admin's", rootSession, "root"},
	}
	for _, tt := range tests {
		p, err := f.Service.SessionPrincipal(ctx, tt.id)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		switch {
		case tt.user == "" && p != nil:
			t.Errorf("%s: principal %+v, want none", tt.name, p)
		case tt.user != "" && (p == nil || p.Username != tt.user || p.Via != auth.ViaSession):
			t.Errorf("%s: principal %+v, want %s", tt.name, p, tt.user)
		}
	}
	// A session signs in an admin with admin rights, unlike an API token.
	if p, _ := f.Service.SessionPrincipal(ctx, rootSession); !p.IsAdmin() {
		t.Error("admin's session has no admin rights")
	}
	if err := f.Service.EndSession(ctx, ""); err != nil {
		t.Errorf("ending no session: %v", err)
	}

	// A session is refused once the account's credentials changed, even
	// while its row is still stored.
	changed := signIn("alice")
	u, _ := f.Store.GetUserByName(ctx, "alice")
	u.CredentialVersion++
	if err := f.Store.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if p, err := f.Service.SessionPrincipal(ctx, changed); p != nil || err != nil {
		t.Errorf("session of older credentials: %+v, %v", p, err)
	}
	u.CredentialVersion--
	if err := f.Store.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}

	// An expired session is refused and forgotten.
	f.Clock.Advance(time.Hour)
	if p, err := f.Service.SessionPrincipal(ctx, live); p != nil || err != nil {
		t.Errorf("expired session: %+v, %v", p, err)
	}
	if _, err := f.Store.GetSession(ctx, auth.HashSessionID(live)); !errors.Is(err, errs.NotFound) {
		t.Errorf("expired session still stored: %v", err)
	}
}

func TestCleanSessions(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t, registrytest.SessionTimeout(time.Hour))
	f.SignUp("alice")
	signIn := func() string {
		s, err := f.Service.SignIn(ctx, "alice", registrytest.Password("alice"), ip)
		if err != nil {
			t.Fatal(err)
		}
		return s.ID
	}
	stored := func(id string) bool {
		_, err := f.Store.GetSession(ctx, auth.HashSessionID(id))
		return err == nil
	}
	old := signIn()
	f.Clock.Advance(40 * time.Minute)
	recent := signIn()
	f.Clock.Advance(30 * time.Minute) // old expired 10 minutes ago; recent has 30 left

	f.Service.CleanSessions(ctx)
	if stored(old) {
		t.Error("expired session kept")
	}
	if !stored(recent) {
		t.Error("live session removed")
	}
	if p, _ := f.Service.SessionPrincipal(ctx, recent); p == nil {
		t.Error("live session refused after cleaning")
	}
}
