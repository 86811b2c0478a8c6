package httpx

import (
	"context"
	"net/http"
	"strings"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/ratelimit"
)

// Route is one endpoint as the API and the web interface declare it, and
// what the server's middleware does around it: who the caller is, which
// rate limit counts the request, and how long the request may take. The
// handler then only decodes, calls the registry and encodes.
type Route struct {
	// Pattern is the ServeMux pattern ("GET /api/packages/{name}").
	Pattern string
	Handler http.Handler
	// Limit is the policy counting requests to the route; nil for none.
	Limit *ratelimit.Policy
	// Identify finds the caller: nil when anonymous. A failure does not
	// stop the request here: the limit then counts the client's address,
	// and the handler finds the error with Caller.
	Identify func(*http.Request) (*auth.Principal, error)
	// Deadline is how long reading and answering may take.
	Deadline Deadline
	// Refuse writes a refusal of the middleware (a rate limit) in the
	// route's format; nil writes the JSON error.
	Refuse func(w http.ResponseWriter, r *http.Request, err error)
}

// Deadline is a route's kind of time budget; the server turns each into
// read and write deadlines.
type Deadline int

const (
	// DeadlineDefault suits a request with a small body and answer.
	DeadlineDefault Deadline = iota
	// DeadlineUpload is UPLOAD_TIMEOUT for the whole upload: body and
	// processing (the request's context ends then too).
	DeadlineUpload
	// DeadlineDownload lets slow clients fetch large archives.
	DeadlineDownload
	// DeadlineStream is for git: negotiation and packs can take minutes.
	DeadlineStream
)

type callerKey struct{}

type caller struct {
	p   *auth.Principal
	err error
}

// WithCaller records in ctx who the middleware found the caller to be,
// and the error if the credentials were refused. An anonymous caller with
// no credentials at all changes nothing: Caller reads that from any
// context.
func WithCaller(ctx context.Context, p *auth.Principal, err error) context.Context {
	if p == nil && err == nil {
		return ctx
	}
	if p != nil {
		ctx = auth.WithPrincipal(ctx, p)
	}
	return context.WithValue(ctx, callerKey{}, caller{p, err})
}

// Caller returns the caller the middleware found (nil when anonymous) and
// why its credentials were refused, if they were.
func Caller(r *http.Request) (*auth.Principal, error) {
	c, _ := r.Context().Value(callerKey{}).(caller)
	return c.p, c.err
}

type allowedKey struct{}

// WithAllowed records in ctx the methods the request's path takes, for a
// request whose own method is not among them: the server finds them, and
// the catch-all route that gets the request answers 405 with them.
func WithAllowed(ctx context.Context, methods []string) context.Context {
	return context.WithValue(ctx, allowedKey{}, methods)
}

// Allowed returns the methods recorded by WithAllowed: nil when the path
// takes no method at all, or when it takes the request's.
func Allowed(ctx context.Context) []string {
	m, _ := ctx.Value(allowedKey{}).([]string)
	return m
}

// NotAllowed answers a request whose path takes other methods than its
// own (recorded by WithAllowed): it sets the Allow header and returns the
// MethodNotAllowed error for the caller's error writer (a page or JSON).
// It returns nil when the path takes no method at all, which is a 404.
func NotAllowed(w http.ResponseWriter, r *http.Request) error {
	allowed := Allowed(r.Context())
	if len(allowed) == 0 {
		return nil
	}
	list := strings.Join(allowed, ", ")
	w.Header().Set("Allow", list)
	return errs.Errorf(errs.MethodNotAllowed, "%s is not a method %s takes; it takes %s", r.Method, r.URL.Path, list)
}
