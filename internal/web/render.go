package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/config"
	"github.com/dryad-lang/registry/internal/httpx"
)

//go:embed templates
var templateFS embed.FS

// pageTemplate is one page parsed together with the layout and partials,
// so every page can define its own "content" block.
type pageTemplate struct {
	t *template.Template
}

// parsePages parses every page under templates/pages with the layout.
func parsePages(funcs template.FuncMap) (map[string]*pageTemplate, error) {
	names, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*pageTemplate{}
	for _, n := range names {
		name := strings.TrimSuffix(n[len("templates/pages/"):], ".html")
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: parsing %s: %w", n, err)
		}
		pages[name] = &pageTemplate{t: t}
	}
	return pages, nil
}

// meta are a page's title and description, and whether it shows a form
// to visitors who are not signed in (which then needs a CSRF cookie).
type meta struct {
	Title       string
	Description string
	AnonForm    bool
	// Query fills the header's search box.
	Query string
	// NoIndex asks search engines not to index the page.
	NoIndex bool
	// Feed is the address of the page's own Atom feed, if it has one
	// beside the registry's.
	Feed string
	// Share, when set, gives the page OpenGraph and Twitter card tags.
	Share *share
	// NoHeaderSearch hides the header's search box (on pages that have
	// their own).
	NoHeaderSearch bool
}

// site describes the registry itself.
type site struct {
	Name        string
	Description string
	Version     string
	BaseURL     string
}

// view is what every template receives: the page's own data in Data,
// and what the layout needs around it.
type view struct {
	meta
	Site  site
	User  *auth.Principal
	CSRF  string
	Flash *flash
	Path  string
	// Canonical is the page's absolute address for search engines; ""
	// on error pages.
	Canonical string
	Data      any
}

// render executes a page into a buffer, then writes it with status; a
// template failure becomes the 500 page instead of half a page.
func (w *Web) render(rw http.ResponseWriter, r *http.Request, status int, page string, m meta, data any) {
	pt, ok := w.pages[page]
	if !ok {
		w.log.ErrorContext(r.Context(), "no such page template", "page", page)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	st := stateOf(r)
	v := view{
		meta:  m,
		Site:  site{Name: w.opts.Name, Description: w.opts.Description, Version: displayVersion(w.opts.Version), BaseURL: httpx.ClientOf(r).BaseURL},
		User:  st.user,
		Flash: st.flash,
		Path:  r.URL.Path,
		Data:  data,
	}
	if status < 400 {
		v.Canonical = canonicalURL(r)
	}
	if v.Title == "" {
		v.Title = w.opts.Name
	} else {
		v.Title += " · " + w.opts.Name
	}
	if v.Description == "" {
		v.Description = w.opts.Description
	}
	if st.user != nil || m.AnonForm {
		v.CSRF = w.csrfToken(rw, r)
	}
	var buf bytes.Buffer
	if err := pt.t.ExecuteTemplate(&buf, "layout", v); err != nil {
		w.log.ErrorContext(r.Context(), "rendering page", "page", page, "err", err, "request_id", httpx.RequestID(r.Context()))
		if page != "error" {
			w.render(rw, r, http.StatusInternalServerError, "error", meta{Title: "500 Something went wrong"},
				errorData{Status: 500, Heading: "Something went wrong", Message: "internal error; the problem has been logged", RequestID: httpx.RequestID(r.Context())})
			return
		}
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	h := rw.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	if st.user != nil || v.CSRF != "" {
		h.Set("Cache-Control", "private, no-store")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	rw.WriteHeader(status)
	if r.Method != http.MethodHead {
		rw.Write(buf.Bytes())
	}
}

// displayVersion writes a release number as v1.2.3 and anything else (a
// development build) as it is.
func displayVersion(v string) string {
	if v != "" && v[0] >= '0' && v[0] <= '9' {
		return "v" + v
	}
	return v
}

// funcs are the helpers templates may call.
func (w *Web) funcs() template.FuncMap {
	return template.FuncMap{
		"asset":       w.assets.url,
		"bytes":       config.HumanSize,
		"num":         formatNumber,
		"date":        func(t time.Time) string { return t.UTC().Format("Jan 2, 2006") },
		"datetime":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"stamp":       func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
		"ago":         func(t time.Time) string { return ago(t, time.Now()) },
		"short":       func(s string) string { return shorten(s, 12) },
		"plural":      plural,
		"pkgURL":      packageURL,
		"verURL":      versionURL,
		"versionsURL": versionsURL,
		"filesURL":    filesURL,
		"rawURL":      rawURL,
		"diffURL":     diffURL,
		"diffForm":    diffFormURL,
		"lineClass":   diffLineClass,
		"lineMark":    diffLineMark,
		"trimNL":      func(s string) string { return strings.TrimSuffix(s, "\n") },
		"userURL":     func(u string) string { return "/users/" + pathEscape(u) },
		"manageURL":   func(n string) string { return "/dashboard/packages/" + pathEscape(n) },
		"add":         func(a, b int) int { return a + b },
		"isAdmin":     func(p *auth.Principal) bool { return p.IsAdmin() },
		"crumbs":      crumbs,
		"chart":       newChart,
		"join":        strings.Join,
		"int64":       func(n int) int64 { return int64(n) },
		"add_f":       func(a, b float64) float64 { return a + b },
		"initial":     initial,
		"parent":      parentPath,
		"period":      period,
		"dict":        dict,
	}
}

// dict builds a map from key, value pairs, to pass several values to a
// partial template.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// initial is the first letter of a name, capitalised, for avatars.
func initial(name string) string {
	for _, r := range name {
		return strings.ToUpper(string(r))
	}
	return "?"
}

// parentPath is the folder holding an archive path ("" for the root).
func parentPath(p string) string {
	i := strings.LastIndex(p, "/")
	if i < 0 {
		return ""
	}
	return p[:i]
}
