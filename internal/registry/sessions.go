package registry

import (
	"context"
	"errors"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
)

// Session is a web session just opened.
type Session struct {
	// ID goes in the visitor's cookie; only its hash is stored.
	ID      string
	Expires time.Time
	User    User
}

// SignIn checks a username (or email) and password as Login does, with the
// same brute-force limits, and opens a web session for the user.
func (s *Service) SignIn(ctx context.Context, login, password, ip string) (*Session, error) {
	u, err := s.authenticate(ctx, login, password, ip)
	if err != nil {
		return nil, err
	}
	id, hash, err := auth.NewSessionID()
	if err != nil {
		return nil, err
	}
	now := s.utcNow()
	expires := now.Add(s.opts.SessionTimeout)
	err = s.store.CreateSession(ctx, &store.Session{IDHash: hash, UserID: u.ID, CredentialVersion: u.CredentialVersion, CreatedAt: now, ExpiresAt: expires})
	if err != nil {
		return nil, err
	}
	return &Session{ID: id, Expires: expires, User: newUser(u)}, nil
}

// SessionPrincipal returns the principal of a session cookie, or nil when
// the session is unknown, expired, revoked or its user disabled.
func (s *Service) SessionPrincipal(ctx context.Context, id string) (*auth.Principal, error) {
	if id == "" || len(id) > 128 {
		return nil, nil
	}
	sess, err := s.store.GetSession(ctx, auth.HashSessionID(id))
	if errors.Is(err, errs.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !s.utcNow().Before(sess.ExpiresAt) {
		s.store.DeleteSession(ctx, sess.IDHash)
		return nil, nil
	}
	u, err := s.store.GetUser(ctx, sess.UserID)
	if err != nil || u.Disabled || u.CredentialVersion != sess.CredentialVersion {
		return nil, nil
	}
	return &auth.Principal{UserID: u.ID, Username: u.Username, Role: auth.Role(u.Role), Via: auth.ViaSession}, nil
}

// EndSession invalidates a session on the server.
func (s *Service) EndSession(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	return s.store.DeleteSession(ctx, auth.HashSessionID(id))
}

// CleanSessions removes expired sessions.
func (s *Service) CleanSessions(ctx context.Context) {
	if n, err := s.store.DeleteExpiredSessions(ctx, s.utcNow()); err != nil {
		s.log.Warn("removing expired sessions", "err", err)
	} else if n > 0 {
		s.log.Debug("removed expired sessions", "count", n)
	}
}
