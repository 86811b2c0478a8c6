package memory_test

import (
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/cache/cachetest"
	"github.com/dryad-lang/registry/internal/cache/memory"
	"github.com/dryad-lang/registry/internal/testenv"
)

func TestConformance(t *testing.T) {
	cachetest.Run(t, func(t *testing.T) cachetest.Driver {
		clk := testenv.NewClock(time.Unix(1_700_000_000, 0))
		return cachetest.Driver{
			Cache:    memory.NewCache(memory.CacheOptions{Now: clk.Now}),
			Counters: memory.NewCounters(),
			Locker:   memory.NewLocker(clk.Now),
			Advance:  clk.Advance,
		}
	})
}
