package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
)

// secretBytes is the entropy of every random secret the package makes
// (API tokens, session ids, CSRF cookies): 256 bits, beyond any guessing.
const secretBytes = 32

// lowerBase32 encodes secrets with the lower-case RFC 4648 alphabet and no
// padding: no look-alike characters to mistype, nothing to escape in a URL,
// a header or a cookie, and it survives a double-click selection.
var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// randomSecret returns secretBytes random bytes encoded with lowerBase32.
func randomSecret() (string, error) { return randomString(secretBytes) }

// randomString returns n random bytes encoded with lowerBase32.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return lowerBase32.EncodeToString(b), nil
}

// sha256Hex is how every high-entropy secret is stored: a plain SHA-256 is
// enough because the secrets are random, not chosen by people.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// isLowerBase32 reports whether s uses only the lowerBase32 alphabet.
func isLowerBase32(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}

// DeriveKey derives a key for one purpose from a configured secret (the
// JWT secret), so that one secret serves several uses without reusing a
// key: an HMAC of the purpose under the secret.
func DeriveKey(secret, purpose string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("dryad-registry " + purpose))
	return m.Sum(nil)
}
