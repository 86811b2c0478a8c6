// Package web serves the registry's web interface: pages rendered on the
// server with html/template from the registry service's read models, and
// static assets embedded in the binary. Every page works without
// JavaScript; a small hand-written script adds drag and drop, upload
// progress and copy buttons where a browser runs it.
//
// Handlers hold no business rules: they decode the request, call the
// registry and render its answer; every error goes through one writer that
// renders it in the site's layout with the status of its kind.
package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/cache"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/httpx"
	"github.com/dryad-lang/registry/internal/ratelimit"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/tlog"
)

// Registry is what the web interface needs of the registry;
// *registry.Service is one. It is declared here, with its user, so that
// the pages' dependence on the domain is written down in one place.
type Registry interface {
	// Visitors.
	SessionPrincipal(ctx context.Context, id string) (*auth.Principal, error)
	SignIn(ctx context.Context, login, password, ip string) (*registry.Session, error)
	EndSession(ctx context.Context, id string) error
	Register(ctx context.Context, r registry.Registration, ip string) (*registry.User, error)
	ChangePassword(ctx context.Context, p *auth.Principal, oldPassword, newPassword, ip string) error
	Tokens(ctx context.Context, p *auth.Principal) ([]registry.Token, error)
	CreateToken(ctx context.Context, p *auth.Principal, r registry.TokenRequest, ip string) (*registry.NewToken, error)
	RevokeToken(ctx context.Context, p *auth.Principal, id int64, ip string) error

	// Reads.
	Package(ctx context.Context, name string) (*registry.Package, error)
	PackageScope(ctx context.Context, name string) string
	Stats(ctx context.Context, name string) (*registry.PackageStats, error)
	Dependents(ctx context.Context, name string) ([]registry.Dependent, error)
	Impact(ctx context.Context, q registry.ImpactQuery) (*registry.Impact, error)
	Totals(ctx context.Context) (*registry.RegistryStats, error)
	Search(ctx context.Context, text, sort string, limit, offset int) (*registry.SearchResult, error)
	Top(ctx context.Context, sort string, limit int) (*registry.SearchResult, error)
	Find(ctx context.Context, q registry.SearchQuery) (*registry.SearchResult, error)
	Trending(ctx context.Context, limit int) ([]registry.TrendingPackage, error)
	UserPackages(ctx context.Context, userID int64) ([]registry.PackageSummary, error)
	PublicProfile(ctx context.Context, username string) (*registry.PublicUser, error)
	DiffVersions(ctx context.Context, name, from, to string) (*registry.VersionDiff, error)
	BrowseArchive(ctx context.Context, name, version, p string, max int64) (*registry.ArchivePath, error)
	CopyArchiveFile(ctx context.Context, name, version, p string, start func(registry.ArchiveEntry), w io.Writer) error
	LogKey() string
	LogCheckpoint(ctx context.Context) ([]byte, tlog.Tree, error)
	VersionLog(ctx context.Context, name, version string) ([]registry.LogEntry, error)
	RecentVersions(ctx context.Context, limit int) ([]registry.Version, error)
	PackageFeed(ctx context.Context, name string) (*registry.Package, error)

	// Changes.
	Publish(ctx context.Context, p *auth.Principal, body io.Reader, ip string) (*registry.Published, error)
	MaxPackageSize() int64
	CanManage(ctx context.Context, p *auth.Principal, name string) (bool, error)
	SetYanked(ctx context.Context, p *auth.Principal, name, version string, yanked bool, ip string) (*registry.Version, error)
	DeleteVersion(ctx context.Context, p *auth.Principal, name, version, ip string) (*registry.Version, error)
	DeletePackage(ctx context.Context, p *auth.Principal, name, ip string) (string, error)
	AddOwners(ctx context.Context, p *auth.Principal, name string, usernames []string, ip string) (*registry.OwnerList, error)
	RemoveOwners(ctx context.Context, p *auth.Principal, name string, usernames []string, ip string) (*registry.OwnerList, error)
	PackageGitState(ctx context.Context, p *auth.Principal, name string) (*registry.GitState, error)
	Webhooks(ctx context.Context, p *auth.Principal, name string) (*registry.WebhookList, error)
	CreateWebhook(ctx context.Context, p *auth.Principal, name string, in registry.WebhookInput, ip string) (*registry.Webhook, error)
	SetWebhookActive(ctx context.Context, p *auth.Principal, name string, id int64, active bool, ip string) (*registry.Webhook, error)
	DeleteWebhook(ctx context.Context, p *auth.Principal, name string, id int64, ip string) error
	WebhookDeliveries(ctx context.Context, p *auth.Principal, name string, limit int) (*registry.DeliveryList, error)
	Redeliver(ctx context.Context, p *auth.Principal, name string, deliveryID int64, ip string) error

	// Administration.
	ListUsers(ctx context.Context, p *auth.Principal, query string, limit, offset int) (*registry.UserList, error)
	UpdateUser(ctx context.Context, p *auth.Principal, username string, c registry.UserChange, ip string) (*registry.User, error)
	Audit(ctx context.Context, p *auth.Principal, q registry.AuditQuery) (*registry.AuditPage, error)
}

