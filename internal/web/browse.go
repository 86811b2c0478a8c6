package web

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dryad-lang/registry/internal/cache"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/httpx"
	"github.com/dryad-lang/registry/internal/registry"
)

// homeLists is how many packages each list of the home page shows.
const homeLists = 8

type homeData struct {
	Totals  *registry.RegistryStats
	Recent  []registry.PackageSummary
	Popular []registry.PackageSummary
	// Trending are the packages most downloaded over the last
	// registry.TrendingDays days.
	Trending []registry.TrendingPackage
}

// trendingTTL bounds how stale the home page's trending list may be: it
// sums a week of daily counts, too much work for every visit, and a few
// minutes do not change a week's ranking much.
const trendingTTL = 5 * time.Minute

// home serves GET /: the search box, totals and two lists of packages.
func (w *Web) home(rw http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	totals, err := w.reg.Totals(ctx)
	if err != nil {
		return err
	}
	recent, err := w.reg.Top(ctx, "recent", homeLists)
	if err != nil {
		return err
	}
	popular, err := w.reg.Top(ctx, "downloads", homeLists)
	if err != nil {
		return err
	}
	trend := cache.ReadThrough[[]registry.TrendingPackage]{Cache: w.opts.Cache, Name: "trending", TTL: trendingTTL, Observe: w.opts.OnCacheRead}
	trending, err := trend.Get(ctx, "home", func(ctx context.Context) ([]registry.TrendingPackage, error) {
		return w.reg.Trending(ctx, homeLists)
	})
	if err != nil {
		return err
	}
	w.render(rw, r, http.StatusOK, "home", meta{}, homeData{Totals: totals, Recent: recent.Packages, Popular: popular.Packages, Trending: trending})
	return nil
}

// searchFilter are the values of a results page's filters, as typed.
type searchFilter struct {
	Keyword, Owner, Updated string
}

// updatedOptions are the choices of the "updated within" filter.
var updatedOptions = []sortOption{{"", "Any time"}, {"week", "Past week"}, {"month", "Past month"}, {"year", "Past year"}}

// searchPageSize is how many results a search page shows.
const searchPageSize = 20

type sortOption struct {
	Value, Label string
}

var sortOptions = []sortOption{
	{"relevance", "Best match"},
	{"downloads", "Most downloads"},
	{"recent", "Recently updated"},
	{"name", "Name"},
}

type pageLink struct {
	N       int
	URL     string
	Current bool
	// Gap stands for the pages left out between two links.
	Gap bool
}

type searchData struct {
	Query string
	// Keyword is set on a keyword's page, which lists the packages
	// having it rather than those matching Query.
	Keyword string
	// Filter is the filters' form: a keyword (on /search), an owner and
	// an update period; Filtered is set when one of them is in use.
	Filter   searchFilter
	Filtered bool
	Periods  []sortOption
	// Errors are the filters' errors, by field.
	Errors  fieldErrors
	Sort    string
	Sorts   []sortOption
	Result  *registry.SearchResult
	Page    int
	Pages   int
	Links   []pageLink
	PrevURL string
	NextURL string
}

// search serves GET /search?q=&sort=&page=.
func (w *Web) search(rw http.ResponseWriter, r *http.Request) error {
	return w.listPage(rw, r, "")
}

// keyword serves GET /keywords/{keyword}?sort=&page=: the packages having
// the keyword.
func (w *Web) keyword(rw http.ResponseWriter, r *http.Request) error {
	return w.listPage(rw, r, r.PathValue("keyword"))
}

// keywordSorts are the orders of a keyword's page, where every package
// matches as well as any other.
var keywordSorts = sortOptions[1:]

