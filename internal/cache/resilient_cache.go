package cache

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// maxPendingDeletes bounds the invalidations ResilientCache remembers during
// an outage; past it, the whole cache is flushed on recovery instead.
const maxPendingDeletes = 4096

// ResilientCache is a Cache over a backend that may fail (Redis down): its
// errors become misses and no-ops, so the registry keeps serving from the
// database, and the shared Health records the outage.
//
// Invalidations are the one thing that cannot simply be dropped: a Delete
// that fails is remembered and delivered before the backend is used again,
// so that a value deleted during an outage is not served after it. (Another
// instance that can still reach the backend may serve such a value until this
// one delivers the Delete, or until the value's TTL ends.)
type ResilientCache struct {
	inner  Cache
	health *Health

	hasPending atomic.Bool // fast check of pending on the hot path
	mu         sync.Mutex
	pending    map[string]struct{}
	flushAll   bool // too many pending deletes: flush everything instead
}

var _ Cache = (*ResilientCache)(nil)

// NewResilientCache wraps inner, whose backend's state is tracked by h.
func NewResilientCache(inner Cache, h *Health) *ResilientCache {
	return &ResilientCache{inner: inner, health: h, pending: make(map[string]struct{})}
}

// Get returns the cached value, or a miss when the backend cannot be used.
func (r *ResilientCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if !r.ready(ctx) {
		return nil, false, nil
	}
	v, ok, err := r.inner.Get(ctx, key)
	r.health.report(ctx, err)
	if err != nil {
		return nil, false, nil
	}
	return v, ok, nil
}

// Set stores the value, or does nothing when the backend cannot be used.
func (r *ResilientCache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if !r.ready(ctx) {
		return nil
	}
	r.health.report(ctx, r.inner.Set(ctx, key, value, ttl))
	return nil
}

// Delete removes keys; when the backend cannot be used the keys are kept and
// deleted before the backend serves anything again.
func (r *ResilientCache) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	if !r.ready(ctx) {
		r.remember(keys)
		return nil
	}
	err := r.inner.Delete(ctx, keys...)
	r.health.report(ctx, err)
	if err != nil {
		// The delete may or may not have happened; deleting again is harmless.
		r.remember(keys)
	}
	return nil
}

// ready says whether the backend may be used now, first delivering any
// invalidations missed during an outage.
func (r *ResilientCache) ready(ctx context.Context) bool {
	if !r.health.usable() {
		return false
	}
	if !r.hasPending.Load() {
		return true
	}
	return r.deliverPending(ctx)
}

func (r *ResilientCache) remember(keys []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.flushAll {
		for _, k := range keys {
			r.pending[k] = struct{}{}
		}
		if len(r.pending) > maxPendingDeletes {
			r.flushAll = true
			r.pending = make(map[string]struct{})
		}
	}
	r.hasPending.Store(true)
}

func (r *ResilientCache) deliverPending(ctx context.Context) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.hasPending.Load() {
		return true
	}
	var err error
	if f, ok := r.inner.(Flusher); ok && r.flushAll {
		err = f.Flush(ctx)
	} else {
		if r.flushAll {
			// Deleting the keys we know of is the best we can do; the TTL
			// bounds the staleness of the ones we forgot.
			r.health.log.Warn("cache cannot be flushed; invalidations missed during the outage are lost", "backend", r.health.name)
		}
		keys := make([]string, 0, len(r.pending))
		for k := range r.pending {
			keys = append(keys, k)
		}
		if len(keys) > 0 {
			err = r.inner.Delete(ctx, keys...)
		}
	}
	r.health.report(ctx, err)
	if err != nil {
		return false
	}
	r.pending = make(map[string]struct{})
	r.flushAll = false
	r.hasPending.Store(false)
	return true
}

// Watch reads c every interval until ctx ends. After a Redis outage the
// resilient cache delivers the invalidations it kept before it uses Redis
// again; without traffic on this instance that would wait, and meanwhile
// the others, reading Redis, could serve what this one changed during the
// outage. One read a second bounds that to about a second.
func Watch(ctx context.Context, c Cache, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.Get(ctx, "watch")
		}
	}
}
