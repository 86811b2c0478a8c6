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
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/httpx"
	"github.com/dryad-lang/registry/internal/ratelimit"
	"github.com/dryad-lang/registry/internal/registry"
)

// Options configure the web interface. Registry is required.
type Options struct {
	Registry *registry.Service
	Logger   *slog.Logger
	// Name and Description are the registry's name and one-line
	// description, shown in the header and in page titles.
	Name        string
	Description string
	// UploadTimeout is the longest an upload through /upload may take.
	UploadTimeout time.Duration
	// Limiter, when set, applies the table's Upload policy to uploads (per
	// user, shared with the API's budget) and its Form policy to sign-in
	// and registration posts (per client address).
	Limiter ratelimit.Limiter
	Limits  ratelimit.Table
	// Version is the registry's version, shown in the footer.
	Version string
	// APIReference is the API's OpenAPI document, shown at /docs/api.
	APIReference []byte
}

// Web is the web interface.
type Web struct {
	reg    *registry.Service
	log    *slog.Logger
	opts   Options
	pages  map[string]*pageTemplate
	assets *assets
	apiRef *apiReference
}

// New parses the templates and indexes the assets.
func New(o Options) (*Web, error) {
	if o.Registry == nil {
		return nil, errors.New("web: Registry is required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Name == "" {
		o.Name = "Dryad Registry"
	}
	if o.UploadTimeout == 0 {
		o.UploadTimeout = 300 * time.Second
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

// Register adds the web interface's routes to mux. The server routes
// GET /packages/{name}/{version} to VersionPage itself, since downloads
// share that path shape.
func (w *Web) Register(mux *http.ServeMux) {
	h := w.handle
	mux.Handle("GET /{$}", h(w.home))
	mux.Handle("GET /search", h(w.search))
	mux.Handle("GET /packages/{name}", h(w.packagePage))
	mux.Handle("GET /packages/{name}/{version}/files", h(w.filesRoot))
	mux.Handle("GET /packages/{name}/{version}/files/{path...}", h(w.files))
	mux.Handle("GET /users/{username}", h(w.user))
	mux.Handle("GET /docs/api", h(w.apiReferencePage))

	mux.Handle("GET /login", h(w.loginForm))
	mux.Handle("POST /login", h(w.login))
	mux.Handle("GET /register", h(w.registerForm))
	mux.Handle("POST /register", h(w.register))
	mux.Handle("GET /logout", h(w.logoutForm))
	mux.Handle("POST /logout", h(w.logout))

	mux.Handle("GET /upload", h(w.uploadForm))
	mux.Handle("POST /upload", h(w.upload))

	mux.Handle("GET /dashboard", h(w.dashboard))
	mux.Handle("POST /dashboard/password", h(w.changePassword))
	mux.Handle("POST /dashboard/tokens", h(w.createToken))
	mux.Handle("POST /dashboard/tokens/{id}/revoke", h(w.revokeToken))
	mux.Handle("GET /dashboard/packages/{name}", h(w.managePage))
	mux.Handle("POST /dashboard/packages/{name}/yank", h(w.yank))
	mux.Handle("GET /dashboard/packages/{name}/delete", h(w.deleteConfirm))
	mux.Handle("POST /dashboard/packages/{name}/delete", h(w.deletePackage))
	mux.Handle("POST /dashboard/packages/{name}/owners", h(w.addOwner))
	mux.Handle("POST /dashboard/packages/{name}/owners/remove", h(w.removeOwner))

	mux.Handle("GET /admin", h(w.admin))
	mux.Handle("POST /admin/users/{username}", h(w.adminUpdateUser))

	mux.Handle("GET /static/{hash}/{file}", securityHeaders(http.HandlerFunc(w.static)))
	// Everything no other route claims is a page that does not exist.
	mux.Handle("/", h(func(rw http.ResponseWriter, r *http.Request) error {
		return errs.Errorf(errs.NotFound, "there is no page at %s", r.URL.Path)
	}))
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

// handle wraps a page handler: security headers, the signed-in user, a
// recovered panic rendered as the 500 page, and errors rendered as pages.
func (w *Web) handle(fn handlerFunc) http.Handler {
	return securityHeaders(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		r, err := w.withSession(rw, r)
		if err == nil {
			err = w.recovered(rw, r, fn)
		}
		if err != nil {
			w.writeError(rw, r, err)
		}
	}))
}

// recovered runs fn and turns a panic into an internal error (the stack is
// logged), so the visitor gets the 500 page instead of a dropped connection.
func (w *Web) recovered(rw http.ResponseWriter, r *http.Request, fn handlerFunc) (err error) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		w.log.ErrorContext(r.Context(), "panic serving page", "request_id", httpx.RequestID(r.Context()),
			"path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		err = errors.New("panic serving page")
	}()
	return fn(rw, r)
}

// errorData is what the error page shows.
type errorData struct {
	Status  int
	Heading string
	Message string
	// RequestID lets a visitor quote the failure to the registry's admins.
	RequestID string
}

// writeError renders err as the error page of its kind. Internal errors
// are logged with the request id and shown without details. A visitor who
// is not signed in and meets a 401 is sent to the sign-in page instead.
func (w *Web) writeError(rw http.ResponseWriter, r *http.Request, err error) {
	kind := errs.KindOf(err)
	if kind == errs.Internal {
		w.log.ErrorContext(r.Context(), "page failed", "method", r.Method, "path", r.URL.Path, "err", err,
			"request_id", httpx.RequestID(r.Context()))
	}
	if kind == errs.Unauthenticated && r.Method == http.MethodGet && stateOf(r).user == nil {
		http.Redirect(rw, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if d, ok := errs.RetryAfter(err); ok {
		rw.Header().Set("Retry-After", fmt.Sprint(max(1, int(d.Seconds()+0.999))))
	}
	status := kind.Status()
	heading := map[errs.Kind]string{
		errs.NotFound:        "Page not found",
		errs.Gone:            "Deleted",
		errs.Forbidden:       "Not allowed",
		errs.Unauthenticated: "Sign in required",
		errs.Invalid:         "Bad request",
		errs.TooLarge:        "Too large",
		errs.RateLimited:     "Slow down",
		errs.Unavailable:     "Temporarily unavailable",
		errs.Conflict:        "Conflict",
		errs.Unprocessable:   "Cannot do that",
	}[kind]
	if heading == "" {
		heading = "Something went wrong"
	}
	data := errorData{Status: status, Heading: heading, Message: errs.Message(err), RequestID: httpx.RequestID(r.Context())}
	w.render(rw, r, status, "error", meta{Title: fmt.Sprintf("%d %s", status, heading), Description: data.Message}, data)
}