// listPage is a page of search results, or with keyword set, of the
// packages having it.
func (w *Web) listPage(rw http.ResponseWriter, r *http.Request, keyword string) error {
	q := r.URL.Query()
	text := strings.TrimSpace(q.Get("q"))
	keyword = strings.ToLower(strings.TrimSpace(keyword))
	sort := q.Get("sort")
	if sort == "" {
		sort = "relevance"
		if text == "" || keyword != "" {
			sort = "downloads"
		}
	}
	page := 1
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 5000 {
			return errs.Errorf(errs.Invalid, "page=%q: want a page number from 1 to 5000", s)
		}
		page = n
	}
	base := "/search?"
	f := searchFilter{Keyword: strings.TrimSpace(q.Get("keyword")), Owner: strings.TrimSpace(q.Get("owner")), Updated: q.Get("updated")}
	if keyword != "" {
		text = ""
		base = "/keywords/" + url.PathEscape(keyword) + "?"
		f.Keyword = keyword
	}
	status := http.StatusOK
	d := searchData{Query: text, Keyword: keyword, Filter: f, Periods: updatedOptions, Errors: fieldErrors{}, Sort: sort, Sorts: sortOptions, Page: page}
	d.Filtered = f.Owner != "" || f.Updated != "" || (keyword == "" && f.Keyword != "")
	res, err := w.reg.Find(r.Context(), registry.SearchQuery{Text: text, Keyword: f.Keyword, Owner: f.Owner, Updated: f.Updated,
		Sort: sort, Limit: searchPageSize, Offset: (page - 1) * searchPageSize})
	if err != nil {
		// A filter's bad value is shown beside it, with the values kept;
		// anything else (a crafted sort, the database down) is the error
		// page.
		fields := []string{"owner", "updated"}
		if keyword == "" {
			fields = append(fields, "keyword")
		}
		if formField(errs.FieldOf(err), fields) == "" || !d.Errors.add(err, fields...) {
			return err
		}
		status = errs.KindOf(err).Status()
		res = &registry.SearchResult{}
	}
	d.Result, d.Pages = res, (res.Total+searchPageSize-1)/searchPageSize
	if keyword != "" {
		d.Sorts = keywordSorts
	}
	link := func(n int) string {
		v := url.Values{}
		if text != "" {
			v.Set("q", text)
		}
		if keyword == "" && f.Keyword != "" {
			v.Set("keyword", f.Keyword)
		}
		if f.Owner != "" {
			v.Set("owner", f.Owner)
		}
		if f.Updated != "" {
			v.Set("updated", f.Updated)
		}
		v.Set("sort", sort)
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		return base + v.Encode()
	}
	if page > 1 {
		d.PrevURL = link(page - 1)
	}
	if page < d.Pages {
		d.NextURL = link(page + 1)
	}
	for n := 1; n <= d.Pages; n++ {
		// The first, the last, and two either side of the current page.
		if n == 1 || n == d.Pages || (n >= page-2 && n <= page+2) {
			d.Links = append(d.Links, pageLink{N: n, URL: link(n), Current: n == page})
		} else if len(d.Links) > 0 && !d.Links[len(d.Links)-1].Gap {
			d.Links = append(d.Links, pageLink{Gap: true})
		}
	}
	title := "Search"
	desc := "Search the packages of the registry"
	switch {
	case keyword != "":
		title = "Keyword: " + keyword
		desc = strconv.Itoa(res.Total) + " packages with the keyword \u201c" + keyword + "\u201d"
	case text != "":
		title = "Search: " + text
		desc = strconv.Itoa(res.Total) + " packages match \u201c" + text + "\u201d"
	}
	w.render(rw, r, status, "search", meta{Title: title, Description: desc, Query: text, NoIndex: text != "" || d.Filtered, NoHeaderSearch: keyword == ""}, d)
	return nil
}

type packageData struct {
	*packageView
	// ShownVersions are the versions the page lists: the newest
	// maxVersionsListed, and the shown version when it is older;
	// MoreVersions says that the versions page lists more.
	ShownVersions []versionView
	MoreVersions  bool
	// Readme was rendered and sanitised when the version was published.
	Readme template.HTML
	// Versioned is set on /packages/{name}/{version}.
	Versioned bool
	CanManage bool
	CloneURL  string
	GitTag    string
	Chart     chart
}

