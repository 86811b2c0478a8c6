package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Pool is the database pool's state at one moment.
type Pool struct {
	MaxOpen, InUse, Idle int
	WaitCount            int64
	WaitDuration         time.Duration
}

// poolCollector reads the database pool's statistics at each scrape.
type poolCollector struct {
	stats func() Pool
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
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.InUse), "in_use")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.Idle), "idle")
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxOpen))
	ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.WaitCount))
	ch <- prometheus.MustNewConstMetric(poolWaited, prometheus.CounterValue, s.WaitDuration.Seconds())
}

// gitCollector counts the git queue and the failing mirrors at each
// scrape. Both live in the database, so every instance reports the same,
// registry-wide numbers.
type gitCollector struct {
	g   GitState
	log *slog.Logger
}

var (
	gitPending = prometheus.NewDesc(namespace+"_git_queue_jobs", "Git jobs waiting (commits, tags, mirror pushes).", nil, nil)
	gitFailing = prometheus.NewDesc(namespace+"_git_queue_failing_jobs", "Waiting git jobs that failed at least once.", nil, nil)
	gitMirror  = prometheus.NewDesc(namespace+"_git_mirror_failing_packages", "Packages whose last push to the git mirror failed.", nil, nil)
)

func (c *gitCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- gitPending
	ch <- gitFailing
	ch <- gitMirror
}

func (c *gitCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A gauge that cannot be read is left out, so that "absent" alerts
	// fire, rather than reported as a made-up zero.
	if pending, failing, err := c.g.Queue(ctx); err != nil {
		c.log.Warn("metrics: counting the git queue", "err", err)
	} else {
		ch <- prometheus.MustNewConstMetric(gitPending, prometheus.GaugeValue, float64(pending))
		ch <- prometheus.MustNewConstMetric(gitFailing, prometheus.GaugeValue, float64(failing))
	}
	if sum, err := c.g.MirrorSummary(ctx, 0); err != nil {
		c.log.Warn("metrics: reading the mirror state", "err", err)
	} else {
		ch <- prometheus.MustNewConstMetric(gitMirror, prometheus.GaugeValue, float64(sum.Failing))
	}
}
