package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/dryad-lang/registry/internal/config"
	"github.com/dryad-lang/registry/internal/metrics"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/server"
)

// serveMetrics is the metrics side of a running registry: nothing when
// ENABLE_METRICS=false; /metrics on the main port, or on METRICS_PORT when
// that is set (and then not on the main port).
type serveMetrics struct {
	m   *metrics.Metrics // nil when off
	cfg *config.Config
	log *slog.Logger
}

func newServeMetrics(cfg *config.Config, log *slog.Logger) *serveMetrics {
	s := &serveMetrics{cfg: cfg, log: log}
	if cfg.EnableMetrics {
		s.m = metrics.New(metrics.Options{Version: version, Logger: log})
	}
	return s
}

// observer is what the registry service reports events to (nil when off:
// the service then counts nothing).
func (s *serveMetrics) observer() registry.Observer {
	if s.m == nil {
		return nil
	}
	return s.m
}

// webhookOutcome counts webhook delivery attempts (nil when off).
func (s *serveMetrics) webhookOutcome() func(string) {
	if s.m == nil {
		return nil
	}
	return s.m.WebhookDelivered
}

// watch adds the collectors read at each scrape: the database pool, the
// git queue and the mirror failures.
func (s *serveMetrics) watch(a *app) {
	if s.m == nil {
		return
	}
	s.m.WatchPool(func() metrics.Pool {
		st := a.store.Stats()
		return metrics.Pool{MaxOpen: st.MaxOpen, InUse: st.InUse, Idle: st.Idle, WaitCount: st.WaitCount, WaitDuration: st.WaitDuration}
	})
	s.m.WatchGit(a.registry.Git())
}

// requests is server.Options.Observer: nil when metrics are off.
func (s *serveMetrics) requests() server.Observer {
	if s.m == nil {
		return nil
	}
	return s.m
}

// mainHandler serves /metrics on the main port, unless metrics are off or
// have their own port.
func (s *serveMetrics) mainHandler() http.Handler {
	if s.m == nil || s.cfg.MetricsPort != 0 {
		return nil
	}
	return s.m.Handler()
}

// listen serves /metrics on METRICS_PORT (at HOST) until ctx ends, and
// returns the function that stops it; it does nothing without that port.
func (s *serveMetrics) listen(ctx context.Context) (stop func(), err error) {
	if s.m == nil || s.cfg.MetricsPort == 0 {
		return func() {}, nil
	}
	addr, stop, err := s.m.Listen(ctx, s.cfg.MetricsAddr(), s.cfg.Profiling)
	if err != nil {
		return nil, &exitError{code: 1, msg: fmt.Sprintf("cannot listen for metrics on %s: %v (set METRICS_PORT)", s.cfg.MetricsAddr(), err)}
	}
	s.log.Info("metrics served separately", "url", "http://"+addr+"/metrics", "profiling", s.cfg.Profiling)
	return stop, nil
}
