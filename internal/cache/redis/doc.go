// Package redis holds the Redis cache drivers: Cache, Counters and Locker.
// Every registry instance points them at the same Redis, which makes them
// behave as one registry.
//
// All three take the *redis.Client the caller built from REDIS_URL, so one
// connection pool serves them all, and a key prefix. One prefix may be given
// to all of them (and to the Redis rate limiter): each keeps its keys under
// its own sub-prefix. The drivers use one Redis server (or a failover pair),
// not Redis Cluster: some scripts touch several keys.
package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dryad-lang/registry/internal/errs"
)

// unavailable gives a Redis failure its kind, so that callers (and the
// readiness endpoint) tell a down Redis from a bug.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	return errs.Wrap(errs.Unavailable, err, "redis is unavailable")
}

// ping checks that the server behind c answers.
func ping(ctx context.Context, c *goredis.Client) error {
	return unavailable(c.Ping(ctx).Err())
}
