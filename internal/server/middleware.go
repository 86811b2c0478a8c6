package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/httpx"
)

// requestInfo gives every request an id, taken from a sane X-Request-ID
// header (so a proxy's id carries through) or made up, and echoes it; and
// resolves the client's address and base URL, once per request.
func requestInfo(p httpx.Proxies, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			id = httpx.NewRequestID()
		}
		// The canonical form of the key, set directly: Header.Set would
		// canonicalize it on every request.
		w.Header()["X-Request-Id"] = []string{id}
		next.ServeHTTP(w, r.WithContext(httpx.WithRequest(r.Context(), id, p.Resolve(r))))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// cleanPath collapses repeated slashes, so a client configured with a
// trailing slash in the registry URL (…//api/packages/x) is served
// directly instead of redirected (a redirect would turn a POST into a GET).
func cleanPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "//") {
			p := r.URL.Path
			for strings.Contains(p, "//") {
				p = strings.ReplaceAll(p, "//", "/")
			}
			r2 := r.Clone(r.Context())
			r2.URL.Path = p
			r2.URL.RawPath = ""
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status and size of a response for the log,
// while keeping the optional interfaces (Flusher, ReaderFrom for sendfile)
// reachable through Unwrap and ReadFrom.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom hands the reader to the connection's own ReadFrom unchanged:
// that is where net/http uses sendfile for files (http.ServeContent copies
// through it), and any wrapping of the reader would lose it.
func (w *statusWriter) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(w.ResponseWriter, src)
	}
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Observer is told of every request when it starts and when it is
// answered: the route pattern it matched ("" for none), its method, status
// and duration. metrics.Metrics is one.
type Observer interface {
	RequestStarted()
	RequestDone(pattern, method string, status int, d time.Duration)
}

// accessLog writes one line per request and tells obs (which may be nil)
// about it: one status writer and one clock for both. The route pattern is
// the one the mux recorded in the request (Request.Pattern), so nothing is
// matched twice.
func accessLog(log *slog.Logger, obs Observer, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if obs != nil {
			obs.RequestStarted()
		}
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			// A handler that aborted the response (http.ErrAbortHandler)
			// is still counted and logged, then the abort goes on.
			v := recover()
			if sw.status == 0 {
				sw.status = http.StatusOK
				if v != nil {
					sw.status = http.StatusInternalServerError
				}
			}
			d := time.Since(start)
			if obs != nil {
				obs.RequestDone(r.Pattern, r.Method, sw.status, d)
			}
			level := slog.LevelInfo
			if sw.status >= 500 {
				level = slog.LevelError
			}
			if log.Enabled(r.Context(), level) {
				log.LogAttrs(r.Context(), level, "request",
					slog.String("request_id", httpx.RequestID(r.Context())),
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.Int("status", sw.status),
					slog.Int64("bytes", sw.bytes),
					slog.Duration("duration", d),
					slog.String("client", httpx.ClientOf(r).IP),
				)
			}
			if v != nil {
				panic(v)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// recoverPanics turns a panicking handler into an internal error and a
// log line with the stack, instead of a dropped connection: a JSON 500 for
// the API, downloads and git, the error page for web pages (page may be
// nil).
func recoverPanics(log *slog.Logger, page func(http.ResponseWriter, *http.Request, error), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil || v == http.ErrAbortHandler {
				if v != nil {
					panic(v)
				}
				return
			}
			log.ErrorContext(r.Context(), "panic serving request", "request_id", httpx.RequestID(r.Context()),
				"path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			w.Header().Set("Connection", "close")
			err := errs.New(errs.Internal, "internal error; the problem has been logged")
			if page != nil && !machinePath(r.URL.Path) {
				page(w, r, err)
				return
			}
			httpx.WriteJSON(w, http.StatusInternalServerError, map[string]string{
				"error": "internal", "message": "internal error; the problem has been logged"})
		}()
		next.ServeHTTP(w, r)
	})
}

// machinePath reports whether a path is answered for programs (the API,
// archive downloads, git) rather than as a web page.
func machinePath(p string) bool {
	return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/git/") ||
		(strings.HasPrefix(p, "/packages/") && strings.HasSuffix(p, ".tar.gz"))
}

// route wraps one route's handler in the middleware its declaration asks
// for, in this order: deadlines, the caller's identity, the rate limit.
func (s *Server) route(rt httpx.Route) http.Handler {
	h := rt.Handler
	h = s.limit(rt, h)
	h = identify(rt.Identify, h)
	return s.deadlines(rt.Deadline, h)
}

// identify finds the caller once, for the rate limit and the handler.
func identify(fn func(*http.Request) (*auth.Principal, error), next http.Handler) http.Handler {
	if fn == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := fn(r)
		if p == nil && err == nil {
			// Anonymous, as most installs are: nothing to record.
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(httpx.WithCaller(r.Context(), p, err)))
	})
}

// limit applies the route's rate-limit policy: users are counted by
// account whatever their credential, everyone else by address. A limiter
// that is down lets the request through (the edge's limits still apply).
func (s *Server) limit(rt httpx.Route, next http.Handler) http.Handler {
	p := rt.Limit
	if p == nil || p.Off() || s.opts.Limiter == nil {
		return next
	}
	refuse := rt.Refuse
	if refuse == nil {
		refuse = func(w http.ResponseWriter, r *http.Request, err error) { httpx.WriteError(w, r, s.log, err) }
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := "ip:" + httpx.ClientOf(r).IP
		if c, _ := httpx.Caller(r); c != nil {
			key = "user:" + strconv.FormatInt(c.UserID, 10)
		}
		res, err := p.Allow(r.Context(), s.opts.Limiter, key)
		if err != nil && errs.KindOf(err) != errs.RateLimited {
			s.log.WarnContext(r.Context(), "rate limiter unavailable", "err", err)
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("X-RateLimit-Limit", strconv.Itoa(p.Limit.Burst))
		w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(res.Remaining))
		if err != nil {
			if s.opts.OnRateLimited != nil {
				s.opts.OnRateLimited(p.Name)
			}
			refuse(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// deadlines bound how long reading a request body and writing a response
// may take, by the route's kind. An upload's context ends with its
// deadline too, so that processing a slow upload stops with it.
func (s *Server) deadlines(d httpx.Deadline, next http.Handler) http.Handler {
	read, write := 60*time.Second, 120*time.Second
	switch d {
	case httpx.DeadlineUpload:
		read, write = s.opts.UploadTimeout, s.opts.UploadTimeout+30*time.Second
	case httpx.DeadlineDownload:
		write = 30 * time.Minute
	case httpx.DeadlineStream:
		read, write = 10*time.Minute, 30*time.Minute
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		now := time.Now()
		// A request without a body has nothing left to read (net/http
		// times the headers itself): one timer update fewer per install.
		if r.ContentLength != 0 {
			rc.SetReadDeadline(now.Add(read))
		}
		rc.SetWriteDeadline(now.Add(write))
		if d == httpx.DeadlineUpload {
			ctx, cancel := context.WithDeadline(r.Context(), now.Add(read))
			defer cancel()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}
