package ratelimit_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/ratelimit"
	"github.com/dryad-lang/registry/internal/ratelimit/memory"
	"github.com/dryad-lang/registry/internal/ratelimit/ratelimittest"
	"github.com/dryad-lang/registry/internal/ratelimit/redis"
	"github.com/dryad-lang/registry/internal/testenv"
)

func TestResilientFallsBackAndRecovers(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartRedis(t, testenv.RedisOptions{})
	logs := &testenv.Buffer{}
	r := ratelimit.NewResilient(redis.New(srv.Client(t), "reg:"), memory.New(memory.Options{}), ratelimit.ResilientOptions{
		Logger:     slog.New(slog.NewTextHandler(logs, nil)),
		RetryEvery: 50 * time.Millisecond,
		LogEvery:   time.Hour,
	})
	// shared sees what is in Redis, as another instance would.
	shared := redis.New(srv.Client(t), "reg:")
	lim := ratelimit.Limit{Rate: 1.0 / 3600, Burst: 5}
	remainingInRedis := func() int {
		t.Helper()
		res, err := shared.Peek(ctx, "k", lim)
		if err != nil {
			t.Fatalf("Peek in Redis: %v", err)
		}
		return res.Remaining
	}

	// Up: tokens are taken in Redis.
	if res, err := r.Allow(ctx, "k", lim); err != nil || !res.Allowed || res.Remaining != 4 {
		t.Fatalf("Allow = %+v, %v", res, err)
	}
	if n := remainingInRedis(); n != 4 {
		t.Fatalf("Redis has %d tokens left, want 4", n)
	}
	if _, err := r.Allow(ctx, "k", ratelimit.Limit{}); !errors.Is(err, errs.Invalid) {
		t.Fatalf("Allow with an invalid limit = %v, want errs.Invalid", err)
	}

	srv.Kill()

	// Down: limiting goes on in process, still enforcing the limit.
	allowed := 0
	for range 20 {
		res, err := r.Allow(ctx, "k", lim)
		if err != nil {
			t.Fatalf("Allow with Redis down = %v", err)
		}
		if res.Allowed {
			allowed++
		}
		time.Sleep(5 * time.Millisecond) // let some retries of Redis happen
	}
	if allowed != lim.Burst {
		t.Errorf("with Redis down %d of 20 requests allowed, want the in-process burst, %d", allowed, lim.Burst)
	}
	if res, err := r.Peek(ctx, "k", lim); err != nil || res.Allowed {
		t.Errorf("Peek with Redis down = %+v, %v; want refused", res, err)
	}
	if err := r.Check(ctx); !errors.Is(err, errs.Unavailable) {
		t.Errorf("Check with Redis down = %v, want errs.Unavailable", err)
	}
	if n := logs.Count("rate limiter backend unreachable"); n != 1 {
		t.Errorf("outage logged %d times, want once:\n%s", n, logs.String())
	}

	// Back: Redis is used again by itself.
	srv.Start(t)
	for deadline := time.Now().Add(30 * time.Second); r.Check(ctx) != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Redis did not come back")
		}
	}
	before := remainingInRedis() // a fresh Redis: a full bucket
	if res, err := r.Allow(ctx, "k", lim); err != nil || !res.Allowed {
		t.Fatalf("Allow after recovery = %+v, %v", res, err)
	}
	if after := remainingInRedis(); after != before-1 {
		t.Errorf("after recovery Redis went from %d to %d tokens; want the token taken there", before, after)
	}
	if n := logs.Count("rate limiter backend recovered"); n != 1 {
		t.Errorf("recovery logged %d times, want once", n)
	}
}

// While Redis is up, the decorator keeps the limiter's whole contract.
func TestResilientConformance(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.RedisOptions{})
	ratelimittest.Run(t, func(t *testing.T) ratelimittest.Setup {
		prefix := testenv.UniqueName("t") + ":"
		instance := func(t *testing.T) ratelimit.Limiter {
			return ratelimit.NewResilient(redis.New(srv.Client(t), prefix), memory.New(memory.Options{}), ratelimit.ResilientOptions{})
		}
		return ratelimittest.Setup{Limiter: instance(t), Sibling: instance}
	})
}
