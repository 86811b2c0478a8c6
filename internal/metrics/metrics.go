// Package metrics exposes the registry's Prometheus metrics: HTTP requests
// by route, publishes, downloads, cache, rate limits, the database pool,
// the git queue and build information.
//
// Every Metrics has its own prometheus.Registry (never the global default),
// so several registries can run in one process, as the tests do.
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dryad-lang/registry/internal/registry"
)

// namespace prefixes every metric of the registry.
const namespace = "dryad"

// Options configure New.
type Options struct {
	// Version is the registry's version, for dryad_build_info.
	Version string
	// Logger receives scrape-time failures; nil discards them.
	Logger *slog.Logger
}

// Metrics holds the registry's collectors. It implements registry.Observer.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger

	requests      *prometheus.HistogramVec
	inFlight      prometheus.Gauge
	observers     sync.Map // requestLabels -> prometheus.Observer
	published     prometheus.Counter
	publishFailed *prometheus.CounterVec
	downloads     prometheus.Counter
	cache         *prometheus.CounterVec
	rateLimited   *prometheus.CounterVec
	webhooks      *prometheus.CounterVec
}

var _ registry.Observer = (*Metrics)(nil)

// New returns the metrics of one registry.
func New(o Options) *Metrics {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: prometheus.NewRegistry(), log: o.Logger}
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
		Help: "Time to answer HTTP requests, by route pattern, method and status; its _count is the number of requests.",
		// From a cached metadata answer (sub-millisecond) to a large upload.
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
	}, []string{"route", "method", "status"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Subsystem: "http", Name: "requests_in_flight",
		Help: "HTTP requests being served.",
	})
	m.published = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "publishes_total", Help: "Versions published.",
	})
	m.publishFailed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "publish_failures_total", Help: "Publishes refused or failed, by reason.",
	}, []string{"reason"})
	m.downloads = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "downloads_total", Help: "Package archives served.",
	})
	m.cache = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "cache_requests_total", Help: "Package metadata looked up in the cache, by result (hit, miss).",
	}, []string{"result"})
	m.rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "rate_limited_total", Help: "Requests refused by a rate limit, by scope.",
	}, []string{"scope"})
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "webhook_deliveries_total",
		Help: "Webhook delivery attempts, by outcome: delivered (2xx), retry (failed, tried again later), failed (failed, attempts used up).",
	}, []string{"outcome"})
	for _, o := range []string{"delivered", "retry", "failed"} {
		m.webhooks.WithLabelValues(o)
	}
	// Both results exist from the start, so a hit ratio is defined at once.
	m.cache.WithLabelValues("hit")
	m.cache.WithLabelValues("miss")

	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info", Help: "Always 1; the labels describe the running build.",
	}, []string{"version", "goversion"})
	buildInfo.WithLabelValues(o.Version, runtime.Version()).Set(1)

	m.reg.MustRegister(m.requests, m.inFlight, m.published, m.publishFailed, m.downloads, m.cache,
		m.rateLimited, m.webhooks, buildInfo,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry is the Prometheus registry holding the metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
}

// Published counts a published version.
func (m *Metrics) Published() { m.published.Inc() }

// PublishFailed counts a failed publish; reason is one of the registry's
// few fixed reasons.
func (m *Metrics) PublishFailed(reason string) { m.publishFailed.WithLabelValues(reason).Inc() }

// Downloaded counts a served archive.
func (m *Metrics) Downloaded() { m.downloads.Inc() }

// CacheHit counts a metadata cache lookup.
func (m *Metrics) CacheHit(hit bool) {
	if hit {
		m.cache.WithLabelValues("hit").Inc()
	} else {
		m.cache.WithLabelValues("miss").Inc()
	}
}

// RateLimited counts a request refused by a rate limit.
func (m *Metrics) RateLimited(scope string) { m.rateLimited.WithLabelValues(scope).Inc() }

// WebhookDelivered counts a webhook delivery attempt by its outcome
// (delivered, retry or failed); it fits webhook.Options.OnOutcome.
func (m *Metrics) WebhookDelivered(outcome string) { m.webhooks.WithLabelValues(outcome).Inc() }

// RequestStarted counts a request in flight; RequestDone ends it. Together
// they fit server.Observer.
func (m *Metrics) RequestStarted() { m.inFlight.Inc() }

// requestLabels are the labels of one request's observation.
type requestLabels struct {
	route, method string
	status        int
}

// RequestDone records a request's duration, labelled by the route pattern
// it matched (never the raw path, whose values are unbounded), the method
// and the status. The histogram of each label set is looked up once and
// kept: the set is bounded by routes × methods × statuses, and the lookup
// would otherwise hash the labels on every request.
func (m *Metrics) RequestDone(pattern, meth string, status int, d time.Duration) {
	m.inFlight.Dec()
	l := requestLabels{route(pattern), method(meth), status}
	o, ok := m.observers.Load(l)
	if !ok {
		o, _ = m.observers.LoadOrStore(l, m.requests.WithLabelValues(l.route, l.method, strconv.Itoa(status)))
	}
	o.(prometheus.Observer).Observe(d.Seconds())
}

// route drops the method from a ServeMux pattern ("GET /api/packages/{name}"):
// the method is its own label.
func route(p string) string {
	if i := strings.IndexByte(p, ' '); i >= 0 {
		p = p[i+1:]
	}
	if p == "" {
		return "unmatched"
	}
	return p
}

// method bounds the method label: clients can send any token as a method.
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// WatchPool adds the database pool's gauges, read by stats at each scrape.
func (m *Metrics) WatchPool(stats func() Pool) {
	m.reg.MustRegister(&poolCollector{stats: stats})
}

// GitState is where the git queue and the mirror state are read: the
// registry's database, shared by every instance. registry.Git is one.
type GitState interface {
	// Queue counts the jobs waiting, and those that failed at least once.
	Queue(ctx context.Context) (pending, failing int64, err error)
	// MirrorSummary sums up the mirror state of every package.
	MirrorSummary(ctx context.Context, limit int) (*registry.MirrorSummary, error)
}

// WatchGit adds the gauges of the git queue and of mirror failures, read
// at each scrape.
func (m *Metrics) WatchGit(g GitState) {
	m.reg.MustRegister(&gitCollector{g: g, log: m.log})
}

// Listen serves /metrics alone on addr until ctx ends, for METRICS_PORT:
// scrapes then stay on a private port. With profiling, Go's runtime
// profiles are served there too, at /debug/pprof/ (heap, CPU, goroutines),
// for diagnosing a running server without rebuilding it. It returns the
// address it listens on and the function that stops it.
func (m *Metrics) Listen(ctx context.Context, addr string, profiling bool) (listening string, stop func(), err error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	if profiling {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	srv := &http.Server{
		Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("metrics server stopped", "err", err)
		}
	}()
	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-stopped:
		}
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	var once sync.Once
	return l.Addr().String(), func() {
		once.Do(func() { close(stopped) })
		<-done
	}, nil
}
