package redis_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/cache/redis"
	"github.com/dryad-lang/registry/internal/testenv"
)

func BenchmarkCacheGet(b *testing.B) {
	ctx := context.Background()
	c := redis.NewCache(testenv.RedisClient(b), testenv.RedisPrefix(b))
	value := make([]byte, 4<<10) // a typical package document
	for i := range 100 {
		c.Set(ctx, fmt.Sprintf("pkg%d", i), value, time.Minute)
	}
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		key := fmt.Sprintf("pkg%d", n.Add(1)%100)
		for pb.Next() {
			if _, ok, err := c.Get(ctx, key); !ok || err != nil {
				b.Fatalf("Get = %v, %v", ok, err)
			}
		}
	})
}

func BenchmarkCountersAdd(b *testing.B) {
	ctx := context.Background()
	c := redis.NewCounters(testenv.RedisClient(b), testenv.RedisPrefix(b), redis.CountersOptions{})
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		key := fmt.Sprintf("pkg%d@1.0.0", n.Add(1)%100)
		for pb.Next() {
			if err := c.Add(ctx, key, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
}
