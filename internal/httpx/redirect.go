package httpx

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// LocalTarget returns to as the path on this site that a redirect to it
// reaches, or def when a browser could end up anywhere else. It judges the
// target as it will be sent: after the cleaning http.Redirect applies to a
// path (path.Clean, which turns "/./\evil.example" into "/\evil.example"),
// and it refuses what browsers read as another host or strip before
// reading: a scheme, a host, a leading "//", a backslash anywhere (browsers
// take it for a slash) and control characters (tabs and newlines are
// dropped from URLs, so "/\t/evil.example" is "//evil.example").
func LocalTarget(to, def string) string {
	if to == "" || to[0] != '/' || strings.HasPrefix(to, "//") || strings.ContainsRune(to, '\\') || strings.ContainsFunc(to, isControl) {
		return def
	}
	u, err := url.Parse(to)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil {
		return def
	}
	cleaned := cleanPath(to)
	if !strings.HasPrefix(cleaned, "/") || strings.HasPrefix(cleaned, "//") {
		return def
	}
	return cleaned
}

// cleanPath cleans a redirect target's path as http.Redirect does: the
// part before "?" goes through path.Clean, a trailing slash is kept.
func cleanPath(to string) string {
	p, query, hasQuery := strings.Cut(to, "?")
	trailing := strings.HasSuffix(p, "/")
	p = path.Clean(p)
	if trailing && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	if hasQuery {
		p += "?" + query
	}
	return p
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// Redirect answers with code and a Location on this site: to when
// LocalTarget allows it, else "/". Every redirect of the registry's pages
// goes through here, so none can send a browser to another host.
func Redirect(w http.ResponseWriter, r *http.Request, to string, code int) {
	http.Redirect(w, r, LocalTarget(to, "/"), code)
}
