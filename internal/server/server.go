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

	"github.com/dryad-lang/registry/internal/api"
	"github.com/dryad-lang/registry/internal/httpx"
)

// Options configure the server.
type Options struct {
	Addr    string
	API     *api.API
	Proxies httpx.Proxies
	Logger  *slog.Logger
	// Web registers the web interface's routes; it may be nil.
	Web interface {
		Register(mux *http.ServeMux)
		VersionPage(w http.ResponseWriter, r *http.Request, name, version string)
	}
	// Git serves /git/; nil turns the git server off.
	Git http.Handler
	// Metrics serves /metrics on the main port; nil when off or elsewhere.
	Metrics http.Handler
	// Observe wraps the handler to record request metrics; may be nil.
	Observe func(pattern func(*http.Request) string, next http.Handler) http.Handler
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
	s := &Server{opts: o, mux: http.NewServeMux(), log: o.Logger}
	s.routes()
	s.srv = &http.Server{
		Addr:              o.Addr,
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// Bodies and responses get per-request deadlines (see deadlines):
		// uploads need UPLOAD_TIMEOUT, downloads may be large.
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
	}
	return s
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("healthy\n"))
	})
	s.opts.API.Register(m)
	// Downloads and the web's version pages share one path shape.
	m.HandleFunc("GET /packages/{name}/{file}", func(w http.ResponseWriter, r *http.Request) {
		name, file := r.PathValue("name"), r.PathValue("file")
		if version, ok := strings.CutSuffix(file, ".tar.gz"); ok {
			s.opts.API.Download(w, r, name, version)
			return
		}
		if s.opts.Web != nil {
			s.opts.Web.VersionPage(w, r, name, file)
			return
		}
		http.NotFound(w, r)
	})
	if s.opts.Git != nil {
		m.Handle("/git/", s.opts.Git)
	}
	if s.opts.Metrics != nil {
		m.Handle("GET /metrics", s.opts.Metrics)
	}
	if s.opts.Web != nil {
		s.opts.Web.Register(m)
	}
}

// Handler is the server's handler with its middleware.
func (s *Server) Handler() http.Handler {
	var h http.Handler = s.mux
	if s.opts.Observe != nil {
		h = s.opts.Observe(s.pattern, h)
	}
	h = cors(s.opts.AllowedOrigins, h)
	h = deadlines(s.opts.UploadTimeout, h)
	h = recoverPanics(s.log, h)
	h = accessLog(s.log, h)
	h = clientInfo(s.opts.Proxies, h)
	h = requestID(h)
	h = cleanPath(h)
	return h
}

// pattern names the route a request matched, for metrics labels: never the
// raw path, whose values are unbounded.
func (s *Server) pattern(r *http.Request) string {
	_, p := s.mux.Handler(r)
	if p == "" {
		return "unmatched"
	}
	return p
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
