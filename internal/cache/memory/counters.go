package memory

import (
	"context"
	"crypto/rand"
	"hash/maphash"
	"sync"

	"github.com/dryad-lang/registry/internal/cache"
)

const counterShards = 32

// Counters buffers counts in process memory. Add takes one short lock of one
// of several shards, so concurrent downloads of different versions rarely
// contend.
type Counters struct {
	seed   maphash.Seed
	shards [counterShards]counterShard

	drainMu sync.Mutex // one Drain at a time
	pending *batch     // a batch whose fn failed, offered again first
}

var _ cache.Counters = (*Counters)(nil)

type counterShard struct {
	mu     sync.Mutex
	counts map[string]int64
	_      [64]byte // keeps neighbouring shards' locks off one cache line
}

type batch struct {
	id     string
	counts map[string]int64
}

// NewCounters returns empty Counters.
func NewCounters() *Counters {
	c := &Counters{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].counts = make(map[string]int64)
	}
	return c
}

// Add adds n to the counter key.
func (c *Counters) Add(_ context.Context, key string, n int64) error {
	if n == 0 {
		return nil
	}
	s := &c.shards[maphash.String(c.seed, key)%counterShards]
	s.mu.Lock()
	s.counts[key] += n
	s.mu.Unlock()
	return nil
}

// Drain offers a batch left by a failed Drain first, then the counts added
// since the last batch was taken.
func (c *Counters) Drain(_ context.Context, fn func(batchID string, counts map[string]int64) error) error {
	c.drainMu.Lock()
	defer c.drainMu.Unlock()
	if c.pending != nil {
		if err := fn(c.pending.id, c.pending.counts); err != nil {
			return err
		}
		c.pending = nil
	}
	b := &batch{id: rand.Text(), counts: c.take()}
	if len(b.counts) == 0 {
		return nil
	}
	if err := fn(b.id, b.counts); err != nil {
		c.pending = b
		return err
	}
	return nil
}

// take empties the shards and returns what they held.
func (c *Counters) take() map[string]int64 {
	all := make(map[string]int64)
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		m := s.counts
		s.counts = make(map[string]int64, len(m))
		s.mu.Unlock()
		for k, n := range m {
			if n != 0 {
				all[k] = n
			}
		}
	}
	return all
}
