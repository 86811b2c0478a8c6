// Package ratelimit declares the registry's request limiter: token buckets
// keyed by string (client address, account, login name). Drivers live in
// subpackages (memory, redis); the ratelimittest suite states the contract
// every driver must pass, and Resilient keeps limiting when Redis fails.
package ratelimit

import (
	"context"
	"math"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
)

// Limiter decides whether a request under a key may go ahead.
//
// Each key is a token bucket of capacity l.Burst, refilled at l.Rate tokens a
// second; a key's callers must always pass it the same Limit (give each
// Limit its own key namespace, e.g. "login:" + name).
type Limiter interface {
	// Allow takes one token from key's bucket if it has one.
	Allow(ctx context.Context, key string, l Limit) (Result, error)

	// Peek tells whether Allow would succeed now, without taking a token:
	// for limits counted on failures only (check before a login attempt,
	// Allow after it failed).
	Peek(ctx context.Context, key string, l Limit) (Result, error)
}

// Limit is a token bucket's shape.
type Limit struct {
	Rate  float64 // tokens added per second
	Burst int     // bucket capacity: requests allowed at once after a quiet spell
}

// PerWindow returns the Limit allowing n requests per window, all of which
// may come at once: 5 per 15 minutes is Rate 5/900 per second, Burst 5.
func PerWindow(n int, window time.Duration) Limit {
	return Limit{Rate: float64(n) / window.Seconds(), Burst: n}
}

// Bounds on a Limit, so that drivers can do exact integer arithmetic on
// microseconds.
const (
	MaxRate   = 1e6                       // tokens per second
	MaxRefill = 10 * 365 * 24 * time.Hour // time to refill a whole bucket
)

// Validate reports an errs.Invalid error when l cannot be enforced.
func (l Limit) Validate() error {
	switch {
	case math.IsNaN(l.Rate) || l.Rate <= 0 || l.Rate > MaxRate:
		return errs.Errorf(errs.Invalid, "rate limit: rate %v is not in (0, %v] per second", l.Rate, MaxRate)
	case l.Burst < 1:
		return errs.Errorf(errs.Invalid, "rate limit: burst %d is not positive", l.Burst)
	case float64(l.Burst)/l.Rate > MaxRefill.Seconds():
		return errs.Errorf(errs.Invalid, "rate limit: burst %d at rate %v takes longer than %v to refill", l.Burst, l.Rate, MaxRefill)
	}
	return nil
}

// Interval is the time between two tokens, at least 1µs.
func (l Limit) Interval() time.Duration {
	return max(time.Duration(math.Round(float64(time.Second)/l.Rate)), time.Microsecond)
}

// Result is a Limiter's answer.
type Result struct {
	// Allowed says whether the request may go ahead (for Allow, whether a
	// token was taken).
	Allowed bool
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// RetryAfter is, when the request is refused, how long until the next
	// token arrives; zero when allowed.
	RetryAfter time.Duration
}
