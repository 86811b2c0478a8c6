package httpx

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestLocalTarget(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "/home",
		"/dashboard":              "/dashboard",
		"/dashboard#tokens":       "/dashboard#tokens",
		"/search?q=a/../b#x":      "/search?q=a/../b#x",
		"/packages/x/files/lib/":  "/packages/x/files/lib/",
		"/a/../b":                 "/b",
		"/.//evil.example":        "/evil.example",
		"/%2F%2Fevil.example/xy":  "/%2F%2Fevil.example/xy",
		"/%5Cevil.example":        "/%5Cevil.example",
		"//evil.example":          "/home",
		"///evil.example":         "/home",
		"/\\evil.example":         "/home",
		"/./\\evil.example":       "/home", // cleaned to /\evil.example by http.Redirect
		"/.\\./evil.example":      "/home",
		"/\t/evil.example":        "/home", // browsers drop the tab
		"/\n/evil.example":        "/home",
		"/x\x7f":                  "/home",
		"https://evil.example/":   "/home",
		"javascript:alert(1)":     "/home",
		"dashboard":               "/home",
		"\\\\evil.example":        "/home",
		"/login?next=//evil.test": "/login?next=//evil.test", // a query is not a host
	} {
		if got := LocalTarget(in, "/home"); got != want {
			t.Errorf("LocalTarget(%q) = %q, want %q", in, got, want)
		}
	}
}

// What Redirect sends is what LocalTarget allowed, unchanged by
// http.Redirect's own cleaning; anything else goes to the home page.
func TestRedirectStaysOnSite(t *testing.T) {
	for in, want := range map[string]string{
		"/./\\evil.example": "/",
		"/a/./b/":           "/a/b/",
		"/dashboard":        "/dashboard",
		"//evil.example/x":  "/",
	} {
		w := httptest.NewRecorder()
		Redirect(w, httptest.NewRequest("GET", "/login", nil), in, http.StatusSeeOther)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != want {
			t.Errorf("Redirect(%q): %d to %q, want %q", in, w.Code, w.Header().Get("Location"), want)
		}
	}
}

func FuzzLocalTarget(f *testing.F) {
	for _, s := range []string{"/dashboard", "//evil.example", "/./\\evil.example", "/\t/x", "/a/../b?c#d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, to string) {
		got := LocalTarget(to, "/")
		if got == "/" {
			return
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || got[0] != '/' || len(got) > 1 && (got[1] == '/' || got[1] == '\\') {
			t.Fatalf("LocalTarget(%q) = %q leaves the site", to, got)
		}
		if strings.ContainsRune(got, '\\') || strings.ContainsFunc(got, isControl) {
			t.Fatalf("LocalTarget(%q) = %q holds a backslash or a control character", to, got)
		}
		// http.Redirect's cleaning changes nothing more; it only escapes
		// the bytes that are not ASCII.
		w := httptest.NewRecorder()
		Redirect(w, httptest.NewRequest("GET", "/", nil), to, http.StatusFound)
		var escaped strings.Builder
		for i := 0; i < len(got); i++ {
			if got[i] >= 0x80 {
				fmt.Fprintf(&escaped, "%%%02x", got[i])
			} else {
				escaped.WriteByte(got[i])
			}
		}
		if loc := w.Header().Get("Location"); loc != escaped.String() {
			t.Fatalf("Redirect(%q) sent %q, LocalTarget said %q", to, loc, got)
		}
	})
}
