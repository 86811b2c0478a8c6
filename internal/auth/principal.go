package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/dryad-lang/registry/internal/errs"
)

// Via says how a caller authenticated.
type Via string

// The ways a caller can authenticate.
const (
	ViaJWT     Via = "jwt"     // Authorization: Bearer <JWT from login>
	ViaToken   Via = "token"   // Authorization: Bearer oak_…
	ViaSession Via = "session" // browser session cookie
)

// Principal is an authenticated caller: the user, and for API tokens what
// the token is limited to.
type Principal struct {
	UserID   int64
	Username string
	Role     Role
	Via      Via
	// TokenID, Scopes and Packages are set only when Via is ViaToken.
	// Packages holds patterns as ValidatePackagePattern accepts them; empty
	// means every package the user may change.
	TokenID  int64
	Scopes   []Scope
	Packages []string
}

// IsAdmin reports whether p may use admin rights. API tokens never carry
// them, whatever their owner's role: a token leaked from a CI job must not
// be able to administer the registry, so admin work needs a login.
func (p *Principal) IsAdmin() bool {
	return p != nil && p.Role == RoleAdmin && p.Via != ViaToken
}

// Require returns nil when p may perform an action that needs scope on the
// package pkg. Logins have every scope; an API token must hold scope and, if
// it is restricted to some packages, pkg must match one of them. pkg ""
// names an action on no particular package and checks the scope alone. The
// errors are errs.Forbidden and name what the token lacks. Require checks
// only the credential: whether the user owns pkg is the registry's question.
func (p *Principal) Require(scope Scope, pkg string) error {
	if p == nil {
		return errs.New(errs.Unauthenticated, "log in or send an API token to do this")
	}
	if p.Via != ViaToken {
		return nil
	}
	if !slices.Contains(p.Scopes, scope) {
		return errs.New(errs.Forbidden, fmt.Sprintf("this API token lacks the %q scope; create a token with it", scope))
	}
	if pkg != "" && !MatchPackage(p.Packages, pkg) {
		return errs.New(errs.Forbidden, fmt.Sprintf("this API token is restricted to packages %s; %q is outside them",
			strings.Join(p.Packages, ", "), pkg))
	}
	return nil
}

// principalKey is the context key of the caller; unexported so that only
// WithPrincipal can set it.
type principalKey struct{}

// WithPrincipal returns a context that carries p as the caller.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the caller set by WithPrincipal, if any.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}
