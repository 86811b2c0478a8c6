package server

import (
	"net/http"
	"strings"
)

// cors lets browser applications on the allowed origins (ALLOWED_ORIGINS)
// call the JSON API and download archives. Credentials are bearer tokens in
// headers, never cookies, so no Access-Control-Allow-Credentials is sent and
// a permissive origin cannot act with a visitor's web session. Preflight
// requests are answered here, before routing.
func cors(allowed []string, next http.Handler) http.Handler {
	if len(allowed) == 0 {
		return next
	}
	any := false
	set := make(map[string]bool, len(allowed))
	for _, o := range allowed {
		if o == "*" {
			any = true
		}
		set[strings.TrimRight(o, "/")] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		p := r.URL.Path
		applies := strings.HasPrefix(p, "/api/") || (strings.HasPrefix(p, "/packages/") && strings.HasSuffix(p, ".tar.gz"))
		if origin == "" || !applies {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		if !any && !set[origin] {
			next.ServeHTTP(w, r)
			return
		}
		if any {
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		h.Set("Access-Control-Expose-Headers", "ETag, Retry-After, X-Request-ID, X-Checksum-SHA256, X-RateLimit-Limit, X-RateLimit-Remaining")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-None-Match")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}
