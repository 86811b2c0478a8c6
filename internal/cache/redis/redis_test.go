package redis_test

import (
	"context"
	"errors"
	"maps"
	"net"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dryad-lang/registry/internal/cache/cachetest"
	"github.com/dryad-lang/registry/internal/cache/redis"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/testenv"
)

// instance returns the drivers of one registry instance: its own client,
// on the keys under prefix.
func instance(t *testing.T, prefix string, o redis.CountersOptions) cachetest.Driver {
	c := testenv.RedisClient(t)
	return cachetest.Driver{
		Cache:    redis.NewCache(c, prefix),
		Counters: redis.NewCounters(c, prefix, o),
		Locker:   redis.NewLocker(c, prefix),
		Sibling:  func(t *testing.T) cachetest.Driver { return instance(t, prefix, o) },
	}
}

func TestConformance(t *testing.T) {
	cachetest.Run(t, func(t *testing.T) cachetest.Driver {
		return instance(t, testenv.RedisPrefix(t), redis.CountersOptions{})
	})
}

func TestPrefixesAreIsolated(t *testing.T) {
	ctx := context.Background()
	a, b := instance(t, testenv.RedisPrefix(t), redis.CountersOptions{}), instance(t, testenv.RedisPrefix(t), redis.CountersOptions{})
	a.Cache.Set(ctx, "k", []byte("a"), time.Minute)
	if _, ok, err := b.Cache.Get(ctx, "k"); ok || err != nil {
		t.Errorf("Get under another prefix = %v, %v; want a miss", ok, err)
	}
	a.Counters.Add(ctx, "k", 1)
	b.Counters.Drain(ctx, func(id string, counts map[string]int64) error {
		t.Errorf("Drain under another prefix offered %v", counts)
		return nil
	})
	if _, ok, err := a.Locker.TryLock(ctx, "l", time.Minute); !ok || err != nil {
		t.Fatalf("TryLock = %v, %v", ok, err)
	}
	if _, ok, err := b.Locker.TryLock(ctx, "l", time.Minute); !ok || err != nil {
		t.Errorf("TryLock under another prefix = %v, %v; want the lease", ok, err)
	}
	// A key prefix full of glob characters flushes only its own keys.
	glob := testenv.RedisPrefix(t) + "*?["
	g := redis.NewCache(testenv.RedisClient(t), glob)
	g.Set(ctx, "k", []byte("g"), time.Minute)
	if err := g.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if _, ok, _ := a.Cache.Get(ctx, "k"); !ok {
		t.Error("Flush under a glob-like prefix removed another prefix's key")
	}
}

// TestCrashedDrainIsRecovered simulates an instance dying in the middle of a
// Drain (its connection closes, so it can neither finish nor give up the
// batch): another instance must offer the batch again once the lease ends,
// with the same ID, so that counts are neither lost nor applied twice.
func TestCrashedDrainIsRecovered(t *testing.T) {
	const lease = 300 * time.Millisecond
	tests := []struct {
		name        string
		applied     bool // the dying instance's transaction had committed
		wantReplays int
	}{
		{"before its transaction committed", false, 0},
		{"after its transaction committed", true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			prefix := testenv.RedisPrefix(t)
			dyingClient := testenv.RedisClient(t)
			dying := redis.NewCounters(dyingClient, prefix, redis.CountersOptions{Lease: lease})
			survivor := instance(t, prefix, redis.CountersOptions{Lease: lease}).Counters
			ledger := cachetest.NewLedger()

			dying.Add(ctx, "oak@1.0.0", 3)
			survivor.Add(ctx, "oak@1.0.0", 4)
			var crashedID string
			err := dying.Drain(ctx, func(id string, counts map[string]int64) error {
				crashedID = id
				if tt.applied {
					ledger.Apply(id, counts)
				}
				dyingClient.Close()
				return errors.New("killed")
			})
			if err == nil || crashedID == "" {
				t.Fatalf("Drain of the dying instance = %v, offering %q", err, crashedID)
			}

			// Counts added meanwhile are drained at once; the crashed batch
			// waits for its lease to end.
			survivor.Add(ctx, "oak@1.0.0", 10)
			var offered []string
			record := func(id string, counts map[string]int64) error {
				offered = append(offered, id)
				return ledger.Apply(id, counts)
			}
			if err := survivor.Drain(ctx, record); err != nil {
				t.Fatalf("Drain: %v", err)
			}
			if len(offered) != 1 || offered[0] == crashedID {
				t.Fatalf("Drain during the lease offered %v; want only the new counts", offered)
			}

			time.Sleep(lease + 200*time.Millisecond)
			offered = nil
			if err := survivor.Drain(ctx, record); err != nil {
				t.Fatalf("Drain after the lease: %v", err)
			}
			if len(offered) != 1 || offered[0] != crashedID {
				t.Fatalf("Drain after the lease offered %v; want the crashed batch %s", offered, crashedID)
			}
			if got, want := ledger.Totals(), map[string]int64{"oak@1.0.0": 17}; !maps.Equal(got, want) {
				t.Errorf("totals = %v, want %v", got, want)
			}
			if got := ledger.Replays(); got != tt.wantReplays {
				t.Errorf("replays = %d, want %d", got, tt.wantReplays)
			}
			for _, p := range ledger.Problems() {
				t.Error(p)
			}
			offered = nil
			survivor.Drain(ctx, record)
			if len(offered) != 0 {
				t.Errorf("a final Drain offered %v; want nothing left", offered)
			}
		})
	}
}

func TestUnreachableRedisIsUnavailable(t *testing.T) {
	ctx := context.Background()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there any more
	c := goredis.NewClient(&goredis.Options{Addr: addr, DisableIdentity: true, MaxRetries: -1, DialerRetries: 1, DialTimeout: time.Second})
	defer c.Close()
	cache, counters, locker := redis.NewCache(c, "p:"), redis.NewCounters(c, "p:", redis.CountersOptions{}), redis.NewLocker(c, "p:")

	calls := map[string]func() error{
		"Ping":  func() error { return cache.Ping(ctx) },
		"Get":   func() error { _, _, err := cache.Get(ctx, "k"); return err },
		"Set":   func() error { return cache.Set(ctx, "k", []byte("v"), time.Minute) },
		"Del":   func() error { return cache.Delete(ctx, "k") },
		"Flush": func() error { return cache.Flush(ctx) },
		"Add":   func() error { return counters.Add(ctx, "k", 1) },
		"Drain": func() error {
			return counters.Drain(ctx, func(string, map[string]int64) error { return nil })
		},
		"TryLock": func() error { _, _, err := locker.TryLock(ctx, "l", time.Minute); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, errs.Unavailable) {
			t.Errorf("%s = %v; want an errs.Unavailable error", name, err)
		}
	}
}