var _ Registry = (*registry.Service)(nil)

// Options configure the web interface. Registry, Cache and CSRFKey are
// required.
type Options struct {
	Registry Registry
	// Cache keeps the package pages' models, shared by instances; it must
	// be the cache the registry invalidates.
	Cache cache.Cache
	// OnCacheRead is told whether each read of a page model hit the cache.
	OnCacheRead func(hit bool)
	// CSRFKey signs the CSRF tokens of the forms.
	CSRFKey []byte
	Logger  *slog.Logger
	// Name and Description are the registry's name and one-line
	// description, shown in the header and in page titles.
	Name        string
	Description string
	// Limits gives the policies of uploads (per user, shared with the
	// API's budget) and of sign-in and registration posts (per address).
	Limits ratelimit.Table
	// Version is the registry's version, shown in the footer.
	Version string
	// APIReference is the API's OpenAPI document, shown at /docs/api.
	APIReference []byte
}

// Web is the web interface.
type Web struct {
	reg    Registry
	log    *slog.Logger
	opts   Options
	pages  map[string]*pageTemplate
	assets *assets
	apiRef *apiReference
}

// New parses the templates and indexes the assets.
func New(o Options) (*Web, error) {
	if o.Registry == nil || o.Cache == nil || len(o.CSRFKey) == 0 {
		return nil, errors.New("web: Registry, Cache and CSRFKey are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Name == "" {
		o.Name = "Dryad Registry"
	}
	a, err := loadAssets()
	if err != nil {
		return nil, err
	}
	w := &Web{reg: o.Registry, log: o.Logger, opts: o, assets: a}
	if w.pages, err = parsePages(w.funcs()); err != nil {
		return nil, err
	}
	if o.APIReference != nil {
		if w.apiRef, err = newAPIReference(o.APIReference); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// Routes lists the web interface's pages. The server routes
// GET /packages/{name}/{version} to VersionPage itself (see VersionRoute),
// since downloads share that path shape.
func (w *Web) Routes() []httpx.Route {
	form, upload := &w.opts.Limits.Form, &w.opts.Limits.Upload
	page := func(pattern string, fn handlerFunc) httpx.Route {
		return w.route(pattern, nil, httpx.DeadlineDefault, fn)
	}
	return []httpx.Route{
		page("GET /{$}", w.home),
		page("GET /search", w.search),
		page("GET /keywords/{keyword}", w.keyword),
		page("GET /packages/{name}", w.packagePage),
		page("GET /packages/{name}/{version}/files", w.filesRoot),
		w.route("GET /packages/{name}/{version}/files/{path...}", nil, httpx.DeadlineDownload, w.files),
		page("GET /packages/{name}/diff", w.diffForm),
		page("GET /packages/{name}/versions", w.versionsPage),
		w.route("GET /packages/{name}/{from}/diff/{to}", nil, httpx.DeadlineDownload, w.diffPage),
		page("GET /users/{username}", w.user),
		page("GET /docs/api", w.apiReferencePage),
		page("GET /log", w.logPage),
		page("GET /feed.xml", w.registryFeed),
		page("GET /robots.txt", w.robots),
		page("GET /sitemap.xml", w.sitemap),
		page("GET /packages/{name}/feed.xml", w.packageFeed),
		page("GET /badge/{file}", w.badgeVersion),
		page("GET /badge/{name}/downloads.svg", w.badgeDownloads),

		page("GET /login", w.loginForm),
		w.route("POST /login", form, httpx.DeadlineDefault, w.login),
		page("GET /register", w.registerForm),
		w.route("POST /register", form, httpx.DeadlineDefault, w.register),
		page("GET /logout", w.logoutForm),
		page("POST /logout", w.logout),

		page("GET /upload", w.uploadForm),
		w.route("POST /upload", upload, httpx.DeadlineUpload, w.upload),

		page("GET /dashboard", w.dashboard),
		page("POST /dashboard/password", w.changePassword),
		page("POST /dashboard/tokens", w.createToken),
		page("POST /dashboard/tokens/{id}/revoke", w.revokeToken),
		page("GET /dashboard/packages/{name}", w.managePage),
		page("GET /dashboard/packages/{name}/yank", w.yankConfirm),
		page("POST /dashboard/packages/{name}/yank", w.yank),
		page("GET /dashboard/packages/{name}/delete", w.deleteConfirm),
		page("POST /dashboard/packages/{name}/delete", w.deletePackage),
		page("POST /dashboard/packages/{name}/owners", w.addOwner),
		page("POST /dashboard/packages/{name}/owners/remove", w.removeOwner),
		page("POST /dashboard/packages/{name}/webhooks", w.createHook),
		page("POST /dashboard/packages/{name}/webhooks/delete", w.deleteHook),
		page("POST /dashboard/packages/{name}/webhooks/active", w.switchHook),
		page("POST /dashboard/packages/{name}/webhooks/redeliver", w.redeliverHook),

		page("GET /admin", w.admin),
		page("POST /admin/users/{username}", w.adminUpdateUser),
		page("POST /admin/webhooks", w.adminCreateHook),
		page("POST /admin/webhooks/delete", w.adminDeleteHook),
		page("POST /admin/webhooks/active", w.adminSwitchHook),
		page("POST /admin/webhooks/redeliver", w.adminRedeliverHook),

		{Pattern: "GET /static/{hash}/{file}", Handler: securityHeaders(http.HandlerFunc(w.static))},
		// Everything no other route claims is a page that does not exist.
		// A path that exists for other methods answers 405 (the server
		// finds which: see httpx.Allowed).
		page("/", func(rw http.ResponseWriter, r *http.Request) error {
			if err := httpx.NotAllowed(rw, r); err != nil {
				return err
			}
			return errs.Errorf(errs.NotFound, "there is no page at %s", r.URL.Path)
		}),
	}
}

// VersionRoute is GET /packages/{name}/{version}, the package page showing
// one version, without its handler: the server serves it by VersionPage.
func (w *Web) VersionRoute() httpx.Route {
	return httpx.Route{Identify: w.identify, Refuse: w.WriteError}
}

// route declares one page: visitors are known by their session cookie,
// never by an Authorization header, and refusals are pages.
func (w *Web) route(pattern string, limit *ratelimit.Policy, d httpx.Deadline, fn handlerFunc) httpx.Route {
	return httpx.Route{Pattern: pattern, Handler: w.handle(fn), Limit: limit, Deadline: d, Identify: w.identify, Refuse: w.refuse}
}

// identify finds the visitor of the session cookie, if any.
func (w *Web) identify(r *http.Request) (*auth.Principal, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	return w.reg.SessionPrincipal(r.Context(), c.Value)
}

// refuse writes a refusal of the server's middleware: JSON to the upload
// page's script, else a page.
func (w *Web) refuse(rw http.ResponseWriter, r *http.Request, err error) {
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		httpx.WriteError(rw, r, w.log, err)
		return
	}
	w.WriteError(rw, r, err)
}

// VersionPage serves GET /packages/{name}/{version}: the package page
// showing one version.
func (w *Web) VersionPage(rw http.ResponseWriter, r *http.Request, name, version string) {
	w.handle(func(rw http.ResponseWriter, r *http.Request) error {
		return w.showPackage(rw, r, name, version)
	}).ServeHTTP(rw, r)
}

// handlerFunc is a page handler; its error is rendered by handle.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle wraps a page handler: security headers, the signed-in user, and
// errors rendered as pages. Panics are the server's (its middleware
// renders them with WriteError).
func (w *Web) handle(fn handlerFunc) http.Handler {
	return securityHeaders(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		r, err := w.withSession(rw, r)
		if err == nil {
			err = fn(rw, r)
		}
		if err != nil {
			w.WriteError(rw, r, err)
		}
	}))
}

