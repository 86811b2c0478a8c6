// Package api serves the registry's JSON API under /api and package
// downloads. Handlers decode the request, call the registry service and
// encode its answer; every error goes through one writer that turns its
// kind into a status and a JSON body {"error": kind, "message": text}.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/httpx"
	"github.com/dryad-lang/registry/internal/ratelimit"
	"github.com/dryad-lang/registry/internal/registry"
)

// Check is one dependency checked by GET /api/health.
type Check struct {
	Name string
	// Critical checks make the registry unhealthy (503) when they fail;
	// the others make it degraded (200).
	Critical bool
	Run      func(ctx context.Context) error
	// Info, when set, adds details to the check's report.
	Info func(ctx context.Context) map[string]any
}

// Options configure the API.
type Options struct {
	Registry *registry.Service
	Limiter  ratelimit.Limiter
	Logger   *slog.Logger
	// APIRate and UploadRate are requests per second per client; 0 turns
	// the limit off. Bursts are twice the API rate and 5 uploads (at least
	// 2.5 times the upload rate).
	APIRate, UploadRate float64
	UploadTimeout       time.Duration
	Checks              []Check
	Version             string
	Started             time.Time
}

// API is the JSON API.
type API struct {
	reg  *registry.Service
	lim  ratelimit.Limiter
	log  *slog.Logger
	opts Options
}

// New returns the API.
func New(o Options) *API {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.UploadTimeout == 0 {
		o.UploadTimeout = 300 * time.Second
	}
	if o.Started.IsZero() {
		o.Started = time.Now()
	}
	return &API{reg: o.Registry, lim: o.Limiter, log: o.Logger, opts: o}
}

// Register adds the API's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	h := a.handle
	mux.Handle("GET /api/health", h(a.health, limitNone))

	mux.Handle("POST /api/auth/register", h(a.register, limitAPI))
	mux.Handle("POST /api/auth/login", h(a.login, limitAPI))
	mux.Handle("GET /api/auth/profile", h(a.profile, limitAPI))
	mux.Handle("POST /api/auth/password", h(a.changePassword, limitAPI))

	mux.Handle("GET /api/tokens", h(a.listTokens, limitAPI))
	mux.Handle("POST /api/tokens", h(a.createToken, limitAPI))
	mux.Handle("DELETE /api/tokens/{id}", h(a.revokeToken, limitAPI))

	mux.Handle("GET /api/packages", h(a.search, limitAPI))
	mux.Handle("GET /api/search", h(a.search, limitAPI))
	mux.Handle("GET /api/stats", h(a.totals, limitAPI))
	mux.Handle("GET /api/packages/{name}", h(a.getPackage, limitAPI))
	mux.Handle("DELETE /api/packages/{name}", h(a.deletePackage, limitAPI))
	mux.Handle("GET /api/packages/{name}/versions", h(a.versions, limitAPI))
	mux.Handle("GET /api/packages/{name}/versions/{version}", h(a.version, limitAPI))
	mux.Handle("DELETE /api/packages/{name}/versions/{version}", h(a.deleteVersion, limitAPI))
	mux.Handle("PUT /api/packages/{name}/versions/{version}/yank", h(a.yank, limitAPI))
	mux.Handle("DELETE /api/packages/{name}/versions/{version}/yank", h(a.unyank, limitAPI))
	mux.Handle("GET /api/packages/{name}/resolve", h(a.resolve, limitAPI))
	mux.Handle("GET /api/packages/{name}/stats", h(a.stats, limitAPI))
	mux.Handle("GET /api/packages/{name}/history", h(a.history, limitAPI))
	mux.Handle("GET /api/packages/{name}/owners", h(a.owners, limitAPI))
	mux.Handle("PUT /api/packages/{name}/owners", h(a.addOwners, limitAPI))
	mux.Handle("DELETE /api/packages/{name}/owners", h(a.removeOwners, limitAPI))
	mux.Handle("POST /api/upload", h(a.upload, limitUpload))

	mux.Handle("GET /api/admin/users", h(a.adminUsers, limitAPI))
	mux.Handle("PUT /api/admin/users/{username}", h(a.adminUpdateUser, limitAPI))
	mux.Handle("GET /api/admin/audit", h(a.adminAudit, limitAPI))
	mux.Handle("GET /api/admin/packages/{name}", h(a.adminPackage, limitAPI))
	mux.Handle("DELETE /api/admin/packages/{name}", h(a.deletePackage, limitAPI))
	mux.Handle("DELETE /api/admin/packages/{name}/versions/{version}", h(a.deleteVersion, limitAPI))

	mux.Handle("/api/", h(func(w http.ResponseWriter, r *http.Request) error {
		return errs.Errorf(errs.NotFound, "no API endpoint %s %s", r.Method, r.URL.Path)
	}, limitAPI))
}

