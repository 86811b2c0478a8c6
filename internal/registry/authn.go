package registry

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
)

// touchInterval limits how often a token's last-used time is written.
const touchInterval = time.Minute

// AuthenticateHeader turns an Authorization header into a principal. An
// empty header is anonymous (nil, nil); anything else must be a valid
// "Bearer <login token or API token>".
func (s *Service) AuthenticateHeader(ctx context.Context, header string) (*auth.Principal, error) {
	if header == "" {
		return nil, nil
	}
	scheme, cred, ok := strings.Cut(strings.TrimSpace(header), " ")
	cred = strings.TrimSpace(cred)
	if !ok || !strings.EqualFold(scheme, "Bearer") || cred == "" {
		return nil, errs.New(errs.Unauthenticated, `the Authorization header must be "Bearer <token>"`)
	}
	if auth.LooksLikeToken(cred) {
		return s.authenticateToken(ctx, cred)
	}
	return s.authenticateJWT(ctx, cred)
}

func (s *Service) authenticateJWT(ctx context.Context, tok string) (*auth.Principal, error) {
	c, err := s.signer.Verify(tok)
	if err != nil {
		return nil, err
	}
	u, err := s.store.GetUser(ctx, c.UserID)
	if errors.Is(err, errs.NotFound) {
		return nil, errs.New(errs.Unauthenticated, "this login token's account no longer exists")
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, errs.New(errs.Forbidden, "this account is disabled; contact the registry's administrators")
	}
	if u.CredentialVersion != c.CredVersion {
		return nil, errs.New(errs.Unauthenticated, "this login token was revoked by a password change or by disabling the account; log in again")
	}
	return &auth.Principal{UserID: u.ID, Username: u.Username, Role: auth.Role(u.Role), Via: auth.ViaJWT}, nil
}

func (s *Service) authenticateToken(ctx context.Context, secret string) (*auth.Principal, error) {
	t, err := s.store.GetTokenByHash(ctx, auth.HashToken(secret))
	if errors.Is(err, errs.NotFound) {
		return nil, errs.New(errs.Unauthenticated, "unknown API token; create a new one in your dashboard")
	}
	if err != nil {
		return nil, err
	}
	now := s.utcNow()
	if t.RevokedAt != nil {
		return nil, errs.New(errs.Unauthenticated, "this API token was revoked")
	}
	if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) {
		return nil, errs.New(errs.Unauthenticated, "this API token expired on "+t.ExpiresAt.Format(time.DateOnly)+"; create a new one")
	}
	u, err := s.store.GetUser(ctx, t.UserID)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, errs.New(errs.Forbidden, "this account is disabled; contact the registry's administrators")
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > touchInterval {
		if err := s.store.TouchToken(ctx, t.ID, now); err != nil {
			s.log.WarnContext(ctx, "recording token use", "err", err)
		}
	}
	scopes := make([]auth.Scope, len(t.Scopes))
	for i, sc := range t.Scopes {
		scopes[i] = auth.Scope(sc)
	}
	return &auth.Principal{UserID: u.ID, Username: u.Username, Role: auth.Role(u.Role), Via: auth.ViaToken,
		TokenID: t.ID, Scopes: scopes, Packages: t.Packages}, nil
}

// Token describes an API token, never its secret.
type Token struct {
	ID         int64
	Name       string
	Scopes     []string
	Packages   []string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time
}

// NewToken is a token just created: the only time its secret is shown.
type NewToken struct {
	Token
	// Secret is the token itself (oak_…), stored only as a hash.
	Secret string
}

// TokenRequest asks for a new API token.
type TokenRequest struct {
	Name          string
	Scopes        []string
	Packages      []string
	ExpiresInDays int
}

func newToken(t *store.Token) Token {
	d := Token{ID: t.ID, Name: t.Name, Scopes: t.Scopes, Packages: t.Packages, CreatedAt: t.CreatedAt,
		LastUsedAt: t.LastUsedAt, ExpiresAt: t.ExpiresAt}
	if d.Scopes == nil {
		d.Scopes = []string{}
	}
	if d.Packages == nil {
		d.Packages = []string{}
	}
	return d
}

// maxTokensPerUser bounds how many live tokens one account may hold.
const maxTokensPerUser = 100

// requireLogin allows callers signed in with their password (login token or
// web session): API tokens never manage tokens or passwords, so a leaked
// token cannot mint others or lock its owner out.
func requireLogin(p *auth.Principal, what string) error {
	if p == nil {
		return errs.New(errs.Unauthenticated, "log in first")
	}
	if p.Via == auth.ViaToken {
		return errs.New(errs.Forbidden, "API tokens cannot "+what+"; log in with your password")
	}
	return nil
}

