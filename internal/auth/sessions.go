package auth

import (
	"fmt"
	"net/http"
	"time"
)

// NewSessionID returns a fresh browser session id, for the cookie, and its
// hash, for the store: a copy of the session table then opens no session.
func NewSessionID() (id, hash string, err error) {
	id, err = randomSecret()
	if err != nil {
		return "", "", fmt.Errorf("auth: new session id: %w", err)
	}
	return id, HashSessionID(id), nil
}

// HashSessionID returns the hex SHA-256 of a session id, the form the store
// keeps and looks sessions up by.
func HashSessionID(id string) string { return sha256Hex(id) }

// SessionCookie returns a cookie carrying value for maxAge (0: until the
// browser closes). It is HttpOnly, so scripts cannot read it; SameSite=Lax,
// so other sites' forms and scripts do not send it (links still do); and
// Secure when secure is set, which the caller sets when served over HTTPS.
// It fits the session cookie and the anonymous CSRF cookie alike.
func SessionCookie(name, value string, secure bool, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
	if maxAge > 0 {
		// MaxAge alone: every current browser honours it, and it needs no
		// clock, unlike Expires.
		c.MaxAge = int(maxAge / time.Second)
	}
	return c
}

// ExpiredCookie returns a cookie that makes the browser delete the cookie
// name, for logout. The session must also be deleted from the store: a
// copied cookie would otherwise still work.
func ExpiredCookie(name string, secure bool) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		Expires:  time.Unix(0, 0).UTC(),
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
}