type limitKind int

const (
	limitNone limitKind = iota
	limitAPI
	limitUpload
)

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle wraps a handler: it authenticates the caller (so that limits apply
// per user), applies the rate limit, runs the handler and writes its error.
func (a *API) handle(fn handlerFunc, lk limitKind) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := a.serve(w, r, fn, lk)
		if err != nil {
			a.WriteError(w, r, err)
		}
	})
}

func (a *API) serve(w http.ResponseWriter, r *http.Request, fn handlerFunc, lk limitKind) error {
	client := httpx.ClientOf(r)
	p, authErr := a.reg.AuthenticateHeader(r.Context(), r.Header.Get("Authorization"))
	key := "ip:" + client.IP
	if p != nil {
		key = "user:" + strconv.FormatInt(p.UserID, 10)
	}
	if err := a.limit(r.Context(), w, lk, key); err != nil {
		return err
	}
	if authErr != nil {
		return authErr
	}
	if p != nil {
		r = r.WithContext(auth.WithPrincipal(r.Context(), p))
	}
	return fn(w, r)
}

func (a *API) limit(ctx context.Context, w http.ResponseWriter, lk limitKind, key string) error {
	var l ratelimit.Limit
	var scope string
	switch lk {
	case limitAPI:
		if a.opts.APIRate <= 0 {
			return nil
		}
		l, scope = ratelimit.Limit{Rate: a.opts.APIRate, Burst: int(math.Ceil(a.opts.APIRate * 2))}, "api"
	case limitUpload:
		if a.opts.UploadRate <= 0 {
			return nil
		}
		l, scope = ratelimit.Limit{Rate: a.opts.UploadRate, Burst: max(5, int(math.Ceil(a.opts.UploadRate*2.5)))}, "upload"
	default:
		return nil
	}
	res, err := a.lim.Allow(ctx, scope+":"+key, l)
	if err != nil {
		a.log.WarnContext(ctx, "rate limiter unavailable", "err", err)
		return nil
	}
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(l.Burst))
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(res.Remaining))
	if !res.Allowed {
		a.reg.Observe().RateLimited(scope)
		return errs.RateLimit(res.RetryAfter, "too many requests; slow down and retry after the time in Retry-After")
	}
	return nil
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// WriteError writes err as the JSON error answer of its kind. Internal
// errors are logged with the request id and answered without details.
func (a *API) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	kind := errs.KindOf(err)
	if kind == errs.Internal {
		a.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err,
			"request_id", httpx.RequestID(r.Context()))
	}
	if d, ok := errs.RetryAfter(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(d.Seconds())))))
	}
	if kind == errs.Unauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="dryad-registry"`)
	}
	writeJSON(w, kind.Status(), errorBody{Error: kind.Code(), Message: errs.Message(err)})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
	return nil
}

// maxJSONBody bounds JSON request bodies.
const maxJSONBody = 64 << 10

// decodeJSON reads a JSON object body strictly: one object, known fields
// only, at most maxJSONBody bytes.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	// The Content-Type is not checked: the API authenticates with bearer
	// tokens, never cookies, so a cross-site form post carries no
	// credentials, and clients such as curl -d label JSON as a form.
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return errs.Errorf(errs.TooLarge, "JSON body larger than %d bytes", maxJSONBody)
		case errors.Is(err, io.EOF):
			return errs.New(errs.Invalid, "the request body is empty; send a JSON object")
		case errors.As(err, &syn):
			return errs.Errorf(errs.Invalid, "malformed JSON at byte %d", syn.Offset)
		case errors.As(err, &typ):
			return errs.Errorf(errs.Invalid, "field %q must be a %s", typ.Field, typ.Type.String())
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return errs.Errorf(errs.Invalid, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return errs.Errorf(errs.Invalid, "malformed JSON: %v", err)
	}
	if dec.More() {
		return errs.New(errs.Invalid, "send exactly one JSON object")
	}
	return nil
}

func principal(r *http.Request) *auth.Principal {
	p, _ := auth.FromContext(r.Context())
	return p
}

func clientIP(r *http.Request) string { return httpx.ClientOf(r).IP }

// pageParams reads the optional limit and offset of a list.
func pageParams(r *http.Request, defaultLimit int) (limit, offset int, err error) {
	if limit, err = intParam(r, "limit", defaultLimit); err != nil {
		return 0, 0, err
	}
	offset, err = intParam(r, "offset", 0)
	return limit, offset, err
}

// intParam reads an optional integer query parameter.
func intParam(r *http.Request, name string, def int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, errs.Errorf(errs.Invalid, "%s=%q: want a whole number", name, s)
	}
	return n, nil
}
