package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dryad-lang/registry/internal/errs"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// testClock is a settable clock for Signer.Now.
type testClock struct{ t time.Time }

func (c *testClock) Now() time.Time { return c.t }

func newTestSigner(t *testing.T) (*Signer, *testClock) {
	t.Helper()
	s, err := NewSigner(testSecret, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 500, time.UTC)}
	s.Now = clock.Now
	return s, clock
}

// rawJWT builds a token by hand, so tests can forge what the library would
// refuse to make: any header, any claims, any signature.
func rawJWT(t *testing.T, header, claims map[string]any, sign func(signingInput string) []byte) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	return input + "." + base64.RawURLEncoding.EncodeToString(sign(input))
}

func hs256(secret []byte) func(string) []byte {
	return func(input string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(input))
		return m.Sum(nil)
	}
}

func noSignature(string) []byte { return nil }

func TestNewSigner(t *testing.T) {
	for _, tc := range []struct {
		name   string
		secret []byte
		ttl    time.Duration
		want   *errs.Kind
		msg    string
	}{
		{"ok", testSecret, time.Hour, nil, ""},
		{"16 bytes", testSecret[:16], time.Hour, nil, ""},
		{"short secret", testSecret[:15], time.Hour, kind(errs.Invalid), "JWT_SECRET"},
		{"no secret", nil, time.Hour, kind(errs.Invalid), "JWT_SECRET"},
		{"zero ttl", testSecret, 0, kind(errs.Invalid), "SESSION_TIMEOUT"},
		{"negative ttl", testSecret, -time.Second, kind(errs.Invalid), "SESSION_TIMEOUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewSigner(tc.secret, tc.ttl)
			checkErr(t, err, tc.want, tc.msg)
		})
	}
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	s, clock := newTestSigner(t)
	in := Claims{UserID: 42, Username: "alice", Role: RoleAdmin, CredVersion: 7}
	tok, exp, err := s.Issue(in)
	if err != nil {
		t.Fatal(err)
	}
	wantExp := clock.t.Truncate(time.Second).Add(time.Hour)
	if !exp.Equal(wantExp) {
		t.Errorf("expiry = %v, want %v", exp, wantExp)
	}
	got, err := s.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != 42 || got.Username != "alice" || got.Role != RoleAdmin || got.CredVersion != 7 {
		t.Errorf("claims = %+v, want those of %+v", got, in)
	}
	if !got.ExpiresAt.Equal(exp) || !got.IssuedAt.Equal(clock.t.Truncate(time.Second)) {
		t.Errorf("times = iat %v exp %v, want iat %v exp %v", got.IssuedAt, got.ExpiresAt, clock.t, exp)
	}
	if len(got.ID) < 20 {
		t.Errorf("jti %q is too short to be random", got.ID)
	}

	tok2, _, err := s.Issue(in)
	if err != nil {
		t.Fatal(err)
	}
	got2, err := s.Verify(tok2)
	if err != nil {
		t.Fatal(err)
	}
	if got2.ID == got.ID {
		t.Errorf("two tokens share jti %q", got.ID)
	}
}

func TestIssueIgnoresCallerTimes(t *testing.T) {
	s, clock := newTestSigner(t)
	far := clock.t.Add(100 * 365 * 24 * time.Hour)
	_, exp, err := s.Issue(Claims{UserID: 1, Role: RoleUser, ExpiresAt: far, ID: "chosen"})
	if err != nil {
		t.Fatal(err)
	}
	if exp.Equal(far) {
		t.Error("Issue kept the caller's expiry")
	}
}

func TestIssueRefusesBadClaims(t *testing.T) {
	s, _ := newTestSigner(t)
	for _, c := range []Claims{
		{UserID: 0, Role: RoleUser},
		{UserID: -1, Role: RoleUser},
		{UserID: 1, Role: ""},
		{UserID: 1, Role: "root"},
	} {
		if _, _, err := s.Issue(c); err == nil {
			t.Errorf("Issue(%+v) succeeded", c)
		}
	}
}

func TestVerifyExpiry(t *testing.T) {
	s, clock := newTestSigner(t)
	tok, exp, err := s.Issue(Claims{UserID: 1, Role: RoleUser})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		now  time.Time
		want *errs.Kind
	}{
		{"just issued", clock.t, nil},
		{"a second before expiry", exp.Add(-time.Second), nil},
		{"at expiry", exp, kind(errs.Unauthenticated)},
		{"a day later", exp.Add(24 * time.Hour), kind(errs.Unauthenticated)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.Now = func() time.Time { return tc.now }
			_, err := s.Verify(tok)
			if tc.want == nil {
				checkErr(t, err, nil)
			} else {
				checkErr(t, err, tc.want, "token expired; log in again")
			}
		})
	}
}

