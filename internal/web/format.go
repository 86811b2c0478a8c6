package web

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// formatNumber writes an integer with thousands separators: 1,234,567.
func formatNumber(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// ago writes how long before now t was, roughly: "just now", "5 minutes
// ago", "3 days ago", then the date for anything older than a year, or
// more than a minute in the future (a clock that is wrong is not "just
// now"). app.js has the same rule, to keep open pages true: change both.
func ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < -time.Minute:
		return t.UTC().Format("Jan 2, 2006")
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int64(d/time.Minute), "minute", "minutes") + " ago"
	case d < 24*time.Hour:
		return plural(int64(d/time.Hour), "hour", "hours") + " ago"
	case d < 30*24*time.Hour:
		return plural(int64(d/(24*time.Hour)), "day", "days") + " ago"
	case d < 365*24*time.Hour:
		return plural(int64(d/(30*24*time.Hour)), "month", "months") + " ago"
	}
	return t.UTC().Format("Jan 2, 2006")
}

// plural writes n with the singular or plural noun: "1 version", "3 versions".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return formatNumber(n) + " " + many
}

// shorten cuts s to n characters (for checksums shown in tables).
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// pathEscape escapes one path segment.
func pathEscape(s string) string { return url.PathEscape(s) }

// escapePath escapes each segment of a slash-separated path.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

func packageURL(name string) string { return "/packages/" + pathEscape(name) }

func versionsURL(name string) string { return packageURL(name) + "/versions" }

func versionURL(name, version string) string {
	return "/packages/" + pathEscape(name) + "/" + pathEscape(version)
}

// filesURL is the source browser's URL of a path in an archive ("" is the
// package root).
func filesURL(name, version, p string) string {
	return versionURL(name, version) + "/files/" + escapePath(p)
}

// rawURL downloads one file of an archive as it is.
func rawURL(name, version, p string) string { return filesURL(name, version, p) + "?raw=1" }

// crumb is one step of a source browser's breadcrumb trail.
type crumb struct {
	Name string
	Path string
}

// crumbs splits an archive path into its folders, each with its own path.
func crumbs(p string) []crumb {
	if p == "" {
		return nil
	}
	var out []crumb
	parts := strings.Split(p, "/")
	for i, s := range parts {
		out = append(out, crumb{Name: s, Path: strings.Join(parts[:i+1], "/")})
	}
	return out
}
