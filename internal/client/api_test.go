package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
)

// TestAPIErrors checks that a refusal keeps the kind of its status and the
// registry's message, so that commands can add the fix.
func TestAPIErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer oak_ok":
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"unauthorized","message":"invalid or expired token"}`))
		case strings.Contains(r.URL.Path, "/nosuch/"):
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":"not_found","message":"no package nosuch"}`))
		case strings.Contains(r.URL.Path, "/html/"):
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>\n bad gateway\n</html>"))
		default:
			w.Write([]byte(`{"name":"mylib","version":"1.0.0","yanked":true}`))
		}
	}))
	defer srv.Close()
	api := func(tok string) *API { return &API{Registry: &Registry{BaseURL: srv.URL}, Token: tok} }
	ctx := context.Background()

	v, err := api("oak_ok").SetYanked(ctx, "mylib", "1.0.0", true)
	if err != nil || !v.Yanked || v.Name != "mylib" {
		t.Fatalf("yank: %+v, %v", v, err)
	}
	tests := []struct {
		tok, name string
		kind      errs.Kind
		msg       string
	}{
		{"oak_bad", "mylib", errs.Unauthenticated, "401 Unauthorized: invalid or expired token"},
		{"oak_ok", "nosuch", errs.NotFound, "404 Not Found: no package nosuch"},
		{"oak_ok", "html", errs.Unavailable, "502 Bad Gateway: <html> bad gateway </html>"},
	}
	for _, tt := range tests {
		_, err := api(tt.tok).SetYanked(ctx, tt.name, "1.0.0", true)
		if errs.KindOf(err) != tt.kind || errs.Message(err) != tt.msg {
			t.Errorf("%s: got %v (%q), want %v (%q)", tt.name, errs.KindOf(err), errs.Message(err), tt.kind, tt.msg)
		}
	}
}
