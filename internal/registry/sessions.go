package registry

import (
	"context"
	"errors"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
)

// StartSession opens a web session for a user who just logged in and
// returns the session id for the cookie (only its hash is stored).
func (s *Service) StartSession(ctx context.Context, u *store.User) (id string, expires time.Time, err error) {
	id, hash, err := auth.NewSessionID()
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.utcNow()
	expires = now.Add(s.opts.SessionTimeout)
	err = s.store.CreateSession(ctx, &store.Session{IDHash: hash, UserID: u.ID, CredentialVersion: u.CredentialVersion, CreatedAt: now, ExpiresAt: expires})
	return id, expires, err
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

// CSRFToken is the CSRF token of a session's forms.
func (s *Service) CSRFToken(sessionID string) string {
	return auth.CSRFToken(s.opts.CSRFKey, sessionID)
}

// CheckCSRF checks a session form's CSRF token.
func (s *Service) CheckCSRF(sessionID, token string) bool {
	return auth.CheckCSRF(s.opts.CSRFKey, sessionID, token)
}

// AnonCSRFToken and CheckAnonCSRF protect forms shown before login
// (double-submit: a random cookie value and its signed form token).
func (s *Service) AnonCSRFToken(cookie string) string {
	return auth.AnonCSRFToken(s.opts.CSRFKey, cookie)
}

// CheckAnonCSRF checks an anonymous form's CSRF token against its cookie.
func (s *Service) CheckAnonCSRF(cookie, token string) bool {
	return auth.CheckAnonCSRF(s.opts.CSRFKey, cookie, token)
}

// CleanSessions removes expired sessions.
func (s *Service) CleanSessions(ctx context.Context) {
	if n, err := s.store.DeleteExpiredSessions(ctx, s.utcNow()); err != nil {
		s.log.Warn("removing expired sessions", "err", err)
	} else if n > 0 {
		s.log.Debug("removed expired sessions", "count", n)
	}
}
