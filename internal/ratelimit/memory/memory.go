// Package memory is the in-process rate limiter: for a single registry
// instance, and the fallback of the Redis limiter when Redis is down.
package memory

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"github.com/dryad-lang/registry/internal/ratelimit"
)

// DefaultMaxKeys is the number of keys tracked when Options.MaxKeys is zero.
const DefaultMaxKeys = 100_000

const shards = 32

// Options configures a Limiter; the zero value gives sensible defaults.
type Options struct {
	// MaxKeys bounds the keys tracked at once (default 100,000), so that a
	// client rotating keys cannot grow memory without bound. Idle keys (whose
	// bucket is full again) are dropped first, which loses nothing; past
	// that, arbitrary keys are forgotten, which gives them a full bucket.
	MaxKeys int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Limiter keeps token buckets in memory, as GCRA: a bucket is one number,
// its theoretical arrival time (TAT), the time at which it will be full
// again. A key whose TAT is past is idle, the same as absent.
type Limiter struct {
	seed   maphash.Seed
	now    func() time.Time
	start  time.Time // TATs count nanoseconds from here, on the monotonic clock
	max    int       // keys per shard
	shards [shards]shard
}

var _ ratelimit.Limiter = (*Limiter)(nil)

type shard struct {
	mu  sync.Mutex
	tat map[string]int64
	_   [64]byte // keeps neighbouring shards' locks off one cache line
}

// New returns a Limiter with no keys.
func New(o Options) *Limiter {
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultMaxKeys
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	l := &Limiter{seed: maphash.MakeSeed(), now: o.Now, start: o.Now(), max: max(o.MaxKeys/shards, 1)}
	for i := range l.shards {
		l.shards[i].tat = make(map[string]int64)
	}
	return l
}

// Allow takes a token from key's bucket if it has one.
func (l *Limiter) Allow(_ context.Context, key string, lim ratelimit.Limit) (ratelimit.Result, error) {
	return l.decide(key, lim, true)
}

// Peek tells whether Allow would succeed now.
func (l *Limiter) Peek(_ context.Context, key string, lim ratelimit.Limit) (ratelimit.Result, error) {
	return l.decide(key, lim, false)
}

func (l *Limiter) decide(key string, lim ratelimit.Limit, take bool) (ratelimit.Result, error) {
	if err := lim.Validate(); err != nil {
		return ratelimit.Result{}, err
	}
	interval := int64(lim.Interval())
	tolerance := interval * int64(lim.Burst) // a full bucket's worth of time
	now := int64(l.now().Sub(l.start))

	s := &l.shards[maphash.String(l.seed, key)%shards]
	s.mu.Lock()
	defer s.mu.Unlock()
	tat, known := s.tat[key]
	tat = max(tat, now)
	next := tat + interval // the TAT once a token is taken
	// A token may be taken unless the bucket would then owe more than a
	// full bucket's worth of time.
	if allowAt := next - tolerance; now < allowAt {
		return ratelimit.Result{RetryAfter: time.Duration(allowAt - now)}, nil
	}
	if !take {
		return ratelimit.Result{Allowed: true, Remaining: int((now + tolerance - tat) / interval)}, nil
	}
	if !known && len(s.tat) >= l.max {
		s.evict(now, l.max)
	}
	s.tat[key] = next
	return ratelimit.Result{Allowed: true, Remaining: int((now + tolerance - next) / interval)}, nil
}

// evict makes room for a key: it drops the idle keys, and if that frees less
// than a tenth of the shard, arbitrary ones (map order is random).
func (s *shard) evict(now int64, limit int) {
	for k, tat := range s.tat {
		if tat <= now {
			delete(s.tat, k)
		}
	}
	for k := range s.tat {
		if len(s.tat) < limit-limit/10 {
			break
		}
		delete(s.tat, k)
	}
}
