package memory_test

import (
	"sync"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/cache/cachetest"
	"github.com/dryad-lang/registry/internal/cache/memory"
)

// clock is a fake time source the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestConformance(t *testing.T) {
	cachetest.Run(t, func(t *testing.T) cachetest.Driver {
		clk := &clock{now: time.Unix(1_700_000_000, 0)}
		return cachetest.Driver{
			Cache:    memory.NewCache(memory.CacheOptions{Now: clk.Now}),
			Counters: memory.NewCounters(),
			Locker:   memory.NewLocker(clk.Now),
			Advance:  clk.Advance,
		}
	})
}
