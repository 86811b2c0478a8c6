package cache_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/cache"
	"github.com/dryad-lang/registry/internal/cache/cachetest"
	"github.com/dryad-lang/registry/internal/cache/memory"
	"github.com/dryad-lang/registry/internal/cache/redis"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/testenv"
)

// stack is the resilient wiring of one registry instance over one Redis.
type stack struct {
	health   *cache.Health
	cache    *cache.ResilientCache
	counters *cache.ResilientCounters
	locker   *cache.ResilientLocker
}

func newStack(t *testing.T, srv *testenv.RedisServer, prefix string, o cache.HealthOptions) stack {
	c := srv.Client(t)
	rc := redis.NewCache(c, prefix)
	h := cache.NewHealth("redis", rc, o)
	return stack{
		health:   h,
		cache:    cache.NewResilientCache(rc, h),
		counters: cache.NewResilientCounters(redis.NewCounters(c, prefix, redis.CountersOptions{}), memory.NewCounters(), h),
		locker:   cache.NewResilientLocker(redis.NewLocker(c, prefix), memory.NewLocker(nil), h),
	}
}

func (s stack) driver(t *testing.T, srv *testenv.RedisServer, prefix string) cachetest.Driver {
	return cachetest.Driver{
		Cache:    s.cache,
		Counters: s.counters,
		Locker:   s.locker,
		Sibling: func(t *testing.T) cachetest.Driver {
			return newStack(t, srv, prefix, cache.HealthOptions{}).driver(t, srv, prefix)
		},
	}
}

// While Redis is up, the decorators keep the drivers' whole contract.
func TestResilientConformance(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.RedisOptions{})
	cachetest.Run(t, func(t *testing.T) cachetest.Driver {
		prefix := testenv.UniqueName("t") + ":"
		return newStack(t, srv, prefix, cache.HealthOptions{}).driver(t, srv, prefix)
	})
}

// eventually retries cond until it holds; the deadline only keeps a broken
// build from hanging, it is not a speed requirement.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen", what)
		}
	}
}

func TestResilientSurvivesRedisOutage(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartRedis(t, testenv.RedisOptions{})
	logs := &testenv.Buffer{}
	prefix := "reg:"
	s := newStack(t, srv, prefix, cache.HealthOptions{
		Logger:     slog.New(slog.NewTextHandler(logs, nil)),
		RetryEvery: 50 * time.Millisecond,
		LogEvery:   time.Hour,
	})
	ledger := cachetest.NewLedger()

	// Up: everything goes through Redis.
	if err := s.health.Check(ctx); err != nil {
		t.Fatalf("Check with Redis up = %v", err)
	}
	s.cache.Set(ctx, "pkg", []byte("v1"), time.Hour)
	if v, ok, err := s.cache.Get(ctx, "pkg"); string(v) != "v1" || !ok || err != nil {
		t.Fatalf("Get = %q, %v, %v; want v1", v, ok, err)
	}
	s.counters.Add(ctx, "oak@1.0.0", 5)
	if err := s.counters.Drain(ctx, ledger.Apply); err != nil {
		t.Fatalf("Drain: %v", err)
	}

	srv.Kill()

	// Down: the registry keeps serving, without the cache.
	for i := range 20 {
		if v, ok, err := s.cache.Get(ctx, "pkg"); ok || err != nil {
			t.Fatalf("Get %d with Redis down = %q, %v, %v; want a miss", i, v, ok, err)
		}
		if err := s.cache.Set(ctx, "pkg", []byte("v2"), time.Hour); err != nil {
			t.Fatalf("Set with Redis down = %v", err)
		}
		if err := s.cache.Delete(ctx, "pkg"); err != nil {
			t.Fatalf("Delete with Redis down = %v", err)
		}
		if err := s.counters.Add(ctx, "oak@1.0.0", 1); err != nil {
			t.Fatalf("Add with Redis down = %v", err)
		}
		time.Sleep(5 * time.Millisecond) // let some retries of the backend happen
	}
	if err := s.health.Check(ctx); !errors.Is(err, errs.Unavailable) {
		t.Fatalf("Check with Redis down = %v; want errs.Unavailable", err)
	}
	if s.health.Healthy() {
		t.Error("Healthy() with Redis down = true")
	}
	unlock, ok, err := s.locker.TryLock(ctx, "flush", time.Minute)
	if !ok || err != nil {
		t.Fatalf("TryLock with Redis down = %v, %v; want the in-process lease", ok, err)
	}
	if _, ok, _ := s.locker.TryLock(ctx, "flush", time.Minute); ok {
		t.Error("a second TryLock in the same instance got the lease while Redis is down")
	}
	unlock()
	if err := s.counters.Drain(ctx, ledger.Apply); err != nil {
		t.Fatalf("Drain with Redis down = %v", err)
	}
	if got, want := ledger.Totals(), map[string]int64{"oak@1.0.0": 25}; !maps.Equal(got, want) {
		t.Errorf("after draining the fallback, totals = %v, want %v", got, want)
	}
	if n := logs.Count("cache backend unreachable"); n != 1 {
		t.Errorf("outage logged %d times, want once per LogEvery:\n%s", n, logs.String())
	}

	// Back: the decorators find Redis again by themselves.
	srv.Start(t)
	eventually(t, "recovery", func() bool {
		s.cache.Set(ctx, "pkg", []byte("v3"), time.Hour)
		_, ok, _ := s.cache.Get(ctx, "pkg")
		return ok
	})
	if !s.health.Healthy() || s.health.Check(ctx) != nil {
		t.Error("Health does not report the recovery")
	}
	if n := logs.Count("cache backend recovered"); n != 1 {
		t.Errorf("recovery logged %d times, want once", n)
	}
	// The values are in Redis, where other instances see them.
	plain := redis.NewCache(srv.Client(t), prefix)
	if v, ok, err := plain.Get(ctx, "pkg"); string(v) != "v3" || !ok || err != nil {
		t.Errorf("Redis itself holds %q, %v, %v; want v3", v, ok, err)
	}
	s.counters.Add(ctx, "oak@1.0.0", 7)
	plainCounters := redis.NewCounters(srv.Client(t), prefix, redis.CountersOptions{})
	if err := plainCounters.Drain(ctx, ledger.Apply); err != nil {
		t.Fatalf("Drain of Redis itself: %v", err)
	}
	if got, want := ledger.Totals(), map[string]int64{"oak@1.0.0": 32}; !maps.Equal(got, want) {
		t.Errorf("totals = %v, want %v", got, want)
	}
	if unlock, ok, err := s.locker.TryLock(ctx, "flush", time.Minute); !ok || err != nil {
		t.Errorf("TryLock after recovery = %v, %v", ok, err)
	} else if _, ok, _ := redis.NewLocker(srv.Client(t), prefix).TryLock(ctx, "flush", time.Minute); ok {
		t.Error("the lease taken after recovery is not held in Redis")
	} else {
		unlock()
	}
}

