package memory_test

import (
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/ratelimit/memory"
	"github.com/dryad-lang/registry/internal/ratelimit/ratelimittest"
	"github.com/dryad-lang/registry/internal/testenv"
)

func TestConformance(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) ratelimittest.Setup {
		clk := testenv.NewClock(time.Unix(1_700_000_000, 0))
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
