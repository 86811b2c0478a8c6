// Package api serves the registry's JSON API under /api and package
// downloads. It owns the wire format (the Oak document among it): handlers
// decode the request, call the registry and encode its read models; every
// error goes through one writer that turns its kind into a status and a
// JSON body {"error": kind, "message": text}. Who the caller is, the rate
// limits and the deadlines are the server's middleware, from each route's
// declaration.
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
	"github.com/dryad-lang/registry/internal/blob"
	"github.com/dryad-lang/registry/internal/cache"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/httpx"
	"github.com/dryad-lang/registry/internal/ratelimit"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/tlog"
)

// Registry is what the API needs of the registry; *registry.Service is
// one. It is declared here, with its user, so that the API's dependence
// on the domain is written down in one place.
type Registry interface {
	// Callers and accounts.
	AuthenticateHeader(ctx context.Context, header string) (*auth.Principal, error)
	Register(ctx context.Context, r registry.Registration, ip string) (*registry.User, error)
	Login(ctx context.Context, login, password, ip string) (*registry.LoginResult, error)
	Profile(ctx context.Context, p *auth.Principal) (*registry.User, error)
	ChangePassword(ctx context.Context, p *auth.Principal, oldPassword, newPassword, ip string) error
	Tokens(ctx context.Context, p *auth.Principal) ([]registry.Token, error)
	CreateToken(ctx context.Context, p *auth.Principal, r registry.TokenRequest, ip string) (*registry.NewToken, error)
	RevokeToken(ctx context.Context, p *auth.Principal, id int64, ip string) error
	RevokeOwnToken(ctx context.Context, p *auth.Principal, ip string) (int64, error)

	// Reads.
	Package(ctx context.Context, name string) (*registry.Package, error)
	PackageScope(ctx context.Context, name string) string
	Version(ctx context.Context, name, version string) (*registry.Version, error)
	Resolve(ctx context.Context, name, rng string) (*registry.Version, error)
	Stats(ctx context.Context, name string) (*registry.PackageStats, error)
	DiffVersions(ctx context.Context, name, from, to string) (*registry.VersionDiff, error)
	Totals(ctx context.Context) (*registry.RegistryStats, error)
	History(ctx context.Context, name string, limit, offset int) (*registry.HistoryPage, error)
	Find(ctx context.Context, q registry.SearchQuery) (*registry.SearchResult, error)
	Owners(ctx context.Context, name string) (*registry.OwnerList, error)
	Impact(ctx context.Context, q registry.ImpactQuery) (*registry.Impact, error)

	// Archives.
	LookupArchive(ctx context.Context, name, version string) (*registry.ArchiveRef, error)
	OpenArchive(ctx context.Context, ref *registry.ArchiveRef) (blob.File, error)
	ArchiveURL(ctx context.Context, ref *registry.ArchiveRef) (string, error)
	CountDownload(ctx context.Context, ref *registry.ArchiveRef)

	// Changes.
	Publish(ctx context.Context, p *auth.Principal, body io.Reader, ip string) (*registry.Published, error)
	MaxPackageSize() int64
	SetYanked(ctx context.Context, p *auth.Principal, name, version string, yanked bool, ip string) (*registry.Version, error)
	DeleteVersion(ctx context.Context, p *auth.Principal, name, version, ip string) (*registry.Version, error)
	DeletePackage(ctx context.Context, p *auth.Principal, name, ip string) (string, error)
	AddOwners(ctx context.Context, p *auth.Principal, name string, usernames []string, ip string) (*registry.OwnerList, error)
	RemoveOwners(ctx context.Context, p *auth.Principal, name string, usernames []string, ip string) (*registry.OwnerList, error)

	// Administration.
	ListUsers(ctx context.Context, p *auth.Principal, query string, limit, offset int) (*registry.UserList, error)
	UpdateUser(ctx context.Context, p *auth.Principal, username string, c registry.UserChange, ip string) (*registry.User, error)
	Audit(ctx context.Context, p *auth.Principal, q registry.AuditQuery) (*registry.AuditPage, error)
	PackageGitState(ctx context.Context, p *auth.Principal, name string) (*registry.GitState, error)

	// Webhooks of a package (name "": the registry-wide ones).
	Webhooks(ctx context.Context, p *auth.Principal, name string) (*registry.WebhookList, error)
	CreateWebhook(ctx context.Context, p *auth.Principal, name string, in registry.WebhookInput, ip string) (*registry.Webhook, error)
	SetWebhookActive(ctx context.Context, p *auth.Principal, name string, id int64, active bool, ip string) (*registry.Webhook, error)
	DeleteWebhook(ctx context.Context, p *auth.Principal, name string, id int64, ip string) error
	WebhookDeliveries(ctx context.Context, p *auth.Principal, name string, limit int) (*registry.DeliveryList, error)
	Redeliver(ctx context.Context, p *auth.Principal, name string, deliveryID int64, ip string) error

	// Transparency log.
	LogKey() string
	LogCheckpoint(ctx context.Context) ([]byte, tlog.Tree, error)
	LogTile(ctx context.Context, path string) ([]byte, error)
	LogRecord(ctx context.Context, n int64) (*registry.LogEntry, error)
	LogLookup(ctx context.Context, name, version string) (*registry.LogProof, error)
}

