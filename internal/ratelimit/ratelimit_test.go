package ratelimit_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/ratelimit"
)

func TestPerWindow(t *testing.T) {
	tests := []struct {
		n        int
		window   time.Duration
		want     ratelimit.Limit
		interval time.Duration
	}{
		{5, 15 * time.Minute, ratelimit.Limit{Rate: 5.0 / 900, Burst: 5}, 3 * time.Minute},
		{60, time.Minute, ratelimit.Limit{Rate: 1, Burst: 60}, time.Second},
		{1000, time.Second, ratelimit.Limit{Rate: 1000, Burst: 1000}, time.Millisecond},
	}
	for _, tt := range tests {
		got := ratelimit.PerWindow(tt.n, tt.window)
		if math.Abs(got.Rate-tt.want.Rate) > 1e-12 || got.Burst != tt.want.Burst {
			t.Errorf("PerWindow(%d, %v) = %+v, want %+v", tt.n, tt.window, got, tt.want)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("PerWindow(%d, %v).Validate() = %v", tt.n, tt.window, err)
		}
		if got.Interval() != tt.interval {
			t.Errorf("PerWindow(%d, %v).Interval() = %v, want %v", tt.n, tt.window, got.Interval(), tt.interval)
		}
	}
}

func TestValidate(t *testing.T) {
	bad := []ratelimit.Limit{
		{Rate: 0, Burst: 1},
		{Rate: -1, Burst: 1},
		{Rate: math.NaN(), Burst: 1},
		{Rate: math.Inf(1), Burst: 1},
		{Rate: 1, Burst: 0},
		{Rate: 1, Burst: -3},
		{Rate: 1e-9, Burst: 1}, // refills in 30 years
		{Rate: 1e7, Burst: 1},
	}
	for _, l := range bad {
		if err := l.Validate(); !errors.Is(err, errs.Invalid) {
			t.Errorf("Validate(%+v) = %v, want errs.Invalid", l, err)
		}
	}
}
