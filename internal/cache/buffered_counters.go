package cache

import (
	"context"
	"sync"
)

// BufferedCounters keeps additions in process memory and hands them to
// another Counters (Redis, shared by instances) only when pushed: a
// download then costs a map update instead of a network round trip, and
// the shared backend sees one addition per counter and push instead of
// one per download. Push runs before every flush of download counts, so
// counts reach the backend within one flush interval; what is not pushed
// when a process dies is lost, as with any in-process buffer.
type BufferedCounters struct {
	next Counters

	mu     sync.Mutex
	counts map[string]int64

	pushMu sync.Mutex // one Push at a time, so counts are never sent twice
}

var (
	_ Counters = (*BufferedCounters)(nil)
	_ Pusher   = (*BufferedCounters)(nil)
)

// Pusher is implemented by Counters that buffer additions in the process:
// Push hands them to the shared backend, where any instance's Drain finds
// them.
type Pusher interface {
	Push(ctx context.Context) error
}

// NewBufferedCounters buffers the additions to next.
func NewBufferedCounters(next Counters) *BufferedCounters {
	return &BufferedCounters{next: next, counts: make(map[string]int64)}
}

// Add adds n to key in memory.
func (b *BufferedCounters) Add(_ context.Context, key string, n int64) error {
	if n == 0 {
		return nil
	}
	b.mu.Lock()
	b.counts[key] += n
	b.mu.Unlock()
	return nil
}

// Push adds the buffered counts to the backend. The counts it could not
// add stay buffered for the next Push.
func (b *BufferedCounters) Push(ctx context.Context) error {
	b.pushMu.Lock()
	defer b.pushMu.Unlock()
	b.mu.Lock()
	taken := b.counts
	b.counts = make(map[string]int64, len(taken))
	b.mu.Unlock()
	for k, n := range taken {
		if err := b.next.Add(ctx, k, n); err != nil {
			b.mu.Lock()
			for k, n := range taken {
				b.counts[k] += n
			}
			b.mu.Unlock()
			return err
		}
		delete(taken, k)
	}
	return nil
}

// Drain pushes the buffered counts, then drains the backend. A failed push
// does not stop the drain: the backend's counts are drained all the same,
// and the buffered ones wait for the next push.
func (b *BufferedCounters) Drain(ctx context.Context, fn func(batchID string, counts map[string]int64) error) error {
	pushErr := b.Push(ctx)
	if err := b.next.Drain(ctx, fn); err != nil {
		return err
	}
	return pushErr
}
