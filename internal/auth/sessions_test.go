package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestNewSessionID(t *testing.T) {
	a, ha, err := NewSessionID()
	if err != nil {
		t.Fatal(err)
	}
	b, hb, err := NewSessionID()
	if err != nil {
		t.Fatal(err)
	}
	if a == b || ha == hb {
		t.Error("two sessions got the same id")
	}
	if len(a) != 52 || !isLowerBase32(a) {
		t.Errorf("session id %q: want 52 lower-case base32 characters (32 bytes)", a)
	}
	if ha != HashSessionID(a) || ha == a || len(ha) != 64 {
		t.Errorf("hash %q is not the SHA-256 of the id", ha)
	}
	if LooksLikeToken(a) {
		t.Error("a session id must not pass for an API token")
	}
}

func TestSessionCookie(t *testing.T) {
	for _, tc := range []struct {
		name       string
		secure     bool
		maxAge     time.Duration
		wantMaxAge int
	}{
		{"https, a week", true, 7 * 24 * time.Hour, 7 * 24 * 3600},
		{"plain http", false, time.Hour, 3600},
		{"browser session", true, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := SessionCookie("dryad_session", "abc", tc.secure, tc.maxAge)
			if c.Name != "dryad_session" || c.Value != "abc" || c.Path != "/" {
				t.Errorf("cookie %+v: wrong name, value or path", c)
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != tc.secure {
				t.Errorf("cookie attributes HttpOnly=%v SameSite=%v Secure=%v", c.HttpOnly, c.SameSite, c.Secure)
			}
			if c.MaxAge != tc.wantMaxAge {
				t.Errorf("MaxAge = %d, want %d", c.MaxAge, tc.wantMaxAge)
			}
			if c.Domain != "" {
				t.Errorf("Domain = %q: the cookie must stay on this host", c.Domain)
			}
			// What the browser receives.
			rec := httptest.NewRecorder()
			http.SetCookie(rec, c)
			h := rec.Header().Get("Set-Cookie")
			for _, want := range []string{"dryad_session=abc", "Path=/", "HttpOnly", "SameSite=Lax"} {
				if !strings.Contains(h, want) {
					t.Errorf("Set-Cookie %q lacks %q", h, want)
				}
			}
			if strings.Contains(h, "Secure") != tc.secure {
				t.Errorf("Set-Cookie %q: Secure should be %v", h, tc.secure)
			}
		})
	}
}

func TestExpiredCookie(t *testing.T) {
	for _, secure := range []bool{true, false} {
		c := ExpiredCookie("dryad_session", secure)
		if c.Name != "dryad_session" || c.Value != "" || c.MaxAge >= 0 || c.Path != "/" {
			t.Errorf("cookie %+v does not delete dryad_session", c)
		}
		if !c.HttpOnly || c.Secure != secure || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie %+v: attributes differ from the session cookie's", c)
		}
		rec := httptest.NewRecorder()
		http.SetCookie(rec, c)
		if h := rec.Header().Get("Set-Cookie"); !strings.Contains(h, "Max-Age=0") {
			t.Errorf("Set-Cookie %q does not expire the cookie", h)
		}
	}
}