// packagePage serves GET /packages/{name}.
func (w *Web) packagePage(rw http.ResponseWriter, r *http.Request) error {
	return w.showPackage(rw, r, r.PathValue("name"), "")
}

// showPackage renders a package page: the latest version, or the one asked
// for. A name spelled differently from the package's own is redirected.
func (w *Web) showPackage(rw http.ResponseWriter, r *http.Request, name, version string) error {
	v, err := w.packagePageView(r.Context(), name, version)
	if err != nil {
		return err
	}
	if v.Name != name || (version != "" && v.Version.Version != version) {
		to := packageURL(v.Name)
		if version != "" {
			to = versionURL(v.Name, v.Version.Version)
		}
		httpx.Redirect(rw, r, to, http.StatusMovedPermanently)
		return nil
	}
	d := packageData{packageView: v, Readme: template.HTML(v.ReadmeHTML), Versioned: version != "", CloneURL: gitURL(r, v.Name),
		GitTag: "v" + v.Version.Version, Chart: newChart(v.Daily)}
	d.ShownVersions, d.MoreVersions = listedVersions(v.Versions, v.Version.Version)
	if p := stateOf(r).user; p != nil {
		d.CanManage = p.IsAdmin() || contains(v.Owners, p.Username)
	}
	title := v.Name
	if version != "" {
		title += " " + v.Version.Version
	}
	desc := v.Description
	if desc == "" {
		desc = v.Name + ", a Dryad package: versions, dependencies, source and how to install it with Oak"
	}
	status := http.StatusOK
	if v.Latest == "" && version == "" {
		// Every version is yanked: the page says so, and its status
		// says what GET /api/packages/{name} says, that nothing installs.
		status = http.StatusNotFound
	}
	sh := &share{Title: title, Description: desc, URL: canonicalURL(r), Type: "website"}
	w.render(rw, r, status, "package", meta{Title: title, Description: desc, Feed: packageURL(v.Name) + "/feed.xml", Share: sh}, d)
	return nil
}

// maxVersionsListed bounds the versions a package page lists; the
// versions page lists them all. A package with a thousand versions would
// otherwise make every view of its page render a thousand rows.
const maxVersionsListed = 30

// listedVersions returns the versions a package page lists, newest first:
// the newest maxVersionsListed, and the one the page shows (current) after
// them when it is older; more is set when some are left out.
func listedVersions(all []versionView, current string) (listed []versionView, more bool) {
	if len(all) <= maxVersionsListed {
		return all, false
	}
	listed = all[:maxVersionsListed:maxVersionsListed]
	for _, v := range all[maxVersionsListed:] {
		if v.Version == current {
			listed = append(listed, v)
		}
	}
	return listed, true
}

// versionsPage serves GET /packages/{name}/versions: every version of a
// package, newest first, with the diff form.
func (w *Web) versionsPage(rw http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	v, err := w.packagePageView(r.Context(), name, "")
	if err != nil {
		return err
	}
	if v.Name != name {
		httpx.Redirect(rw, r, versionsURL(v.Name), http.StatusMovedPermanently)
		return nil
	}
	title := v.Name + " versions"
	w.render(rw, r, http.StatusOK, "versions", meta{Title: title, Description: "Every version of " + v.Name + ", a Dryad package"}, packageData{packageView: v})
	return nil
}

