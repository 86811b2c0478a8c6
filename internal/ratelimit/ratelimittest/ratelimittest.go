// Package ratelimittest is the conformance suite every rate limiter driver
// runs: the contract of ratelimit.Limiter written as tests.
//
//	func TestConformance(t *testing.T) {
//		ratelimittest.Run(t, func(t *testing.T) ratelimittest.Setup { ... })
//	}
package ratelimittest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/ratelimit"
)

// Setup is one limiter under test, with no keys used yet.
type Setup struct {
	Limiter ratelimit.Limiter

	// Sibling returns another limiter sharing Limiter's state, as a second
	// registry instance on the same Redis would. Nil for in-process
	// limiters; the multi-instance tests are then skipped.
	Sibling func(t *testing.T) ratelimit.Limiter

	// Advance moves the limiter's clock forward by d. Nil means the limiter
	// follows real time, and the suite sleeps instead (briefly: the rates
	// it then uses are high).
	Advance func(d time.Duration)
}

func (s Setup) wait(d time.Duration) {
	if s.Advance != nil {
		s.Advance(d)
		return
	}
	time.Sleep(d)
}

// Run runs the whole suite; newSetup is called once per test.
func Run(t *testing.T, newSetup func(t *testing.T) Setup) {
	ctx := context.Background()
	// slow refills so little during a test that counts are exact even in
	// real time; fast refills within a short sleep.
	slow := ratelimit.Limit{Rate: 1.0 / 3600, Burst: 5}
	fast := ratelimit.Limit{Rate: 20, Burst: 2}

	t.Run("BurstThenRefuse", func(t *testing.T) {
		tests := []struct {
			name string
			l    ratelimit.Limit
		}{
			{"burst 1", ratelimit.Limit{Rate: 1.0 / 3600, Burst: 1}},
			{"burst 5", slow},
			{"5 per 15 minutes", ratelimit.PerWindow(5, 15*time.Minute)},
			{"burst 100", ratelimit.Limit{Rate: 1.0 / 60, Burst: 100}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				l := newSetup(t).Limiter
				for i := range tt.l.Burst {
					wantAllowed(t, l, "k", tt.l, tt.l.Burst-1-i)
				}
				r := wantRefused(t, l, "k", tt.l)
				// Hardly any time has passed: the next token is about one
				// interval away.
				if interval := tt.l.Interval(); r.RetryAfter > interval || r.RetryAfter < interval/2 {
					t.Errorf("RetryAfter = %v, want about %v", r.RetryAfter, interval)
				}
			})
		}
	})

	t.Run("RefillsAtRate", func(t *testing.T) {
		s := newSetup(t)
		l := s.Limiter
		wantAllowed(t, l, "k", fast, 1)
		wantAllowed(t, l, "k", fast, 0)
		r := wantRefused(t, l, "k", fast)
		if s.Advance == nil {
			// A sleep may overshoot by more than a token's time: only the
			// refill itself is certain.
			s.wait(r.RetryAfter + time.Millisecond)
			wantAllowed(t, l, "k", fast, -1)
			return
		}
		// With a controlled clock the timing is exact.
		s.wait(r.RetryAfter)
		wantAllowed(t, l, "k", fast, 0)
		r = wantRefused(t, l, "k", fast)
		if r.RetryAfter != fast.Interval() {
			t.Errorf("RetryAfter right after a token = %v, want %v", r.RetryAfter, fast.Interval())
		}
		s.wait(r.RetryAfter - time.Millisecond)
		wantRefused(t, l, "k", fast)
		s.wait(time.Millisecond)
		wantAllowed(t, l, "k", fast, 0)
	})

	t.Run("NeverHoldsMoreThanBurst", func(t *testing.T) {
		s := newSetup(t)
		wantAllowed(t, s.Limiter, "k", fast, fast.Burst-1)
		s.wait(time.Duration(3*fast.Burst) * fast.Interval()) // time for 3 buckets' worth
		r, err := s.Limiter.Peek(ctx, "k", fast)
		if err != nil || !r.Allowed || r.Remaining != fast.Burst {
			t.Fatalf("Peek after a long pause = %+v, %v; want allowed with %d remaining", r, err, fast.Burst)
		}
	})

	t.Run("KeysAreIndependent", func(t *testing.T) {
		l := newSetup(t).Limiter
		for range slow.Burst {
			wantAllowed(t, l, "alice", slow, -1)
		}
		wantRefused(t, l, "alice", slow)
		wantAllowed(t, l, "bob", slow, slow.Burst-1)
		wantAllowed(t, l, "alice:2", slow, slow.Burst-1)
		wantRefused(t, l, "alice", slow)
	})

	t.Run("PeekDoesNotConsume", func(t *testing.T) {
		l := newSetup(t).Limiter
		for range 10 {
			r, err := l.Peek(ctx, "k", slow)
			if err != nil || !r.Allowed || r.Remaining != slow.Burst || r.RetryAfter != 0 {
				t.Fatalf("Peek on a fresh key = %+v, %v; want allowed with %d remaining", r, err, slow.Burst)
			}
		}
		wantAllowed(t, l, "k", slow, slow.Burst-1)
		r, err := l.Peek(ctx, "k", slow)
		if err != nil || !r.Allowed || r.Remaining != slow.Burst-1 {
			t.Fatalf("Peek after one Allow = %+v, %v; want %d remaining", r, err, slow.Burst-1)
		}
		for i := 1; i < slow.Burst; i++ {
			wantAllowed(t, l, "k", slow, slow.Burst-1-i)
		}
		for range 3 {
			r, err := l.Peek(ctx, "k", slow)
			if err != nil || r.Allowed || r.RetryAfter <= 0 {
				t.Fatalf("Peek on an empty bucket = %+v, %v; want refused with a RetryAfter", r, err)
			}
		}
		wantRefused(t, l, "k", slow)
	})

	// The login pattern: check before an attempt, count failures only.
	t.Run("PeekThenAllowOnFailure", func(t *testing.T) {
		l := newSetup(t).Limiter
		login := ratelimit.PerWindow(5, 15*time.Minute)
		failures := 0
		for attempt := range 20 {
			r, err := l.Peek(ctx, "login:alice", login)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Allowed {
				if attempt != 5 || r.RetryAfter <= 0 || r.RetryAfter > 3*time.Minute {
					t.Fatalf("attempt %d refused with RetryAfter %v; want the 6th refused, retry within 3m", attempt+1, r.RetryAfter)
				}
				break
			}
			failures++
			if _, err := l.Allow(ctx, "login:alice", login); err != nil {
				t.Fatal(err)
			}
		}
		if failures != 5 {
			t.Fatalf("%d failed logins allowed, want 5", failures)
		}
	})

	t.Run("InvalidLimit", func(t *testing.T) {
		l := newSetup(t).Limiter
		for _, bad := range []ratelimit.Limit{{Rate: 0, Burst: 1}, {Rate: 1, Burst: 0}, {Rate: -1, Burst: -1}} {
			if _, err := l.Allow(ctx, "k", bad); !errors.Is(err, errs.Invalid) {
				t.Errorf("Allow with %+v = %v, want errs.Invalid", bad, err)
			}
			if _, err := l.Peek(ctx, "k", bad); !errors.Is(err, errs.Invalid) {
				t.Errorf("Peek with %+v = %v, want errs.Invalid", bad, err)
			}
		}
	})

	t.Run("ConcurrentAllowNeverExceedsBurst", func(t *testing.T) {
		l := newSetup(t).Limiter
		hammer(t, []ratelimit.Limiter{l}, ratelimit.Limit{Rate: 1.0 / 3600, Burst: 10})
	})

	t.Run("InstancesShareTheBudget", func(t *testing.T) {
		s := newSetup(t)
		if s.Sibling == nil {
			t.Skip("the limiter keeps its state in one process")
		}
		a, b := s.Limiter, s.Sibling(t)
		wantAllowed(t, a, "k", slow, 4)
		wantAllowed(t, a, "k", slow, 3)
		wantAllowed(t, b, "k", slow, 2)
		wantAllowed(t, a, "k", slow, 1)
		wantAllowed(t, b, "k", slow, 0)
		wantRefused(t, a, "k", slow)
		wantRefused(t, b, "k", slow)
	})

	t.Run("InstancesHammeredConcurrently", func(t *testing.T) {
		s := newSetup(t)
		if s.Sibling == nil {
			t.Skip("the limiter keeps its state in one process")
		}
		hammer(t, []ratelimit.Limiter{s.Limiter, s.Sibling(t), s.Sibling(t)}, ratelimit.Limit{Rate: 1.0 / 3600, Burst: 10})
	})
}