// CreateToken creates an API token for the caller.
func (s *Service) CreateToken(ctx context.Context, p *auth.Principal, r TokenRequest, ip string) (*NewToken, error) {
	if err := requireLogin(p, "create API tokens"); err != nil {
		return nil, err
	}
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" || len(r.Name) > 64 {
		return nil, errs.Field(errs.Invalid, "name", "name: give the token a name of 1 to 64 characters (e.g. \"ci\")")
	}
	scopes, err := auth.ParseScopes(r.Scopes)
	if err != nil {
		return nil, errs.OnField(err, "scopes")
	}
	if len(r.Packages) > 50 {
		return nil, errs.Field(errs.Invalid, "packages", "packages: at most 50 names or patterns")
	}
	for _, pat := range r.Packages {
		if err := auth.ValidatePackagePattern(pat); err != nil {
			return nil, errs.OnField(err, "packages")
		}
	}
	exp, err := auth.ExpiryFromDays(r.ExpiresInDays, s.utcNow())
	if err != nil {
		return nil, errs.OnField(err, "expires_in_days")
	}
	live, err := s.liveTokens(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	if len(live) >= maxTokensPerUser {
		return nil, errs.Errorf(errs.Conflict, "you have %d API tokens; revoke unused ones first", len(live))
	}
	secret, hash, err := auth.NewToken()
	if err != nil {
		return nil, err
	}
	t := &store.Token{UserID: p.UserID, Name: r.Name, Hash: hash, Packages: r.Packages, ExpiresAt: exp, CreatedAt: s.utcNow()}
	for _, sc := range scopes {
		t.Scopes = append(t.Scopes, string(sc))
	}
	if err := s.store.CreateToken(ctx, t); err != nil {
		return nil, err
	}
	s.audit(ctx, &store.AuditEvent{ActorID: p.UserID, Actor: p.Username, IP: ip, Action: "token_create", Target: r.Name,
		Outcome: store.OutcomeSuccess, Detail: "scopes " + strings.Join(t.Scopes, ",")})
	return &NewToken{Token: newToken(t), Secret: secret}, nil
}

// Tokens lists the caller's live tokens.
func (s *Service) Tokens(ctx context.Context, p *auth.Principal) ([]Token, error) {
	if err := requireLogin(p, "list API tokens"); err != nil {
		return nil, err
	}
	ts, err := s.liveTokens(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	out := []Token{}
	for i := range ts {
		out = append(out, newToken(&ts[i]))
	}
	return out, nil
}

// liveTokens are a user's tokens neither revoked nor expired: the ones the
// user sees, and the ones the limit on tokens counts.
func (s *Service) liveTokens(ctx context.Context, userID int64) ([]store.Token, error) {
	ts, err := s.store.ListTokens(ctx, userID)
	if err != nil {
		return nil, err
	}
	now := s.utcNow()
	return slices.DeleteFunc(ts, func(t store.Token) bool {
		return t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)
	}), nil
}

// RevokeToken revokes one of the caller's tokens at once.
func (s *Service) RevokeToken(ctx context.Context, p *auth.Principal, id int64, ip string) error {
	// A token may always revoke itself: giving up one's own credential
	// grants nothing, and it lets a command line log out without the
	// password.
	if p != nil && p.Via == auth.ViaToken && p.TokenID == id {
		_, err := s.RevokeOwnToken(ctx, p, ip)
		return err
	}
	if err := requireLogin(p, "revoke API tokens"); err != nil {
		return err
	}
	if err := s.store.RevokeToken(ctx, p.UserID, id, s.utcNow()); err != nil {
		if errors.Is(err, errs.NotFound) {
			return errs.Errorf(errs.NotFound, "you have no live API token with id %d", id)
		}
		return err
	}
	s.audit(ctx, &store.AuditEvent{ActorID: p.UserID, Actor: p.Username, IP: ip, Action: "token_revoke",
		Target: "token " + itoa(id), Outcome: store.OutcomeSuccess})
	return nil
}

// RevokeOwnToken revokes the API token the caller authenticated with and
// returns its id. Only an API token can do this: a login or a session has
// no token to give up (they sign out instead).
func (s *Service) RevokeOwnToken(ctx context.Context, p *auth.Principal, ip string) (int64, error) {
	if p == nil {
		return 0, errs.New(errs.Unauthenticated, "send the API token to revoke as a bearer token")
	}
	if p.Via != auth.ViaToken {
		return 0, errs.New(errs.Invalid, "only an API token can revoke itself; you are logged in with a password, so name the token: DELETE /api/tokens/{id}")
	}
	if err := s.store.RevokeToken(ctx, p.UserID, p.TokenID, s.utcNow()); err != nil {
		if errors.Is(err, errs.NotFound) {
			return 0, errs.New(errs.Unauthenticated, "this API token is already revoked or expired")
		}
		return 0, err
	}
	s.audit(ctx, &store.AuditEvent{ActorID: p.UserID, Actor: p.Username, IP: ip, Action: "token_revoke",
		Target: "token " + itoa(p.TokenID), Outcome: store.OutcomeSuccess})
	return p.TokenID, nil
}