func gitURL(r *http.Request, name string) string {
	return httpx.ClientOf(r).BaseURL + "/git/" + name + ".git"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// maxViewSize is the largest file the source browser shows inline; larger
// ones are offered for download.
const maxViewSize = 1 << 20

type filesData struct {
	*registry.ArchivePath
	Binary bool
	Lines  []string
}

// filesRoot redirects /packages/{name}/{version}/files to the listing of
// the package root.
func (w *Web) filesRoot(rw http.ResponseWriter, r *http.Request) error {
	httpx.Redirect(rw, r, filesURL(r.PathValue("name"), r.PathValue("version"), ""), http.StatusMovedPermanently)
	return nil
}

// files serves GET /packages/{name}/{version}/files/{path...}: a folder
// listing or a file of the published archive; ?raw=1 downloads a file as
// it is.
func (w *Web) files(rw http.ResponseWriter, r *http.Request) error {
	name, version, p := r.PathValue("name"), r.PathValue("version"), r.PathValue("path")
	if r.URL.Query().Get("raw") != "" {
		return w.rawFile(rw, r, name, version, p)
	}
	a, err := w.reg.BrowseArchive(r.Context(), name, version, p, maxViewSize)
	if err != nil {
		return err
	}
	if a.IsDir && p != "" && !strings.HasSuffix(p, "/") {
		httpx.Redirect(rw, r, filesURL(a.Package, a.Version, a.Path)+"/", http.StatusMovedPermanently)
		return nil
	}
	d := filesData{ArchivePath: a}
	if !a.IsDir && !a.TooLarge {
		if isBinary(a.Content) {
			d.Binary = true
		} else {
			d.Lines = strings.Split(strings.TrimSuffix(string(a.Content), "\n"), "\n")
		}
	}
	title := a.Package + " " + a.Version + " · /" + a.Path
	desc := "Files of " + a.Package + " " + a.Version + " as published"
	w.render(rw, r, http.StatusOK, "files", meta{Title: title, Description: desc}, d)
	return nil
}

// inlineImages are the raster image types a README may show from its own
// package, by file extension. They hold no script, so the browser may
// display them inline on the registry's origin.
var inlineImages = map[string]string{
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
	".webp": "image/webp", ".avif": "image/avif", ".ico": "image/x-icon", ".bmp": "image/bmp",
}

// rawFile streams one file of an archive: the raster images of
// inlineImages inline with their type (READMEs show them with <img>),
// everything else as a download. SVG keeps its type, so that an <img>
// still draws a package's logo (an image element never runs an SVG's
// scripts), but is sent as an attachment: opened directly, the browser
// saves it rather than render it on the registry's origin. HTML and any
// other type are attachments of type application/octet-stream. Every
// answer carries nosniff and a sandboxing CSP besides.
func (w *Web) rawFile(rw http.ResponseWriter, r *http.Request, name, version, p string) error {
	started := false
	err := w.reg.CopyArchiveFile(r.Context(), name, version, p, func(e registry.ArchiveEntry) {
		started = true
		h := rw.Header()
		ext := strings.ToLower(path.Ext(e.Path))
		disposition := "attachment"
		switch typ, ok := inlineImages[ext]; {
		case ok:
			h.Set("Content-Type", typ)
			disposition = "inline"
		case ext == ".svg":
			h.Set("Content-Type", "image/svg+xml")
		default:
			h.Set("Content-Type", "application/octet-stream")
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Disposition", disposition+"; filename*=UTF-8''"+url.PathEscape(path.Base(e.Path)))
		h.Set("Content-Length", strconv.FormatInt(e.Size, 10))
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("Cache-Control", "public, max-age=86400")
	}, rw)
	if err != nil && started {
		// The headers are gone; all that is left is to cut the response.
		w.log.WarnContext(r.Context(), "streaming an archive file", "path", r.URL.Path, "err", err)
		return nil
	}
	return err
}

// isBinary reports whether content looks like something other than text:
// a NUL byte in its first 8000 bytes, or invalid UTF-8.
func isBinary(b []byte) bool {
	head := b
	if len(head) > 8000 {
		head = head[:8000]
	}
	return bytes.IndexByte(head, 0) >= 0 || !utf8.Valid(b)
}

// user serves GET /users/{username}: a user's public profile.
func (w *Web) user(rw http.ResponseWriter, r *http.Request) error {
	prof, err := w.reg.PublicProfile(r.Context(), r.PathValue("username"))
	if err != nil {
		return err
	}
	desc := "Packages published by " + prof.Username
	w.render(rw, r, http.StatusOK, "user", meta{Title: prof.Username, Description: desc}, prof)
	return nil
}