var _ Registry = (*registry.Service)(nil)

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
	Registry Registry
	// Cache keeps the rendered Oak documents, shared by instances; it
	// must be the cache the registry invalidates.
	Cache cache.Cache
	// OnCacheRead is told whether each read of a document hit the cache.
	OnCacheRead func(hit bool)
	// Archives keeps small archives' bytes in this process (an in-process
	// cache: the point is to read no file and make no network call); nil
	// reads every download from the archive store.
	Archives cache.Cache
	Logger   *slog.Logger
	// Limits is the rate-limit policy table; a policy with rate 0 is off.
	Limits  ratelimit.Table
	Checks  []Check
	Version string
	Started time.Time
}

// API is the JSON API.
type API struct {
	reg     Registry
	log     *slog.Logger
	opts    Options
	docs    cache.ReadThrough[*document]
	renders renderMemo
}

// New returns the API.
func New(o Options) *API {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Started.IsZero() {
		o.Started = time.Now()
	}
	return &API{reg: o.Registry, log: o.Logger, opts: o,
		docs: cache.ReadThrough[*document]{Cache: o.Cache, Name: "oak", TTL: registry.MetadataTTL,
			Codec: documentCodec, RefusalTTL: refusalTTL, Observe: o.OnCacheRead}}
}

// Routes lists every endpoint of the API, with the limit that counts it;
// the server serves them and the OpenAPI document is checked against them.
func (a *API) Routes() []httpx.Route {
	install, api, upload := &a.opts.Limits.Install, &a.opts.Limits.API, &a.opts.Limits.Upload
	type r = struct {
		pattern string
		limit   *ratelimit.Policy
		fn      handlerFunc
	}
	var out []httpx.Route
	for _, rt := range []r{
		{"GET /api/health", install, a.health},
		{"GET /api/openapi.json", api, a.openAPI},

		{"POST /api/auth/register", api, a.register},
		{"POST /api/auth/login", api, a.login},
		{"GET /api/auth/profile", api, a.profile},
		{"POST /api/auth/password", api, a.changePassword},

		{"GET /api/tokens", api, a.listTokens},
		{"POST /api/tokens", api, a.createToken},
		{"DELETE /api/tokens/current", api, a.revokeCurrentToken},
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
		{"GET /api/packages/{name}/versions/{version}/impact", api, a.versionImpact},
		{"GET /api/packages/{name}/impact", api, a.packageImpact},
		{"GET /api/packages/{name}/resolve", api, a.resolve},
		{"GET /api/packages/{name}/stats", api, a.stats},
		{"GET /api/packages/{name}/diff/{from}/{to}", api, a.diff},
		{"GET /api/packages/{name}/history", api, a.history},
		{"GET /api/packages/{name}/owners", api, a.owners},
		{"PUT /api/packages/{name}/owners", api, a.addOwners},
		{"DELETE /api/packages/{name}/owners", api, a.removeOwners},
		{"GET /api/packages/{name}/webhooks", api, a.listWebhooks},
		{"POST /api/packages/{name}/webhooks", api, a.createWebhook},
		{"PATCH /api/packages/{name}/webhooks/{id}", api, a.updateWebhook},
		{"DELETE /api/packages/{name}/webhooks/{id}", api, a.deleteWebhook},
		{"GET /api/packages/{name}/webhooks/deliveries", api, a.webhookDeliveries},
		{"POST /api/packages/{name}/webhooks/deliveries/{id}/redeliver", api, a.redeliver},
		{"POST /api/upload", upload, a.upload},

		{"GET /api/log/key", api, a.logKey},
		{"GET /api/log/checkpoint", install, a.logCheckpoint},
		{"GET /api/log/tile/{height}/{level}/{path...}", install, a.logTile},
		{"GET /api/log/records/{index}", api, a.logRecordAt},
		{"GET /api/log/lookup/{spec}", api, a.logLookup},

		{"GET /api/admin/users", api, a.adminUsers},
		{"PUT /api/admin/users/{username}", api, a.adminUpdateUser},
		{"GET /api/admin/audit", api, a.adminAudit},
		{"GET /api/admin/packages/{name}", api, a.adminPackage},
		{"DELETE /api/admin/packages/{name}", api, a.deletePackage},
		{"DELETE /api/admin/packages/{name}/versions/{version}", api, a.deleteVersion},
		{"GET /api/admin/webhooks", api, a.listWebhooks},
		{"POST /api/admin/webhooks", api, a.createWebhook},
		{"PATCH /api/admin/webhooks/{id}", api, a.updateWebhook},
		{"DELETE /api/admin/webhooks/{id}", api, a.deleteWebhook},
		{"GET /api/admin/webhooks/deliveries", api, a.webhookDeliveries},
		{"POST /api/admin/webhooks/deliveries/{id}/redeliver", api, a.redeliver},
	} {
		d := httpx.DeadlineDefault
		if rt.pattern == "POST /api/upload" {
			d = httpx.DeadlineUpload
		}
		out = append(out, a.route(rt.pattern, rt.limit, d, rt.fn))
	}
	// Every other path under /api/ is an endpoint that does not exist, or
	// one asked with a method it does not take (the server finds which:
	// see httpx.Allowed).
	out = append(out, a.route("/api/", api, httpx.DeadlineDefault, func(w http.ResponseWriter, r *http.Request) error {
		if err := httpx.NotAllowed(w, r); err != nil {
			return err
		}
		return errs.Errorf(errs.NotFound, "no API endpoint %s %s; the API is described at /api/openapi.json", r.Method, r.URL.Path)
	}))
	return out
}

