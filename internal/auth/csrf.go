package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// CSRF protection for the web interface's state-changing forms comes in two
// forms, both keyed by a server secret shared by every instance:
//
//   - Logged-in forms (upload, tokens, owners, logout, …) use CSRFToken: an
//     HMAC of the session id, rendered into a hidden field and checked with
//     CheckCSRF. Nothing extra is stored, and an attacker who cannot read
//     the HttpOnly session cookie cannot compute it.
//   - Anonymous forms (login, register) have no session yet, so they use a
//     signed double submit: NewCSRFCookie makes a random value for a cookie
//     (set it with SessionCookie), AnonCSRFToken goes into the form, and
//     CheckAnonCSRF compares them. Signing the value means a cookie planted
//     from a sibling subdomain is useless without the key.
//
// The labels keep the two kinds of token from ever standing in for each other.
const (
	csrfSessionLabel = "dryad-csrf-session\x00"
	csrfAnonLabel    = "dryad-csrf-anon\x00"
)

// CSRFToken returns the CSRF token for forms shown in the session sessionID.
func CSRFToken(key []byte, sessionID string) string {
	return csrfMAC(key, csrfSessionLabel, sessionID)
}

// CheckCSRF reports, in constant time, whether token is the CSRF token of
// the session sessionID.
func CheckCSRF(key []byte, sessionID, token string) bool {
	return checkCSRF(key, csrfSessionLabel, sessionID, token)
}

// NewCSRFCookie returns a fresh random value for the anonymous CSRF cookie.
func NewCSRFCookie() (string, error) {
	v, err := randomSecret()
	if err != nil {
		return "", fmt.Errorf("auth: new CSRF cookie: %w", err)
	}
	return v, nil
}

// AnonCSRFToken returns the form token that goes with the anonymous CSRF
// cookie value cookieValue.
func AnonCSRFToken(key []byte, cookieValue string) string {
	return csrfMAC(key, csrfAnonLabel, cookieValue)
}

// CheckAnonCSRF reports, in constant time, whether the submitted form token
// goes with the anonymous CSRF cookie value cookieValue.
func CheckAnonCSRF(key []byte, cookieValue, token string) bool {
	return checkCSRF(key, csrfAnonLabel, cookieValue, token)
}

func csrfMAC(key []byte, label, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF refuses empty inputs outright: an empty key, cookie or token
// must never make a match possible.
func checkCSRF(key []byte, label, value, token string) bool {
	if len(key) == 0 || value == "" || token == "" {
		return false
	}
	return hmac.Equal([]byte(csrfMAC(key, label, value)), []byte(token))
}
