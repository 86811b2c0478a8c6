package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dryad-lang/registry/internal/store"
)

// poolCollector reads the database pool's statistics at each scrape.
type poolCollector struct {
	s store.Store
}

var (
	poolConns = prometheus.NewDesc(namespace+"_db_connections", "Database connections, by state (in_use, idle).",
		[]string{"state"}, nil)
	poolMax = prometheus.NewDesc(namespace+"_db_connections_max", "Largest number of open database connections allowed.",
		nil, nil)
	poolWaits = prometheus.NewDesc(namespace+"_db_waits_total", "Times a query waited for a free database connection.",
		nil, nil)
	poolWaited = prometheus.NewDesc(namespace+"_db_wait_seconds_total", "Time spent waiting for a free database connection.",
		nil, nil)
)

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolConns
	ch <- poolMax
	ch <- poolWaits
	ch <- poolWaited
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s.Stats()
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.InUse), "in_use")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.Idle), "idle")
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxOpen))
	ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.WaitCount))
	ch <- prometheus.MustNewConstMetric(poolWaited, prometheus.CounterValue, s.WaitDuration.Seconds())
}

// gitCollector counts the git queue at each scrape. The queue lives in the
// database, so every instance reports the same, registry-wide numbers.
type gitCollector struct {
	q   GitQueue
	log *slog.Logger
}

var (
	gitPending = prometheus.NewDesc(namespace+"_git_queue_jobs", "Git jobs waiting (commits, tags, mirror pushes).", nil, nil)
	gitFailing = prometheus.NewDesc(namespace+"_git_queue_failing_jobs", "Waiting git jobs that failed at least once.", nil, nil)
)

func (c *gitCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- gitPending
	ch <- gitFailing
}

func (c *gitCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pending, failing, err := c.q(ctx)
	if err != nil {
		// Leaving the gauges out makes "absent" alerts fire, rather than
		// reporting a made-up zero.
		c.log.Warn("metrics: counting the git queue", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(gitPending, prometheus.GaugeValue, float64(pending))
	ch <- prometheus.MustNewConstMetric(gitFailing, prometheus.GaugeValue, float64(failing))
}