// DownloadRoute is the archive download, GET /packages/{name}/{version}.tar.gz,
// counted by the install limit. Downloads carry no credentials: the limit
// counts addresses. The server routes it, since web pages share its path
// shape.
func (a *API) DownloadRoute() httpx.Route {
	return httpx.Route{Limit: &a.opts.Limits.Install, Deadline: httpx.DeadlineDownload}
}

// route declares one endpoint: API callers authenticate with a bearer
// token, never a cookie, so that a cross-site request carries no
// credentials.
func (a *API) route(pattern string, limit *ratelimit.Policy, d httpx.Deadline, fn handlerFunc) httpx.Route {
	return httpx.Route{
		Pattern: pattern, Limit: limit, Deadline: d,
		Identify: func(r *http.Request) (*auth.Principal, error) {
			return a.reg.AuthenticateHeader(r.Context(), r.Header.Get("Authorization"))
		},
		Handler: a.handle(fn),
	}
}

// Patterns lists the ServeMux patterns of every API endpoint.
func (a *API) Patterns() []string {
	var ps []string
	for _, rt := range a.Routes() {
		if rt.Pattern != "/api/" {
			ps = append(ps, rt.Pattern)
		}
	}
	return ps
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle wraps a handler: credentials the middleware refused are refused
// here (after the rate limit counted the request), and the handler's
// error is written.
func (a *API) handle(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := func() error {
			if _, authErr := httpx.Caller(r); authErr != nil {
				return authErr
			}
			return fn(w, r)
		}()
		if err != nil {
			a.WriteError(w, r, err)
		}
	})
}

// WriteError writes err as the JSON error answer of its kind.
func (a *API) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	httpx.WriteError(w, r, a.log, err)
}

func writeJSON(w http.ResponseWriter, status int, v any) error { return httpx.WriteJSON(w, status, v) }

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
