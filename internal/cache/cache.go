// Package cache declares the shared, short-lived state the registry keeps
// outside its database: a byte cache for package metadata, buffered download
// counters and leases. Drivers live in subpackages (memory, redis); the
// cachetest suite states the contract every driver must pass, and the
// Resilient* decorators keep the registry serving when a shared backend fails.
//
// Several registry instances may share one backend (Redis) and must then
// behave as one registry, so every guarantee below holds across instances
// when the driver is shared.
package cache

import (
	"context"
	"time"
)

// Cache stores byte values under string keys, such as encoded package metadata.
//
// Values are invalidated explicitly with Delete on every change; the TTL only
// bounds how long a value can outlive a missed invalidation.
type Cache interface {
	// Get returns the value stored under key and whether there was one.
	// The returned slice may be shared with the cache and other callers: it
	// must not be modified.
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)

	// Set stores value under key for ttl; ttl <= 0 keeps it until it is
	// deleted or evicted. Set does not retain value: the caller may reuse it.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error

	// Delete removes keys. Once Delete returns nil, no Get (by any instance
	// sharing the backend) returns the old values.
	Delete(ctx context.Context, keys ...string) error
}

// Flusher is an optional capability of a Cache: removing every value it holds.
// ResilientCache uses it to recover from invalidations it could not deliver.
type Flusher interface {
	Flush(ctx context.Context) error
}

// Pruner is implemented by caches holding entries in the process's own
// memory: DeleteContaining removes every entry whose key contains marker.
// Generations use it to free the entries a change orphaned at once: they
// would otherwise hold memory until their TTL or the size bound, and a busy
// package orphans a generation at every publish. It returns how many
// entries it removed.
type Pruner interface {
	DeleteContaining(ctx context.Context, marker string) int
}

// Pinger is implemented by drivers whose backend can be unreachable: Ping
// reports whether it answers now.
type Pinger interface {
	Ping(ctx context.Context) error
}
