package auth

import (
	"bytes"
	"testing"
)

func TestCheckCSRF(t *testing.T) {
	key := []byte("csrf key for tests, 32 bytes...")
	otherKey := []byte("another csrf key, 32 bytes long")
	good := CSRFToken(key, "session-a")
	anon := AnonCSRFToken(key, "session-a")

	if CSRFToken(key, "session-a") != good {
		t.Fatal("CSRFToken is not deterministic")
	}
	for _, tc := range []struct {
		name           string
		key            []byte
		session, token string
		want           bool
	}{
		{"own token", key, "session-a", good, true},
		{"other session", key, "session-b", good, false},
		{"other key", otherKey, "session-a", good, false},
		{"empty token", key, "session-a", "", false},
		{"empty session", key, "", CSRFToken(key, ""), false},
		{"empty key", nil, "session-a", CSRFToken(nil, "session-a"), false},
		{"truncated", key, "session-a", good[:len(good)-1], false},
		{"one character changed", key, "session-a", flipLast(good), false},
		{"anonymous token in a session form", key, "session-a", anon, false},
		{"the session id itself", key, "session-a", "session-a", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CheckCSRF(tc.key, tc.session, tc.token); got != tc.want {
				t.Errorf("CheckCSRF = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCheckAnonCSRF(t *testing.T) {
	key := []byte("csrf key for tests, 32 bytes...")
	cookie, err := NewCSRFCookie()
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCSRFCookie()
	if err != nil {
		t.Fatal(err)
	}
	if cookie == other || len(cookie) != 52 {
		t.Fatalf("CSRF cookies %q and %q: want distinct 32-byte values", cookie, other)
	}
	good := AnonCSRFToken(key, cookie)
	for _, tc := range []struct {
		name          string
		cookie, token string
		want          bool
	}{
		{"matching pair", cookie, good, true},
		{"other cookie", other, good, false},
		// A plain double submit would accept this; the signed one does not.
		{"cookie value echoed as token", cookie, cookie, false},
		{"no cookie", "", good, false},
		{"no token", cookie, "", false},
		{"session-form token", cookie, CSRFToken(key, cookie), false},
		{"one character changed", cookie, flipLast(good), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CheckAnonCSRF(key, tc.cookie, tc.token); got != tc.want {
				t.Errorf("CheckAnonCSRF = %v, want %v", got, tc.want)
			}
		})
	}
}

func flipLast(s string) string {
	last := s[len(s)-1]
	if last == 'A' {
		return s[:len(s)-1] + "B"
	}
	return s[:len(s)-1] + "A"
}

func TestDeriveKey(t *testing.T) {
	a := DeriveKey("secret-one", "csrf")
	if !bytes.Equal(a, DeriveKey("secret-one", "csrf")) {
		t.Error("the same secret and purpose give different keys")
	}
	for _, other := range [][]byte{DeriveKey("secret-one", "sessions"), DeriveKey("secret-two", "csrf"), []byte("secret-one")} {
		if bytes.Equal(a, other) {
			t.Errorf("key %x reused", a)
		}
	}
	if len(a) != 32 {
		t.Errorf("key of %d bytes, want 32", len(a))
	}
}