func TestVerifyRefusesForgeries(t *testing.T) {
	s, clock := newTestSigner(t)
	good, _, err := s.Issue(Claims{UserID: 42, Username: "alice", Role: RoleUser, CredVersion: 3})
	if err != nil {
		t.Fatal(err)
	}
	now := clock.t.Unix()
	claims := map[string]any{
		"iss": jwtIssuer, "sub": "42", "name": "alice", "role": "admin", "cv": 3,
		"iat": now, "exp": now + 3600, "jti": "abcdefghijklmnopqrstuvwxyz",
	}
	without := func(key string) map[string]any {
		c := make(map[string]any, len(claims))
		for k, v := range claims {
			if k != key {
				c[k] = v
			}
		}
		return c
	}
	with := func(key string, v any) map[string]any {
		c := without(key)
		c[key] = v
		return c
	}
	hsHeader := map[string]any{"alg": "HS256", "typ": "JWT"}

	other, err := NewSigner([]byte("another secret, 32 bytes long..."), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other.Now = clock.Now
	otherTok, _, err := other.Issue(Claims{UserID: 42, Role: RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}

	hs384, err := jwt.NewWithClaims(jwt.SigningMethodHS384, jwt.MapClaims(claims)).SignedString(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs256, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims)).SignedString(rsaKey)
	if err != nil {
		t.Fatal(err)
	}

	parts := strings.Split(good, ".")
	tamperedPayload := base64.RawURLEncoding.EncodeToString(mustJSON(t, claims))

	for _, tc := range []struct {
		name, token, msg string
	}{
		{"alg none", rawJWT(t, map[string]any{"alg": "none", "typ": "JWT"}, claims, noSignature), "signature"},
		{"alg None", rawJWT(t, map[string]any{"alg": "None"}, claims, noSignature), "signature"},
		{"no alg", rawJWT(t, map[string]any{"typ": "JWT"}, claims, hs256(testSecret)), "signature"},
		{"HS384 with the secret", hs384, "signature"},
		{"RS256 header, HS256 signature with the secret", rawJWT(t, map[string]any{"alg": "RS256", "typ": "JWT"}, claims, hs256(testSecret)), "signature"},
		{"RS256 signed with an RSA key", rs256, "signature"},
		{"tampered payload", parts[0] + "." + tamperedPayload + "." + parts[2], "signature"},
		{"signature stripped", parts[0] + "." + parts[1] + ".", "signature"},
		{"another secret", otherTok, "signature"},
		{"missing exp", rawJWT(t, hsHeader, without("exp"), hs256(testSecret)), "no expiry"},
		{"exp in the past", rawJWT(t, hsHeader, with("exp", now-1), hs256(testSecret)), "expired"},
		{"exp as a string", rawJWT(t, hsHeader, with("exp", "never"), hs256(testSecret)), "malformed"},
		{"missing iss", rawJWT(t, hsHeader, without("iss"), hs256(testSecret)), "log in again"},
		{"another issuer", rawJWT(t, hsHeader, with("iss", "elsewhere"), hs256(testSecret)), "log in again"},
		{"missing sub", rawJWT(t, hsHeader, without("sub"), hs256(testSecret)), "required claims"},
		{"sub not a number", rawJWT(t, hsHeader, with("sub", "alice"), hs256(testSecret)), "required claims"},
		{"sub zero", rawJWT(t, hsHeader, with("sub", "0"), hs256(testSecret)), "required claims"},
		{"missing iat", rawJWT(t, hsHeader, without("iat"), hs256(testSecret)), "required claims"},
		{"missing jti", rawJWT(t, hsHeader, without("jti"), hs256(testSecret)), "required claims"},
		{"unknown role", rawJWT(t, hsHeader, with("role", "root"), hs256(testSecret)), "required claims"},
		{"empty", "", "malformed"},
		{"garbage", "garbage", "malformed"},
		{"three dots", "a.b.c", "malformed"},
		{"API token", "oak_" + strings.Repeat("a", 52), "malformed"},
		{"oversized", strings.Repeat("a", maxJWTLen+1), "malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := s.Verify(tc.token)
			checkErr(t, err, kind(errs.Unauthenticated), tc.msg)
			if c != (Claims{}) {
				t.Errorf("claims returned with the error: %+v", c)
			}
			if msg := errs.Message(err); strings.Contains(msg, "HS384") || strings.Contains(msg, "RS256") || strings.Contains(msg, "jwt") {
				t.Errorf("message %q leaks library details", msg)
			}
		})
	}
}

// A token made by hand the way Issue makes it passes: the forgery cases
// above fail for their own reason, not because the helper is wrong.
func TestRawJWTHelperMakesValidTokens(t *testing.T) {
	s, clock := newTestSigner(t)
	now := clock.t.Unix()
	tok := rawJWT(t, map[string]any{"alg": "HS256", "typ": "JWT"}, map[string]any{
		"iss": jwtIssuer, "sub": "42", "role": "user", "iat": now, "exp": now + 60, "jti": "x",
	}, hs256(testSecret))
	c, err := s.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.UserID != 42 || c.Role != RoleUser {
		t.Errorf("claims = %+v", c)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
