package registry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/ratelimit"
	"github.com/dryad-lang/registry/internal/store"
)

// User describes an account to its owner and to admins.
type User struct {
	ID          int64
	Username    string
	Email       string
	FullName    string
	Role        string
	Disabled    bool
	CreatedAt   time.Time
	LastLoginAt *time.Time
}

func newUser(u *store.User) User {
	return User{ID: u.ID, Username: u.Username, Email: u.Email, FullName: u.FullName, Role: u.Role,
		Disabled: u.Disabled, CreatedAt: u.CreatedAt, LastLoginAt: u.LastLoginAt}
}

// Registration is what a new user sends.
type Registration struct {
	Username string
	Email    string
	Password string
	FullName string
}

// Register creates an account.
func (s *Service) Register(ctx context.Context, r Registration, ip string) (*User, error) {
	r.Username = strings.TrimSpace(r.Username)
	r.Email = strings.TrimSpace(r.Email)
	r.FullName = strings.TrimSpace(r.FullName)
	if err := auth.ValidateUsername(r.Username); err != nil {
		return nil, errs.OnField(err, "username")
	}
	if err := auth.ValidateEmail(r.Email); err != nil {
		return nil, errs.OnField(err, "email")
	}
	if len(r.FullName) > 100 {
		return nil, errs.Field(errs.Invalid, "full_name", "full_name is limited to 100 characters")
	}
	if err := auth.CheckPasswordPolicy(r.Password, r.Username, r.Email); err != nil {
		return nil, errs.OnField(err, "password")
	}
	hash, err := s.hasher.Hash(r.Password)
	if err != nil {
		return nil, err
	}
	u := &store.User{Username: r.Username, Email: r.Email, FullName: r.FullName, PasswordHash: hash, Role: store.RoleUser, CreatedAt: s.utcNow()}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	s.totals.forget()
	s.audit(ctx, &store.AuditEvent{ActorID: u.ID, Actor: u.Username, IP: ip, Action: "register", Target: u.Username, Outcome: store.OutcomeSuccess})
	d := newUser(u)
	return &d, nil
}

// LoginResult is a successful login.
type LoginResult struct {
	Token     string
	ExpiresAt time.Time
	User      User
}

// errBadLogin is the one answer to a wrong username or password, so the
// two cannot be told apart.
// It is shown beside the password, the field a person retypes.
var errBadLogin = errs.Field(errs.Unauthenticated, "password", "wrong username or password")

// authenticate checks a username (or email) and password, with brute-force
// protection (see ratelimit.LoginPair): after too many failures of this
// address on this account, or of this address on any accounts, attempts
// are refused for a while even with the right password; an account under
// attack from many addresses refuses those that failed on it.
func (s *Service) authenticate(ctx context.Context, login, password, ip string) (*store.User, error) {
	login = strings.TrimSpace(login)
	valid := login != "" && password != "" && len(login) <= 254
	var u *store.User
	if valid {
		// The account first: its limits count it however it is spelled.
		var err error
		u, err = s.store.GetUserByLogin(ctx, login)
		if err != nil && !errors.Is(err, errs.NotFound) {
			return nil, err
		}
	}
	account := "name:" + strings.ToLower(login)
	if u != nil {
		account = "user:" + strconv.FormatInt(u.ID, 10)
	}
	pairKey := ratelimit.LoginPair.Key(account + "@" + ip)
	acctKey := ratelimit.LoginAccount.Key(account)
	ipKey := ratelimit.LoginClient.Key(ip)
	refuse := func(p ratelimit.Policy, retryAfter time.Duration) error {
		s.obs.RateLimited("login")
		s.audit(ctx, &store.AuditEvent{IP: ip, Action: "login", Target: login, Outcome: store.OutcomeDenied, Detail: "too many failed attempts (" + p.Name + ")"})
		return errs.RateLimit(retryAfter, fmt.Sprintf("too many failed login attempts for the %s limit (%s); try again in %s s",
			p.Name, p.Describe(), ratelimit.RetrySeconds(retryAfter)))
	}
	peek := func(key string, p ratelimit.Policy) (ratelimit.Result, bool) {
		r, err := s.limiter.Peek(ctx, key, p.Limit)
		if err != nil {
			s.log.WarnContext(ctx, "login rate limit unavailable", "err", err)
			return ratelimit.Result{Allowed: true, Remaining: p.Limit.Burst}, false
		}
		return r, true
	}
	if r, _ := peek(ipKey, ratelimit.LoginClient); !r.Allowed {
		return nil, refuse(ratelimit.LoginClient, r.RetryAfter)
	}
	pair, pairKnown := peek(pairKey, ratelimit.LoginPair)
	if !pair.Allowed {
		return nil, refuse(ratelimit.LoginPair, pair.RetryAfter)
	}
	if r, _ := peek(acctKey, ratelimit.LoginAccount); !r.Allowed && pairKnown && pair.Remaining < ratelimit.LoginPair.Limit.Burst {
		return nil, refuse(ratelimit.LoginAccount, r.RetryAfter)
	}
	fail := func(detail string) error {
		s.limiter.Allow(ctx, pairKey, ratelimit.LoginPair.Limit)
		s.limiter.Allow(ctx, acctKey, ratelimit.LoginAccount.Limit)
		s.limiter.Allow(ctx, ipKey, ratelimit.LoginClient.Limit)
		s.audit(ctx, &store.AuditEvent{IP: ip, Action: "login", Target: login, Outcome: store.OutcomeFailure, Detail: detail})
		return errBadLogin
	}
	switch {
	case !valid:
		s.hasher.VerifyDummy(password)
		return nil, fail("empty or oversized credentials")
	case u == nil:
		s.hasher.VerifyDummy(password)
		return nil, fail("no such user")
	case !s.hasher.Verify(u.PasswordHash, password):
		return nil, fail("wrong password")
	}
	if u.Disabled {
		s.audit(ctx, &store.AuditEvent{ActorID: u.ID, Actor: u.Username, IP: ip, Action: "login", Target: u.Username, Outcome: store.OutcomeDenied, Detail: "account disabled"})
		return nil, errs.New(errs.Forbidden, "this account is disabled; contact the registry's administrators")
	}
	if s.hasher.NeedsRehash(u.PasswordHash) {
		if h, err := s.hasher.Hash(password); err == nil {
			u.PasswordHash = h
			if err := s.store.UpdateUser(ctx, u); err != nil {
				s.log.WarnContext(ctx, "upgrading a password hash", "user", u.Username, "err", err)
			}
		}
	}
	if err := s.store.TouchLogin(ctx, u.ID, s.utcNow()); err != nil {
		s.log.WarnContext(ctx, "recording a login", "err", err)
	}
	s.audit(ctx, &store.AuditEvent{ActorID: u.ID, Actor: u.Username, IP: ip, Action: "login", Target: u.Username, Outcome: store.OutcomeSuccess})
	return u, nil
}