// A Delete that cannot reach Redis must still take effect before this
// instance uses Redis again; otherwise the deleted value would be served
// after the outage.
func TestResilientCacheDeliversMissedDeletes(t *testing.T) {
	tests := []struct {
		name    string
		deletes int  // keys deleted during the outage
		flushed bool // too many to remember: the whole cache is flushed
	}{
		{"a few", 3, false},
		{"too many to remember", 5000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			srv := testenv.StartRedis(t, testenv.RedisOptions{})
			s := newStack(t, srv, "reg:", cache.HealthOptions{RetryEvery: time.Hour})
			plain := redis.NewCache(srv.Client(t), "reg:")
			for i := range tt.deletes {
				plain.Set(ctx, fmt.Sprintf("pkg%d", i), []byte("old"), time.Hour)
			}
			plain.Set(ctx, "untouched", []byte("kept"), time.Hour)

			srv.Freeze(t)
			if _, ok, _ := s.cache.Get(ctx, "pkg0"); ok {
				t.Fatal("Get from a frozen Redis hit")
			}
			srv.Thaw(t)
			// The backend is marked down until the next retry: deletes are
			// remembered, not sent.
			for i := range tt.deletes {
				if err := s.cache.Delete(ctx, fmt.Sprintf("pkg%d", i)); err != nil {
					t.Fatalf("Delete = %v", err)
				}
			}
			if _, ok, _ := plain.Get(ctx, "pkg0"); !ok {
				t.Fatal("the delete reached Redis while the backend was marked down")
			}
			if _, ok, _ := s.cache.Get(ctx, "pkg0"); ok {
				t.Fatal("Get served a value deleted during the outage")
			}

			if err := s.health.Check(ctx); err != nil {
				t.Fatalf("Check after thaw = %v", err)
			}
			if _, ok, err := s.cache.Get(ctx, "pkg0"); ok || err != nil {
				t.Fatalf("Get after recovery = %v, %v; want the deleted value gone", ok, err)
			}
			for i := range tt.deletes {
				if _, ok, _ := plain.Get(ctx, fmt.Sprintf("pkg%d", i)); ok {
					t.Fatalf("pkg%d is still in Redis after recovery", i)
				}
			}
			if _, ok, _ := plain.Get(ctx, "untouched"); ok == tt.flushed {
				t.Errorf("untouched key present = %v, want %v", ok, !tt.flushed)
			}
		})
	}
}

// A Drain whose callback fails returns the callback's error, and the counts
// stay; a Redis failure does not fail the Drain of the fallback.
func TestResilientCountersDrainErrors(t *testing.T) {
	ctx := context.Background()
	srv := testenv.StartRedis(t, testenv.RedisOptions{})
	s := newStack(t, srv, "reg:", cache.HealthOptions{RetryEvery: time.Hour})
	s.counters.Add(ctx, "k", 1)
	boom := errors.New("database down")
	if err := s.counters.Drain(ctx, func(string, map[string]int64) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Drain = %v; want the callback's error", err)
	}
	if !s.health.Healthy() {
		t.Fatal("a failing callback marked Redis down")
	}
	srv.Kill()
	s.counters.Add(ctx, "k", 2) // Redis fails: goes to the fallback
	ledger := cachetest.NewLedger()
	if err := s.counters.Drain(ctx, ledger.Apply); err != nil {
		t.Fatalf("Drain with Redis down = %v", err)
	}
	if got := ledger.Totals(); got["k"] != 2 {
		t.Errorf("drained %v with Redis down; want the fallback's k=2", got)
	}
}

// countingCache counts the reads that reach it.
type countingCache struct {
	cache.Cache
	mu    sync.Mutex
	reads int
}

func (c *countingCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.Cache.Get(ctx, key)
}

// Watch keeps reading the cache until its context ends, and then returns.
func TestWatch(t *testing.T) {
	c := &countingCache{Cache: memory.NewCache(memory.CacheOptions{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		cache.Watch(ctx, c, time.Millisecond)
	}()
	testenv.Eventually(t, "three reads", func() (bool, string) {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.reads >= 3, fmt.Sprint(c.reads, " reads")
	})
	cancel()
	<-done
}
