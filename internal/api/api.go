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
	// Limits is the rate-limit policy table; a policy with rate 0 is off.
	Limits        ratelimit.Table
	UploadTimeout time.Duration
	Checks        []Check
	Version       string
	Started       time.Time
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

// route is one endpoint of the API: its ServeMux pattern, the rate-limit
// policy that counts it and its handler.
type route struct {
	pattern string
	limit   *ratelimit.Policy
	fn      handlerFunc
}

// routes lists every endpoint of the API; Register serves them and the
// OpenAPI document is checked against them.
func (a *API) routes() []route {
	install, api, upload := &a.opts.Limits.Install, &a.opts.Limits.API, &a.opts.Limits.Upload
	return []route{
		{"GET /api/health", install, a.health},
		{"GET /api/openapi.json", api, a.openAPI},

		{"POST /api/auth/register", api, a.register},
		{"POST /api/auth/login", api, a.login},
		{"GET /api/auth/profile", api, a.profile},
		{"POST /api/auth/password", api, a.changePassword},

		{"GET /api/tokens", api, a.listTokens},
		{"POST /api/tokens", api, a.createToken},
		{"DELETE /api/tokens/{id}", api, a.revokeToken},

		{"GET /api/packages", api, a.search},
		{"GET /api/search", api, a.search},
		{"GET /api/stats", api, a.totals},
		{"GET /api/packages/{name}", install, a.getPackage},
		{"DELETE /api/packages/{name}", api, a.deletePackage},
		{"GET /api/packages/{name}/versions", api, a.versions},
		{"GET /api/packages/{name}/versions/{version}", api, a.version},
		{"DELETE /api/packages/{name}/versions/{version}", api, a.deleteVersion},
		{"PUT /api/packages/{name}/versions/{version}/yank", api, a.yank},
		{"DELETE /api/packages/{name}/versions/{version}/yank", api, a.unyank},
		{"GET /api/packages/{name}/resolve", api, a.resolve},
		{"GET /api/packages/{name}/stats", api, a.stats},
		{"GET /api/packages/{name}/history", api, a.history},
		{"GET /api/packages/{name}/owners", api, a.owners},
		{"PUT /api/packages/{name}/owners", api, a.addOwners},
		{"DELETE /api/packages/{name}/owners", api, a.removeOwners},
		{"POST /api/upload", upload, a.upload},

		{"GET /api/admin/users", api, a.adminUsers},
		{"PUT /api/admin/users/{username}", api, a.adminUpdateUser},
		{"GET /api/admin/audit", api, a.adminAudit},
		{"GET /api/admin/packages/{name}", api, a.adminPackage},
		{"DELETE /api/admin/packages/{name}", api, a.deletePackage},
		{"DELETE /api/admin/packages/{name}/versions/{version}", api, a.deleteVersion},
	}
}

// Register adds the API's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	for _, rt := range a.routes() {
		mux.Handle(rt.pattern, a.handle(rt.fn, rt.limit))
	}
	mux.Handle("/api/", a.handle(func(w http.ResponseWriter, r *http.Request) error {
		return errs.Errorf(errs.NotFound, "no API endpoint %s %s; the API is described at /api/openapi.json", r.Method, r.URL.Path)
	}, &a.opts.Limits.API))
}

// Patterns lists the ServeMux patterns of every API endpoint.
func (a *API) Patterns() []string {
	var ps []string
	for _, rt := range a.routes() {
		ps = append(ps, rt.pattern)
	}
	return ps
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle wraps a handler: it authenticates the caller (so that limits apply
// per user), applies the rate limit, runs the handler and writes its error.
func (a *API) handle(fn handlerFunc, limit *ratelimit.Policy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := a.serve(w, r, fn, limit)
		if err != nil {
			a.WriteError(w, r, err)
		}
	})
}

func (a *API) serve(w http.ResponseWriter, r *http.Request, fn handlerFunc, limit *ratelimit.Policy) error {
	client := httpx.ClientOf(r)
	p, authErr := a.reg.AuthenticateHeader(r.Context(), r.Header.Get("Authorization"))
	key := "ip:" + client.IP
	if p != nil {
		key = "user:" + strconv.FormatInt(p.UserID, 10)
	}
	if err := a.limit(r.Context(), w, limit, key); err != nil {
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

// limit spends one request of key's budget under the policy; a limiter
// that is down lets the request through (the edge's limits still apply).
func (a *API) limit(ctx context.Context, w http.ResponseWriter, p *ratelimit.Policy, key string) error {
	if p == nil || p.Off() {
		return nil
	}
	res, err := p.Allow(ctx, a.lim, key)
	if err != nil && errs.KindOf(err) != errs.RateLimited {
		a.log.WarnContext(ctx, "rate limiter unavailable", "err", err)
		return nil
	}
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(p.Limit.Burst))
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(res.Remaining))
	if err != nil {
		a.reg.Observe().RateLimited(p.Name)
	}
	return err
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
		w.Header().Set("Retry-After", ratelimit.RetrySeconds(d))
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