// Login authenticates and issues a login token (JWT).
func (s *Service) Login(ctx context.Context, login, password, ip string) (*LoginResult, error) {
	u, err := s.authenticate(ctx, login, password, ip)
	if err != nil {
		return nil, err
	}
	tok, exp, err := s.signer.Issue(auth.Claims{UserID: u.ID, Username: u.Username, Role: auth.Role(u.Role), CredVersion: u.CredentialVersion})
	if err != nil {
		return nil, err
	}
	return &LoginResult{Token: tok, ExpiresAt: exp, User: newUser(u)}, nil
}

// Profile returns the caller's account.
func (s *Service) Profile(ctx context.Context, p *auth.Principal) (*User, error) {
	if p == nil {
		return nil, errs.New(errs.Unauthenticated, "log in first")
	}
	u, err := s.store.GetUser(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	d := newUser(u)
	return &d, nil
}

// ChangePassword sets a new password after checking the old one, and
// revokes every login token, session and API token issued before.
func (s *Service) ChangePassword(ctx context.Context, p *auth.Principal, oldPassword, newPassword, ip string) error {
	if err := requireLogin(p, "change passwords"); err != nil {
		return err
	}
	u, err := s.store.GetUser(ctx, p.UserID)
	if err != nil {
		return err
	}
	if !s.hasher.Verify(u.PasswordHash, oldPassword) {
		s.audit(ctx, &store.AuditEvent{ActorID: u.ID, Actor: u.Username, IP: ip, Action: "password_change", Target: u.Username, Outcome: store.OutcomeFailure, Detail: "wrong current password"})
		return errs.Field(errs.Forbidden, "current_password", "the current password is wrong")
	}
	if err := auth.CheckPasswordPolicy(newPassword, u.Username, u.Email); err != nil {
		return errs.OnField(err, "new_password")
	}
	hash, err := s.hasher.Hash(newPassword)
	if err != nil {
		return err
	}
	now := s.utcNow()
	err = s.store.Transact(ctx, func(tx store.Queries) error {
		u.PasswordHash = hash
		u.CredentialVersion++
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.RevokeUserTokens(ctx, u.ID, now); err != nil {
			return err
		}
		if err := tx.DeleteUserSessions(ctx, u.ID); err != nil {
			return err
		}
		return tx.AddAudit(ctx, &store.AuditEvent{At: now, ActorID: u.ID, Actor: u.Username, IP: ip, Action: "password_change", Target: u.Username, Outcome: store.OutcomeSuccess})
	})
	return err
}
