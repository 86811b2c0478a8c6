package auth

import (
	"fmt"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
)

// TokenPrefix starts every API token secret, so that people, secret
// scanners and the authenticator recognise one at a glance.
const TokenPrefix = "oak_"

// tokenLen is the length of a whole secret: the prefix and secretBytes in
// unpadded base32, five bits a character (52 characters).
const tokenLen = len(TokenPrefix) + (secretBytes*8+4)/5

// MaxTokenDays is the longest lifetime an API token may be given.
const MaxTokenDays = 365

// NewToken returns a fresh API token secret, to show its owner once, and
// the hash to store in its place.
func NewToken() (secret, hash string, err error) {
	r, err := randomSecret()
	if err != nil {
		return "", "", fmt.Errorf("auth: new token: %w", err)
	}
	secret = TokenPrefix + r
	return secret, HashToken(secret), nil
}

// HashToken returns the hex SHA-256 of secret: the form tokens are stored
// and looked up in. A fast hash suffices since secrets carry 256 random bits.
func HashToken(secret string) string { return sha256Hex(secret) }

// LooksLikeToken reports whether s has the shape of an API token secret
// (prefix, length, alphabet), telling tokens from JWTs without a lookup.
func LooksLikeToken(s string) bool {
	return len(s) == tokenLen && strings.HasPrefix(s, TokenPrefix) && isLowerBase32(s[len(TokenPrefix):])
}

// ExpiryFromDays turns expires_in_days into an expiry time: 0 means the
// token never expires, 1 to MaxTokenDays counts whole days from now, and
// anything else is an errs.Invalid error.
func ExpiryFromDays(days int, now time.Time) (*time.Time, error) {
	if days == 0 {
		return nil, nil
	}
	if days < 0 || days > MaxTokenDays {
		return nil, errs.New(errs.Invalid, fmt.Sprintf("expires_in_days must be between 1 and %d, or 0 for a token that does not expire", MaxTokenDays))
	}
	t := now.Add(time.Duration(days) * 24 * time.Hour)
	return &t, nil
}
