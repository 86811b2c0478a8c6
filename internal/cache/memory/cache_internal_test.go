package memory

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	ctx := context.Background()
	value := strings.Repeat("x", 100)
	perEntry := int64(len("k0") + len(value) + entryOverhead)
	c := newCache(CacheOptions{MaxBytes: 3 * perEntry}, 1)
	for i := range 3 {
		c.Set(ctx, fmt.Sprintf("k%d", i), []byte(value), time.Hour)
	}
	c.Get(ctx, "k0")                           // k1 is now the least recently used
	c.Set(ctx, "k3", []byte(value), time.Hour) // evicts k1

	for key, want := range map[string]bool{"k0": true, "k1": false, "k2": true, "k3": true} {
		if _, ok, _ := c.Get(ctx, key); ok != want {
			t.Errorf("Get(%s) found = %v, want %v", key, ok, want)
		}
	}
	if used := c.shards[0].used; used > 3*perEntry {
		t.Errorf("shard holds %d bytes, over its %d", used, 3*perEntry)
	}
}

func TestCacheStaysWithinMaxBytes(t *testing.T) {
	ctx := context.Background()
	const maxBytes = 64 << 10
	c := newCache(CacheOptions{MaxBytes: maxBytes}, 4)
	for i := range 10_000 {
		c.Set(ctx, fmt.Sprintf("key-%d", i), make([]byte, i%700), 0)
	}
	var used int64
	for i := range c.shards {
		s := &c.shards[i]
		used += s.used
		var listed int64
		for e := s.head.next; e != &s.head; e = e.next {
			listed += e.size()
		}
		if listed != s.used || len(s.items) == 0 {
			t.Errorf("shard %d: list holds %d bytes in %d items, accounting says %d", i, listed, len(s.items), s.used)
		}
	}
	if used > maxBytes {
		t.Errorf("cache holds %d bytes, over MaxBytes %d", used, maxBytes)
	}
}

func TestCacheDeleteContaining(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1000, 0)
	c := newCache(CacheOptions{Now: func() time.Time { return now }}, 4)
	for i := range 100 {
		c.Set(ctx, fmt.Sprintf("rt:doc:pkg%d@gen1/x", i%3), []byte("v"), time.Hour)
		c.Set(ctx, fmt.Sprintf("keep-%d", i), []byte("v"), time.Hour)
		c.Set(ctx, fmt.Sprintf("short-%d", i), []byte("v"), time.Minute)
	}
	now = now.Add(2 * time.Minute)
	if n := c.DeleteContaining(ctx, ":pkg1@gen1"); n != 1+100 {
		t.Errorf("removed %d entries, want the matching one and the 100 expired", n)
	}
	for key, want := range map[string]bool{"rt:doc:pkg1@gen1/x": false, "rt:doc:pkg2@gen1/x": true, "keep-7": true, "short-7": false} {
		if _, ok, _ := c.Get(ctx, key); ok != want {
			t.Errorf("Get(%s) found = %v, want %v", key, ok, want)
		}
	}
	for i := range c.shards {
		s := &c.shards[i]
		var listed int64
		for e := s.head.next; e != &s.head; e = e.next {
			listed += e.size()
		}
		if listed != s.used {
			t.Errorf("shard %d: list holds %d bytes, accounting says %d", i, listed, s.used)
		}
	}
}

func TestCacheSkipsValuesLargerThanAShard(t *testing.T) {
	ctx := context.Background()
	c := newCache(CacheOptions{MaxBytes: 1 << 10}, 1)
	c.Set(ctx, "small", []byte("v"), 0)
	c.Set(ctx, "huge", make([]byte, 2<<10), 0)
	if _, ok, _ := c.Get(ctx, "huge"); ok {
		t.Error("a value larger than the cache was stored")
	}
	if _, ok, _ := c.Get(ctx, "small"); !ok {
		t.Error("storing an oversized value evicted the rest")
	}
}
