package auth

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
)

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		secret, hash, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, "oak_") || len(secret) != 56 {
			t.Errorf("secret %q: want oak_ and 52 characters", secret)
		}
		if !LooksLikeToken(secret) {
			t.Errorf("LooksLikeToken(%q) = false for a fresh token", secret)
		}
		if raw, err := lowerBase32.DecodeString(strings.TrimPrefix(secret, "oak_")); err != nil || len(raw) != 32 {
			t.Errorf("secret %q does not encode 32 bytes: %d, %v", secret, len(raw), err)
		}
		if hash != HashToken(secret) {
			t.Errorf("hash %q is not HashToken(secret)", hash)
		}
		if strings.Contains(hash, strings.TrimPrefix(secret, "oak_")) {
			t.Errorf("hash %q reveals the secret", hash)
		}
		if seen[secret] {
			t.Fatalf("secret %q issued twice", secret)
		}
		seen[secret] = true
	}
}

// Stored hashes must stay valid across releases: the scheme is plain hex
// SHA-256 of the whole secret, prefix included.
func TestHashTokenStable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	} {
		if got := HashToken(tc.in); got != tc.want {
			t.Errorf("HashToken(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	secret := "oak_" + strings.Repeat("a", 52)
	h := HashToken(secret)
	if b, err := hex.DecodeString(h); err != nil || len(b) != 32 || h != strings.ToLower(h) {
		t.Errorf("HashToken = %q: want 64 lower-case hex digits", h)
	}
	if HashToken(secret) != h || HashToken(strings.ToUpper(secret)) == h {
		t.Error("HashToken must be deterministic and case-sensitive")
	}
}

func TestLooksLikeToken(t *testing.T) {
	body := strings.Repeat("abcd2345", 7)[:52]
	for _, tc := range []struct {
		name, in string
		want     bool
	}{
		{"token", "oak_" + body, true},
		{"all letters", "oak_" + strings.Repeat("z", 52), true},
		{"too short", "oak_" + body[:51], false},
		{"too long", "oak_" + body + "a", false},
		{"no prefix", "xyz_" + body, false},
		{"capital prefix", "OAK_" + body, false},
		{"capital body", "oak_" + strings.ToUpper(body), false},
		{"digit 0", "oak_0" + body[1:], false},
		{"digit 1", "oak_1" + body[1:], false},
		{"digit 8", "oak_8" + body[1:], false},
		{"padding", "oak_" + body[:51] + "=", false},
		{"JWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", false},
		{"empty", "", false},
		{"prefix only", "oak_", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := LooksLikeToken(tc.in); got != tc.want {
				t.Errorf("LooksLikeToken(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestExpiryFromDays(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		days int
		want time.Time // zero: no expiry
		err  bool
	}{
		{0, time.Time{}, false},
		{1, now.Add(24 * time.Hour), false},
		{30, now.Add(30 * 24 * time.Hour), false},
		{365, now.Add(365 * 24 * time.Hour), false},
		{366, time.Time{}, true},
		{-1, time.Time{}, true},
		{100000, time.Time{}, true},
	} {
		got, err := ExpiryFromDays(tc.days, now)
		if tc.err {
			checkErr(t, err, kind(errs.Invalid), "between 1 and 365")
			continue
		}
		checkErr(t, err, nil)
		switch {
		case tc.want.IsZero() && got != nil:
			t.Errorf("ExpiryFromDays(%d) = %v, want no expiry", tc.days, *got)
		case !tc.want.IsZero() && (got == nil || !got.Equal(tc.want)):
			t.Errorf("ExpiryFromDays(%d) = %v, want %v", tc.days, got, tc.want)
		}
	}
}
