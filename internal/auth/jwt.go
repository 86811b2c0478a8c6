package auth

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dryad-lang/registry/internal/errs"
)

// DefaultSessionTimeout is how long a login JWT stays valid when
// SESSION_TIMEOUT is not configured.
const DefaultSessionTimeout = 7 * 24 * time.Hour

// MinJWTSecretBytes is the shortest HS256 secret accepted, the same floor
// internal/config applies to JWT_SECRET: anyone who guesses the secret can
// forge a login for any account.
const MinJWTSecretBytes = 16

// jwtIssuer marks the registry's own tokens, so that a JWT minted by another
// service that happens to share the secret is still refused.
const jwtIssuer = "dryad-registry"

// maxJWTLen bounds the work spent on a token before its signature is known
// good; the registry's own tokens are a few hundred bytes.
const maxJWTLen = 4096

// Claims is what a login JWT says about its holder.
type Claims struct {
	UserID   int64
	Username string
	Role     Role
	// CredVersion is the user's credential version when the token was
	// issued. It is bumped on a password change and when the account is
	// disabled; a token whose value is not the user's current one must be
	// refused.
	CredVersion int64
	IssuedAt    time.Time
	ExpiresAt   time.Time
	// ID is random and unique per token (jti), for logs and deny lists.
	ID string
}

// jwtClaims is the wire form of Claims: the user id travels as the standard
// subject, the rest as short private claims.
type jwtClaims struct {
	Username    string `json:"name"`
	Role        Role   `json:"role"`
	CredVersion int64  `json:"cv"`
	jwt.RegisteredClaims
}

// Signer issues and verifies the registry's login JWTs (HS256).
type Signer struct {
	secret []byte
	ttl    time.Duration
	// Now is the clock; nil means time.Now. Tests set it to move time.
	Now func() time.Time
}

// NewSigner returns a Signer keyed by secret (JWT_SECRET, at least
// MinJWTSecretBytes) whose tokens live for ttl (SESSION_TIMEOUT).
func NewSigner(secret []byte, ttl time.Duration) (*Signer, error) {
	if len(secret) < MinJWTSecretBytes {
		return nil, errs.New(errs.Invalid, fmt.Sprintf("JWT_SECRET must be at least %d bytes; openssl rand -hex 32 makes a good one", MinJWTSecretBytes))
	}
	if ttl <= 0 {
		return nil, errs.New(errs.Invalid, "SESSION_TIMEOUT must be positive")
	}
	return &Signer{secret: append([]byte(nil), secret...), ttl: ttl}, nil
}

func (s *Signer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Issue signs a JWT for the user described by c and returns it with its
// expiry. Issue sets IssuedAt, ExpiresAt and ID itself; values in c are
// ignored.
func (s *Signer) Issue(c Claims) (string, time.Time, error) {
	if c.UserID <= 0 {
		return "", time.Time{}, fmt.Errorf("auth: issue JWT: user id %d is not positive", c.UserID)
	}
	if _, err := ParseRole(string(c.Role)); err != nil {
		return "", time.Time{}, fmt.Errorf("auth: issue JWT: role %q: %w", c.Role, err)
	}
	jti, err := randomString(16)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: issue JWT: %w", err)
	}
	// JWT times are whole seconds; truncate so the returned expiry is the
	// one inside the token.
	now := s.now().Truncate(time.Second)
	exp := now.Add(s.ttl)
	jc := jwtClaims{
		Username:    c.Username,
		Role:        c.Role,
		CredVersion: c.CredVersion,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    jwtIssuer,
			Subject:   strconv.FormatInt(c.UserID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        jti,
		},
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jc).SignedString(s.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: sign JWT: %w", err)
	}
	return signed, exp, nil
}

// Verify checks token's algorithm (HS256 only), signature, issuer and
// expiry, and returns its claims. Every failure is errs.Unauthenticated with
// a message that tells the holder to log in again. Verify does not know the
// user's current credential version or status: the caller compares
// CredVersion and refuses disabled users.
func (s *Signer) Verify(token string) (Claims, error) {
	if len(token) > maxJWTLen {
		return Claims{}, errs.New(errs.Unauthenticated, "malformed token; send it exactly as login returned it")
	}
	var jc jwtClaims
	_, err := jwt.ParseWithClaims(token, &jc,
		func(t *jwt.Token) (any, error) {
			// WithValidMethods already holds the line; checking here too
			// keeps the key from ever meeting another algorithm.
			if t.Method != jwt.SigningMethodHS256 {
				return nil, jwt.ErrTokenSignatureInvalid
			}
			return s.secret, nil
		},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(jwtIssuer),
		jwt.WithTimeFunc(s.now),
		jwt.WithStrictDecoding(),
	)
	if err != nil {
		return Claims{}, jwtError(err)
	}
	uid, err := strconv.ParseInt(jc.Subject, 10, 64)
	if err != nil || uid <= 0 || jc.IssuedAt == nil || jc.ID == "" {
		return Claims{}, errs.Wrap(errs.Unauthenticated, err, "token lacks required claims; log in again")
	}
	if _, err := ParseRole(string(jc.Role)); err != nil {
		return Claims{}, errs.Wrap(errs.Unauthenticated, err, "token lacks required claims; log in again")
	}
	return Claims{
		UserID:      uid,
		Username:    jc.Username,
		Role:        jc.Role,
		CredVersion: jc.CredVersion,
		IssuedAt:    jc.IssuedAt.Time,
		ExpiresAt:   jc.ExpiresAt.Time,
		ID:          jc.ID,
	}, nil
}

// jwtError turns a parse failure into a message for the holder; the
// library's own text, which names algorithms and claims, stays in the
// wrapped cause for logs.
func jwtError(err error) error {
	var msg string
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		msg = "malformed token; send it exactly as login returned it"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		msg = "token signature is not valid; log in again"
	case errors.Is(err, jwt.ErrTokenExpired):
		msg = "token expired; log in again"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		msg = "token has no expiry or lacks required claims; log in again"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		msg = "token is not valid yet; check your clock and log in again"
	default:
		msg = "invalid token; log in again"
	}
	return errs.Wrap(errs.Unauthenticated, err, msg)
}
