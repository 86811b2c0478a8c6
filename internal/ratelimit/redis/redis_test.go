package redis_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/ratelimit"
	"github.com/dryad-lang/registry/internal/ratelimit/ratelimittest"
	"github.com/dryad-lang/registry/internal/ratelimit/redis"
	"github.com/dryad-lang/registry/internal/testenv"
)

func TestConformance(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) ratelimittest.Setup {
		prefix := testenv.RedisPrefix(t)
		return ratelimittest.Setup{
			Limiter: redis.New(testenv.RedisClient(t), prefix),
			// Each sibling has its own connection pool, like another instance.
			Sibling: func(t *testing.T) ratelimit.Limiter { return redis.New(testenv.RedisClient(t), prefix) },
		}
	})
}

// Buckets live only as long as they limit anything: an idle key disappears,
// and a Peek creates none.
func TestKeysExpireWhenIdle(t *testing.T) {
	ctx := context.Background()
	c := testenv.RedisClient(t)
	prefix := testenv.RedisPrefix(t)
	l := redis.New(c, prefix)
	lim := ratelimit.Limit{Rate: 10, Burst: 3} // full again 300ms after the last token

	if _, err := l.Peek(ctx, "peeked", lim); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Exists(ctx, prefix+"rl:peeked").Result(); n != 0 {
		t.Error("Peek created a key")
	}
	for range 3 {
		l.Allow(ctx, "k", lim)
	}
	ttl, err := c.PTTL(ctx, prefix+"rl:k").Result()
	if err != nil || ttl <= 0 || ttl > 300*time.Millisecond {
		t.Fatalf("PTTL = %v, %v; want the time until the bucket is full (at most 300ms)", ttl, err)
	}
	time.Sleep(ttl + 50*time.Millisecond)
	if n, _ := c.Exists(ctx, prefix+"rl:k").Result(); n != 0 {
		t.Error("the key of a full bucket is still there")
	}
	if r, err := l.Peek(ctx, "k", lim); err != nil || r.Remaining != 3 {
		t.Errorf("Peek after expiry = %+v, %v; want a full bucket", r, err)
	}
}

func TestUnreachableRedisIsUnavailable(t *testing.T) {
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := goredis.NewClient(&goredis.Options{Addr: addr, DisableIdentity: true, MaxRetries: -1, DialerRetries: 1})
	defer c.Close()
	l := redis.New(c, "p:")
	lim := ratelimit.Limit{Rate: 1, Burst: 1}
	if _, err := l.Allow(ctx, "k", lim); !errors.Is(err, errs.Unavailable) {
		t.Errorf("Allow = %v, want errs.Unavailable", err)
	}
	if _, err := l.Peek(ctx, "k", lim); !errors.Is(err, errs.Unavailable) {
		t.Errorf("Peek = %v, want errs.Unavailable", err)
	}
	if err := l.Ping(ctx); !errors.Is(err, errs.Unavailable) {
		t.Errorf("Ping = %v, want errs.Unavailable", err)
	}
}

func BenchmarkAllow(b *testing.B) {
	ctx := context.Background()
	l := redis.New(testenv.RedisClient(b), testenv.RedisPrefix(b))
	lim := ratelimit.Limit{Rate: 1e6, Burst: 1000}
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		key := fmt.Sprintf("ip:10.0.0.%d", n.Add(1))
		for pb.Next() {
			if _, err := l.Allow(ctx, key, lim); err != nil {
				b.Fatal(err)
			}
		}
	})
}
