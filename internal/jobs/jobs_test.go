package jobs

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	base, max := time.Second, time.Minute
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}
	for n, w := range want {
		if got := Backoff(base, max, n); got != w {
			t.Errorf("Backoff after %d failures = %v, want %v", n, got, w)
		}
	}
	if got := Backoff(base, max, 1000); got != max {
		t.Errorf("Backoff after many failures = %v, want the cap", got)
	}
}

func TestJitter(t *testing.T) {
	for range 1000 {
		if got := Jitter(10 * time.Second); got < 5*time.Second || got > 10*time.Second {
			t.Fatalf("Jitter(10s) = %v, want within [5s, 10s]", got)
		}
	}
	if Jitter(0) != 0 {
		t.Error("Jitter(0) != 0")
	}
}

// TestLoopWakes checks that queued work runs on a wake-up, without waiting
// for the poll.
func TestLoopWakes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var queued, done atomic.Int64
	wake := make(chan struct{}, 1)
	ran := make(chan struct{}, 10)
	l := Loop{
		Step: func(context.Context) (bool, error) {
			if done.Load() < queued.Load() {
				done.Add(1)
				ran <- struct{}{}
				return true, nil
			}
			return false, nil
		},
		Wake: wake, Poll: time.Hour, Concurrency: 2,
	}
	stopped := make(chan struct{})
	go func() { l.Run(ctx); close(stopped) }()
	queued.Add(1)
	wake <- struct{}{}
	<-ran
	cancel()
	<-stopped
}
