package cache_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/dryad-lang/registry/internal/cache"
	"github.com/dryad-lang/registry/internal/cache/cachetest"
	cachememory "github.com/dryad-lang/registry/internal/cache/memory"
)

// Buffered counters keep the Counters contract for one instance (the
// suite's multi-instance cases need the backend's own counts and are run
// on it).
func TestBufferedCountersConformance(t *testing.T) {
	cachetest.Run(t, func(t *testing.T) cachetest.Driver {
		return cachetest.Driver{
			Cache:    cachememory.NewCache(cachememory.CacheOptions{}),
			Counters: cache.NewBufferedCounters(cachememory.NewCounters()),
			Locker:   cachememory.NewLocker(nil),
		}
	})
}

// failing is a backend whose Add fails while down is set.
type failing struct {
	cache.Counters
	mu   sync.Mutex
	down bool
}

func (f *failing) Add(ctx context.Context, key string, n int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("backend down")
	}
	return f.Counters.Add(ctx, key, n)
}

// Additions reach the backend only when pushed; a push that fails keeps
// them, and the next one delivers each count exactly once, also with
// additions racing the pushes.
func TestBufferedCountersPush(t *testing.T) {
	ctx := context.Background()
	backend := &failing{Counters: cachememory.NewCounters()}
	b := cache.NewBufferedCounters(backend)
	drainBackend := func() map[string]int64 {
		got := map[string]int64{}
		backend.Drain(ctx, func(_ string, counts map[string]int64) error {
			for k, n := range counts {
				got[k] += n
			}
			return nil
		})
		return got
	}

	b.Add(ctx, "a", 2)
	b.Add(ctx, "b", 1)
	if got := drainBackend(); len(got) != 0 {
		t.Fatalf("the backend saw %v before a push", got)
	}
	backend.down = true
	if err := b.Push(ctx); err == nil {
		t.Fatal("a push to a backend that is down should fail")
	}
	backend.down = false
	b.Add(ctx, "a", 1)
	if err := b.Push(ctx); err != nil {
		t.Fatal(err)
	}
	if got := drainBackend(); got["a"] != 3 || got["b"] != 1 || len(got) != 2 {
		t.Fatalf("after a failed push and a good one the backend has %v, want a=3 b=1", got)
	}

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				b.Add(ctx, "c", 1)
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			b.Push(ctx)
		}
	})
	wg.Wait()
	var total int64
	b.Drain(ctx, func(_ string, counts map[string]int64) error {
		total += counts["c"]
		return nil
	})
	if total != 4000 {
		t.Fatalf("counted %d of 4000 additions racing pushes", total)
	}
}
