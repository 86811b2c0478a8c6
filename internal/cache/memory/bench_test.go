package memory_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/cache/memory"
)

func BenchmarkCacheGet(b *testing.B) {
	ctx := context.Background()
	c := memory.NewCache(memory.CacheOptions{})
	value := make([]byte, 4<<10) // a typical package document
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("pkg/%d", i)
		c.Set(ctx, keys[i], value, time.Hour)
	}
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(n.Add(1)) * 7919
		for pb.Next() {
			i++
			if _, ok, _ := c.Get(ctx, keys[i%len(keys)]); !ok {
				b.Fatal("miss")
			}
		}
	})
}

func BenchmarkCountersAdd(b *testing.B) {
	ctx := context.Background()
	c := memory.NewCounters()
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("pkg%d@1.0.0", i)
	}
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(n.Add(1)) * 7919
		for pb.Next() {
			i++
			c.Add(ctx, keys[i%len(keys)], 1)
		}
	})
}