// hammer calls Allow from many goroutines spread over the limiters, which
// share one budget: exactly Burst calls must be allowed.
func hammer(t *testing.T, limiters []ratelimit.Limiter, l ratelimit.Limit) {
	t.Helper()
	var allowed atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 32)
	for g := range 32 {
		lim := limiters[g%len(limiters)]
		wg.Go(func() {
			for range 20 {
				r, err := lim.Allow(context.Background(), "hot", l)
				if err != nil {
					errc <- err
					return
				}
				if r.Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatalf("Allow: %v", err)
	}
	if n := allowed.Load(); n != int64(l.Burst) {
		t.Fatalf("%d of 640 concurrent requests allowed, want exactly the burst, %d", n, l.Burst)
	}
}

// wantAllowed calls Allow and expects it to succeed with remaining tokens
// left (remaining < 0: any number).
func wantAllowed(t *testing.T, l ratelimit.Limiter, key string, lim ratelimit.Limit, remaining int) {
	t.Helper()
	r, err := l.Allow(context.Background(), key, lim)
	if err != nil || !r.Allowed || r.RetryAfter != 0 || remaining >= 0 && r.Remaining != remaining {
		t.Fatalf("Allow(%q) = %+v, %v; want allowed with %d remaining", key, r, err, remaining)
	}
}

// wantRefused calls Allow and expects a refusal with a RetryAfter.
func wantRefused(t *testing.T, l ratelimit.Limiter, key string, lim ratelimit.Limit) ratelimit.Result {
	t.Helper()
	r, err := l.Allow(context.Background(), key, lim)
	if err != nil || r.Allowed || r.Remaining != 0 || r.RetryAfter <= 0 {
		t.Fatalf("Allow(%q) = %+v, %v; want refused with a RetryAfter", key, r, err)
	}
	return r
}