// errorData is what the error page shows.
type errorData struct {
	Status  int
	Heading string
	Message string
	// RequestID lets a visitor quote the failure to the registry's admins.
	RequestID string
}

// WriteError renders err as the error page of its kind. Internal errors
// are logged with the request id and shown without details. A visitor who
// is not signed in and meets a 401 is sent to the sign-in page instead.
func (w *Web) WriteError(rw http.ResponseWriter, r *http.Request, err error) {
	kind := errs.KindOf(err)
	if kind == errs.Internal {
		w.log.ErrorContext(r.Context(), "page failed", "method", r.Method, "path", r.URL.Path, "err", err,
			"request_id", httpx.RequestID(r.Context()))
	}
	if kind == errs.Unauthenticated && r.Method == http.MethodGet && stateOf(r).user == nil {
		redirect(rw, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()))
		return
	}
	if d, ok := errs.RetryAfter(err); ok {
		rw.Header().Set("Retry-After", ratelimit.RetrySeconds(d))
	}
	status := kind.Status()
	heading := map[errs.Kind]string{
		errs.NotFound:         "Page not found",
		errs.Gone:             "Deleted",
		errs.Forbidden:        "Not allowed",
		errs.Unauthenticated:  "Sign in required",
		errs.Invalid:          "Bad request",
		errs.TooLarge:         "Too large",
		errs.RateLimited:      "Slow down",
		errs.Unavailable:      "Temporarily unavailable",
		errs.Conflict:         "Conflict",
		errs.Unprocessable:    "Cannot do that",
		errs.MethodNotAllowed: "Method not allowed",
	}[kind]
	if heading == "" {
		heading = "Something went wrong"
	}
	data := errorData{Status: status, Heading: heading, Message: errs.Message(err), RequestID: httpx.RequestID(r.Context())}
	w.render(rw, r, status, "error", meta{Title: fmt.Sprintf("%d %s", status, heading), Description: data.Message}, data)
}
