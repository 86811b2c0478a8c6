// Package server assembles the registry's HTTP server: the routes of the
// API, the web interface, the git server and metrics on one ServeMux, the
// middleware every request goes through, and a lifecycle with graceful
// shutdown.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/httpx"
	"github.com/dryad-lang/registry/internal/ratelimit"
)

// Options configure the server.
type Options struct {
	Addr    string
	Proxies httpx.Proxies
	Logger  *slog.Logger
	// API is the JSON API; it also serves archive downloads.
	API interface {
		Routes() []httpx.Route
		DownloadRoute() httpx.Route
		Download(w http.ResponseWriter, r *http.Request, name, version string)
	}
	// Web is the web interface; it may be nil.
	Web interface {
		Routes() []httpx.Route
		// VersionRoute is GET /packages/{name}/{version}, which the server
		// routes itself since downloads share its path shape.
		VersionRoute() httpx.Route
		VersionPage(w http.ResponseWriter, r *http.Request, name, version string)
		// WriteError renders an error as a page, for a page that panicked.
		WriteError(w http.ResponseWriter, r *http.Request, err error)
	}
	// Git serves /git/; nil turns the git server off.
	Git http.Handler
	// Metrics serves /metrics on the main port; nil when off or elsewhere.
	Metrics http.Handler
	// Observer records request metrics; may be nil.
	Observer Observer
	// Limiter enforces the routes' rate limits; nil enforces none.
	Limiter ratelimit.Limiter
	// OnRateLimited is told the policy of every refused request; may be nil.
	OnRateLimited func(policy string)
	// ShutdownTimeout bounds how long in-flight requests may finish.
	ShutdownTimeout time.Duration
	// AllowedOrigins may call the API from browsers (CORS); "*" is any.
	AllowedOrigins []string
	// UploadTimeout is the longest an upload may take.
	UploadTimeout time.Duration
}

// Server is the registry's HTTP server.
type Server struct {
	opts Options
	mux  *http.ServeMux
	srv  *http.Server
	log  *slog.Logger
}

// New builds the server and its routes.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = 30 * time.Second
	}
	if o.UploadTimeout == 0 {
		o.UploadTimeout = 300 * time.Second
	}
	s := &Server{opts: o, mux: http.NewServeMux(), log: o.Logger}
	s.routes()
	s.srv = &http.Server{
		Addr:              o.Addr,
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// Bodies and responses get per-route deadlines (see deadlines):
		// uploads need UPLOAD_TIMEOUT, downloads may be large.
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
	}
	return s
}

func (s *Server) routes() {
	m := s.mux
	m.Handle("GET /health", s.route(httpx.Route{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("healthy\n"))
	})}))
	for _, rt := range s.opts.API.Routes() {
		if rt.Pattern == "/api/" {
			rt.Handler = s.findAllowed(rt.Handler)
		}
		m.Handle(rt.Pattern, s.route(rt))
	}
	// Downloads and the web's version pages share one path shape.
	download := s.opts.API.DownloadRoute()
	download.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		version, _ := strings.CutSuffix(r.PathValue("file"), ".tar.gz")
		s.opts.API.Download(w, r, r.PathValue("name"), version)
	})
	downloadH := s.route(download)
	var pageH http.Handler = http.NotFoundHandler()
	if s.opts.Web != nil {
		page := s.opts.Web.VersionRoute()
		page.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.opts.Web.VersionPage(w, r, r.PathValue("name"), r.PathValue("file"))
		})
		pageH = s.route(page)
	}
	m.HandleFunc("GET /packages/{name}/{file}", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.PathValue("file"), ".tar.gz") {
			downloadH.ServeHTTP(w, r)
			return
		}
		pageH.ServeHTTP(w, r)
	})
	if s.opts.Git != nil {
		m.Handle("/git/", s.route(httpx.Route{Handler: s.opts.Git, Deadline: httpx.DeadlineStream}))
	}
	if s.opts.Metrics != nil {
		m.Handle("GET /metrics", s.opts.Metrics)
	}
	if s.opts.Web != nil {
		for _, rt := range s.opts.Web.Routes() {
			if rt.Pattern == "/" {
				rt.Handler = s.findAllowed(rt.Handler)
			}
			m.Handle(rt.Pattern, s.route(rt))
		}
	}
}

// probedMethods are the methods findAllowed tries.
var probedMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// findAllowed wraps a catch-all (the pages' "/", the API's "/api/"): when the path has routes for
// other methods than the request's, it records them (httpx.WithAllowed),
// so that the page answers 405 with an Allow header rather than 404. The
// mux cannot: the catch-all matches every method.
func (s *Server) findAllowed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allowed []string
		for _, m := range probedMethods {
			probe := *r
			probe.Method = m
			if _, p := s.mux.Handler(&probe); strings.HasPrefix(p, m+" ") {
				allowed = append(allowed, m)
				if m == http.MethodGet {
					allowed = append(allowed, http.MethodHead)
				}
			}
		}
		if len(allowed) > 0 {
			r = r.WithContext(httpx.WithAllowed(r.Context(), allowed))
		}
		next.ServeHTTP(w, r)
	})
}

// Handler is the server's handler with the middleware every request goes
// through; each route adds its own (see route).
func (s *Server) Handler() http.Handler {
	var h http.Handler = s.mux
	h = cors(s.opts.AllowedOrigins, h)
	h = recoverPanics(s.log, s.pageErrors(), h)
	h = accessLog(s.log, s.opts.Observer, h)
	h = requestInfo(s.opts.Proxies, h)
	h = cleanPath(h)
	return h
}

// pageErrors renders an error as a web page, or nil without a web
// interface.
func (s *Server) pageErrors() func(http.ResponseWriter, *http.Request, error) {
	if s.opts.Web == nil {
		return nil
	}
	return s.opts.Web.WriteError
}

// Serve serves on l until ctx ends, then shuts down gracefully: it stops
// accepting, lets in-flight requests finish (up to ShutdownTimeout) and
// returns nil.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing in-flight requests", "timeout", s.opts.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.log.Warn("in-flight requests cut at the shutdown timeout", "err", err)
		s.srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
