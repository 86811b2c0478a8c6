package memory_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/dryad-lang/registry/internal/ratelimit"
	"github.com/dryad-lang/registry/internal/ratelimit/memory"
)

func BenchmarkAllow(b *testing.B) {
	ctx := context.Background()
	l := memory.New(memory.Options{})
	lim := ratelimit.Limit{Rate: 1e6, Burst: 1000}
	keys := make([]string, 1000) // client addresses
	for i := range keys {
		keys[i] = fmt.Sprintf("ip:10.0.%d.%d", i/256, i%256)
	}
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(n.Add(1)) * 7919
		for pb.Next() {
			i++
			if _, err := l.Allow(ctx, keys[i%len(keys)], lim); err != nil {
				b.Fatal(err)
			}
		}
	})
}
