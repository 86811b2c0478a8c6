// Package jobs holds what the registry's background workers over durable
// queues (git jobs, webhook deliveries) share: the loop that claims and
// runs work on a wake-up or a poll, and the retry backoff.
package jobs

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// Loop runs Step over and over until ctx ends: at once (resuming what a
// crash or a stop left queued), again at once while Step finds work, and
// otherwise on a wake-up or every Poll. Concurrency loops run at once; a
// loop that found work wakes an idle one, since there may be more.
type Loop struct {
	// Step claims and runs some work and reports whether there was any.
	// Its error is the queue's (a job's own failure is recorded with the
	// job) and goes to OnError.
	Step    func(ctx context.Context) (bool, error)
	OnError func(err error)
	// Wake receives a value whenever work was queued.
	Wake        <-chan struct{}
	Poll        time.Duration
	Concurrency int
}

// Run runs the loops until ctx ends.
func (l Loop) Run(ctx context.Context) {
	if l.Poll <= 0 {
		l.Poll = 2 * time.Second
	}
	kick := make(chan struct{}, 1)
	var wg sync.WaitGroup
	for range max(l.Concurrency, 1) {
		wg.Go(func() { l.loop(ctx, kick) })
	}
	wg.Wait()
}

func (l Loop) loop(ctx context.Context, kick chan struct{}) {
	for ctx.Err() == nil {
		did, err := l.Step(ctx)
		if err != nil && ctx.Err() == nil && l.OnError != nil {
			l.OnError(err)
		}
		if did {
			select {
			case kick <- struct{}{}:
			default:
			}
			continue
		}
		t := time.NewTimer(l.Poll)
		select {
		case <-ctx.Done():
		case <-l.Wake:
		case <-kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// Backoff is the wait after the n+1-th consecutive failure: base doubled n
// times, at most max.
func Backoff(base, max time.Duration, n int) time.Duration {
	d := base
	for range n {
		if d >= max/2 {
			return max
		}
		d *= 2
	}
	return min(d, max)
}

// Jitter spreads d over [d/2, d], so that the retries of many failures at
// once (a receiver down) do not all come back at the same instant.
func Jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}
