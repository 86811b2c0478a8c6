package memory

import (
	"context"
	"hash/maphash"
	"strings"
	"sync"
	"time"

	"github.com/dryad-lang/registry/internal/cache"
)

// DefaultMaxBytes is the cache size used when CacheOptions.MaxBytes is zero.
const DefaultMaxBytes = 64 << 20

// entryOverhead approximates the bytes an entry costs beyond its key and
// value (list links, map slot, headers), so that MaxBytes bounds real memory
// even for many tiny entries.
const entryOverhead = 96

// CacheOptions configures a Cache; the zero value gives sensible defaults.
type CacheOptions struct {
	// MaxBytes bounds the memory held by keys and values (default 64 MiB).
	// The least recently used entries are evicted to stay under it.
	MaxBytes int64
	// Now is the clock used for TTLs; nil means time.Now.
	Now func() time.Time
}

// Cache is an in-process LRU cache bounded by total size, with per-entry TTLs.
// It is split into shards, each with its own lock and its own share of
// MaxBytes, so that concurrent readers rarely wait for each other; the
// eviction order is least recently used within a shard. A value larger than
// a shard's share (MaxBytes/32: 2 MiB by default) is not stored.
type Cache struct {
	seed   maphash.Seed
	shards []cacheShard
	now    func() time.Time
}

var (
	_ cache.Cache   = (*Cache)(nil)
	_ cache.Flusher = (*Cache)(nil)
	_ cache.Pruner  = (*Cache)(nil)
)

// NewCache returns an empty Cache.
func NewCache(o CacheOptions) *Cache {
	return newCache(o, 32)
}

func newCache(o CacheOptions, shards int) *Cache {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Cache{seed: maphash.MakeSeed(), shards: make([]cacheShard, shards), now: o.Now}
	for i := range c.shards {
		s := &c.shards[i]
		s.max = o.MaxBytes / int64(shards)
		s.items = make(map[string]*entry)
		s.head.prev, s.head.next = &s.head, &s.head
	}
	return c
}

func (c *Cache) shard(key string) *cacheShard {
	return &c.shards[maphash.String(c.seed, key)%uint64(len(c.shards))]
}

// Get returns the value under key. The slice is the cache's own copy: the
// caller must not modify it.
func (c *Cache) Get(_ context.Context, key string) ([]byte, bool, error) {
	// The clock is read outside the shard's lock: on some machines it is the
	// slowest step of a Get.
	v, ok := c.shard(key).get(key, c.now().UnixNano())
	return v, ok, nil
}

// Set stores a copy of value under key for ttl (ttl <= 0: no expiry).
func (c *Cache) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	var expires int64
	if ttl > 0 {
		expires = c.now().Add(ttl).UnixNano()
	}
	c.shard(key).set(key, append(make([]byte, 0, len(value)), value...), expires)
	return nil
}

// Delete removes keys.
func (c *Cache) Delete(_ context.Context, keys ...string) error {
	for _, k := range keys {
		c.shard(k).delete(k)
	}
	return nil
}

// DeleteContaining removes every entry whose key contains marker, and
// expired entries met on the way. It visits every entry, one shard locked
// at a time: meant for rare calls (a package's change), not per request.
func (c *Cache) DeleteContaining(_ context.Context, marker string) int {
	now := c.now().UnixNano()
	n := 0
	for i := range c.shards {
		n += c.shards[i].deleteMatching(func(e *entry) bool {
			return strings.Contains(e.key, marker) || e.expires != 0 && now >= e.expires
		})
	}
	return n
}

// Flush removes every entry.
func (c *Cache) Flush(context.Context) error {
	for i := range c.shards {
		c.shards[i].flush()
	}
	return nil
}

// entry is a cached value, linked into its shard's recency list.
type entry struct {
	key        string
	value      []byte
	expires    int64 // unix nanoseconds; 0 means never
	prev, next *entry
}

func (e *entry) size() int64 { return int64(len(e.key)+len(e.value)) + entryOverhead }

// cacheShard is one LRU: a map for lookups and a circular list, most recently
// used first, for eviction.
type cacheShard struct {
	mu    sync.Mutex
	items map[string]*entry
	head  entry // sentinel: head.next is the most recent, head.prev the least
	used  int64
	max   int64
	_     [64]byte // keeps neighbouring shards' locks off one cache line
}

func (s *cacheShard) get(key string, now int64) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.items[key]
	if !ok {
		return nil, false
	}
	if e.expires != 0 && now >= e.expires {
		s.remove(e)
		return nil, false
	}
	s.unlink(e)
	s.pushFront(e)
	return e.value, true
}

func (s *cacheShard) set(key string, value []byte, expires int64) {
	e := &entry{key: key, value: value, expires: expires}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.items[key]; ok {
		s.remove(old)
	}
	if e.size() > s.max {
		return
	}
	for s.used+e.size() > s.max {
		s.remove(s.head.prev)
	}
	s.items[key] = e
	s.pushFront(e)
	s.used += e.size()
}

func (s *cacheShard) delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.items[key]; ok {
		s.remove(e)
	}
}

func (s *cacheShard) deleteMatching(match func(*entry) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for e := s.head.next; e != &s.head; {
		next := e.next
		if match(e) {
			s.remove(e)
			n++
		}
		e = next
	}
	return n
}

func (s *cacheShard) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items = make(map[string]*entry)
	s.head.prev, s.head.next = &s.head, &s.head
	s.used = 0
}

func (s *cacheShard) remove(e *entry) {
	s.unlink(e)
	delete(s.items, e.key)
	s.used -= e.size()
}

func (s *cacheShard) unlink(e *entry) {
	e.prev.next = e.next
	e.next.prev = e.prev
}

func (s *cacheShard) pushFront(e *entry) {
	e.prev = &s.head
	e.next = s.head.next
	s.head.next.prev = e
	s.head.next = e
}
