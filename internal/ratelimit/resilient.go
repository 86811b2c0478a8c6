package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
)

// ResilientOptions configures Resilient; the zero value gives sensible defaults.
type ResilientOptions struct {
	// Logger receives outage and recovery messages; nil discards them.
	Logger *slog.Logger
	// LogEvery is the least time between two logged failures during an
	// outage (default 1m).
	LogEvery time.Duration
	// RetryEvery is how long the primary is left alone after a failure
	// before one call tries it again (default 1s).
	RetryEvery time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Resilient is a Limiter over a primary whose backend may fail (Redis down):
// while it fails, requests are limited by an in-process fallback, and the
// primary is tried again every RetryEvery. During an outage every instance
// limits on its own, so a client spreading requests over n instances gets up
// to n times its budget; that is the price of not refusing everyone.
type Resilient struct {
	primary, fallback Limiter
	log               *slog.Logger
	logEvery, retry   time.Duration
	now               func() time.Time

	down    atomic.Bool
	nextTry atomic.Int64 // unix nanoseconds after which one call may try the primary

	mu         sync.Mutex
	lastLog    time.Time
	suppressed int
}

var _ Limiter = (*Resilient)(nil)

// Pinger is implemented by limiters whose backend can be unreachable.
type Pinger interface {
	Ping(ctx context.Context) error
}

// NewResilient returns a Limiter using primary while it works and fallback
// (an in-process limiter) while it does not.
func NewResilient(primary, fallback Limiter, o ResilientOptions) *Resilient {
	r := &Resilient{primary: primary, fallback: fallback, log: o.Logger, logEvery: o.LogEvery, retry: o.RetryEvery, now: o.Now}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.logEvery <= 0 {
		r.logEvery = time.Minute
	}
	if r.retry <= 0 {
		r.retry = time.Second
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r
}

// Allow asks the primary, or the fallback while the primary fails.
func (r *Resilient) Allow(ctx context.Context, key string, l Limit) (Result, error) {
	return r.call(ctx, key, l, Limiter.Allow)
}

// Peek asks the primary, or the fallback while the primary fails.
func (r *Resilient) Peek(ctx context.Context, key string, l Limit) (Result, error) {
	return r.call(ctx, key, l, Limiter.Peek)
}

func (r *Resilient) call(ctx context.Context, key string, l Limit, op func(Limiter, context.Context, string, Limit) (Result, error)) (Result, error) {
	if err := l.Validate(); err != nil {
		return Result{}, err
	}
	if r.usable() {
		res, err := op(r.primary, ctx, key, l)
		if err == nil {
			r.ok()
			return res, nil
		}
		if ctx.Err() != nil || errors.Is(err, errs.Invalid) {
			return Result{}, err
		}
		r.fail(err)
	}
	return op(r.fallback, ctx, key, l)
}

// Check pings the primary, if it can be pinged, and records the outcome:
// nil when it answers, an errs.Unavailable error otherwise.
func (r *Resilient) Check(ctx context.Context) error {
	p, ok := r.primary.(Pinger)
	if !ok {
		return nil
	}
	if err := p.Ping(ctx); err != nil {
		if ctx.Err() == nil {
			r.fail(err)
		}
		return errs.Wrap(errs.Unavailable, err, "rate limiter backend is unreachable")
	}
	r.ok()
	return nil
}

// usable says whether a call should go to the primary now: always while it
// works; during an outage, one call per RetryEvery, to notice recovery.
func (r *Resilient) usable() bool {
	if !r.down.Load() {
		return true
	}
	next := r.nextTry.Load()
	now := r.now().UnixNano()
	return now >= next && r.nextTry.CompareAndSwap(next, now+int64(r.retry))
}

func (r *Resilient) ok() {
	if !r.down.Load() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down.Swap(false) {
		r.log.Info("rate limiter backend recovered", "failures_not_logged", r.suppressed)
		r.suppressed = 0
	}
}

func (r *Resilient) fail(err error) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nextTry.Store(now.Add(r.retry).UnixNano())
	switch {
	case !r.down.Swap(true):
		r.log.Warn("rate limiter backend unreachable; limiting in process", "err", err)
	case now.Sub(r.lastLog) < r.logEvery:
		r.suppressed++
		return
	default:
		r.log.Warn("rate limiter backend still unreachable", "err", err, "failures_not_logged", r.suppressed)
		r.suppressed = 0
	}
	r.lastLog = now
}
