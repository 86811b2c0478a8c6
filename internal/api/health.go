package api

import (
	"context"
	"net/http"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
)

// healthReport is the answer of GET /api/health.
type healthReport struct {
	Status        string                 `json:"status"`
	Version       string                 `json:"version"`
	UptimeSeconds int64                  `json:"uptime_seconds"`
	Packages      int64                  `json:"packages"`
	Checks        map[string]checkReport `json:"checks"`
}

type checkReport struct {
	Status    string         `json:"status"`
	Error     string         `json:"error,omitempty"`
	LatencyMS float64        `json:"latency_ms"`
	Info      map[string]any `json:"info,omitempty"`
}

// health answers GET /api/health: "healthy" (200), "degraded" when a
// non-critical dependency fails or a full disk stops writes (200: the
// registry still serves reads), or "unhealthy" naming the failing check
// (503).
func (a *API) health(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	rep := healthReport{Status: "healthy", Version: a.opts.Version, UptimeSeconds: int64(time.Since(a.opts.Started).Seconds()),
		Checks: map[string]checkReport{}}
	for _, c := range a.opts.Checks {
		start := time.Now()
		err := c.Run(ctx)
		cr := checkReport{Status: "ok", LatencyMS: float64(time.Since(start).Microseconds()) / 1000}
		if err != nil {
			cr.Status = "failing"
			cr.Error = errs.Message(err)
			if errs.KindOf(err) == errs.Internal {
				cr.Error = "check failed; see the server log"
				a.log.ErrorContext(ctx, "health check failed", "check", c.Name, "err", err)
			}
			// A full disk stops writes, not reads: degraded, not down.
			if c.Critical && errs.KindOf(err) != errs.StorageFull {
				rep.Status = "unhealthy"
			} else if rep.Status == "healthy" {
				rep.Status = "degraded"
			}
		}
		if c.Info != nil {
			cr.Info = c.Info(ctx)
		}
		rep.Checks[c.Name] = cr
	}
	if rep.Checks["database"].Status == "ok" {
		if t, err := a.reg.Totals(ctx); err == nil {
			rep.Packages = t.Packages
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusOK
	if rep.Status == "unhealthy" {
		status = http.StatusServiceUnavailable
	}
	return writeJSON(w, status, rep)
}
