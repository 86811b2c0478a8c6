package memory_test

import (
	"sync"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/ratelimit/memory"
	"github.com/dryad-lang/registry/internal/ratelimit/ratelimittest"
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
	ratelimittest.Run(t, func(t *testing.T) ratelimittest.Setup {
		clk := &clock{now: time.Unix(1_700_000_000, 0)}
		return ratelimittest.Setup{
			Limiter: memory.New(memory.Options{Now: clk.Now}),
			Advance: clk.Advance,
		}
	})
}

// Real time, as in production: the suite sleeps instead of advancing a clock.
func TestConformanceRealClock(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) ratelimittest.Setup {
		return ratelimittest.Setup{Limiter: memory.New(memory.Options{})}
	})
}
