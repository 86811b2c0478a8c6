package cache

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
)

// HealthOptions configures a Health; the zero value gives sensible defaults.
type HealthOptions struct {
	// Logger receives outage and recovery messages; nil discards them.
	Logger *slog.Logger
	// LogEvery is the least time between two logged failures during an
	// outage, so that a down backend does not flood the log (default 1m).
	LogEvery time.Duration
	// RetryEvery is how long the backend is left alone after a failure
	// before one call tries it again (default 1s). Calls in between take the
	// fallback path at once instead of each waiting for a timeout.
	RetryEvery time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Health tracks whether a shared backend (one Redis) is reachable. The
// Resilient* decorators report their calls' outcomes to it and skip the
// backend while it is down; Check probes it for the readiness endpoint. One
// Health is shared by every decorator over the same backend, so that one
// failure makes all of them fall back together.
type Health struct {
	name       string
	backend    Pinger
	log        *slog.Logger
	logEvery   time.Duration
	retryEvery time.Duration
	now        func() time.Time

	down    atomic.Bool
	nextTry atomic.Int64 // unix nanoseconds after which one call may try the backend

	mu         sync.Mutex
	lastLog    time.Time
	suppressed int
}

// NewHealth returns a Health for the backend called name (used in logs and
// errors), probed with backend.Ping.
func NewHealth(name string, backend Pinger, o HealthOptions) *Health {
	h := &Health{name: name, backend: backend, log: o.Logger, logEvery: o.LogEvery, retryEvery: o.RetryEvery, now: o.Now}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.logEvery <= 0 {
		h.logEvery = time.Minute
	}
	if h.retryEvery <= 0 {
		h.retryEvery = time.Second
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h
}

// Check pings the backend and records the outcome: nil when it answers, an
// errs.Unavailable error otherwise. A successful Check ends an outage at once.
func (h *Health) Check(ctx context.Context) error {
	if err := h.backend.Ping(ctx); err != nil {
		if ctx.Err() == nil {
			h.fail(err)
		}
		return errs.Wrap(errs.Unavailable, err, h.name+" is unreachable")
	}
	h.ok()
	return nil
}

// Healthy reports the last known state, without probing.
func (h *Health) Healthy() bool { return !h.down.Load() }

// usable says whether a call should go to the backend now: always while it
// is up; during an outage, one call per RetryEvery, to notice recovery.
func (h *Health) usable() bool {
	if !h.down.Load() {
		return true
	}
	next := h.nextTry.Load()
	now := h.now().UnixNano()
	return now >= next && h.nextTry.CompareAndSwap(next, now+int64(h.retryEvery))
}

// report records the outcome of a backend call made with ctx. A call cut
// short by its own context says nothing about the backend.
func (h *Health) report(ctx context.Context, err error) {
	switch {
	case err == nil:
		h.ok()
	case ctx.Err() == nil:
		h.fail(err)
	}
}

func (h *Health) ok() {
	if !h.down.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down.Load() {
		return
	}
	h.down.Store(false)
	h.log.Info("cache backend recovered", "backend", h.name, "failures_not_logged", h.suppressed)
	h.suppressed = 0
}

func (h *Health) fail(err error) {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.nextTry.Store(now.Add(h.retryEvery).UnixNano())
	if !h.down.Load() {
		h.down.Store(true)
		h.log.Warn("cache backend unreachable; serving without it", "backend", h.name, "err", err)
		h.lastLog = now
		return
	}
	if now.Sub(h.lastLog) < h.logEvery {
		h.suppressed++
		return
	}
	h.log.Warn("cache backend still unreachable", "backend", h.name, "err", err, "failures_not_logged", h.suppressed)
	h.lastLog = now
	h.suppressed = 0
}
