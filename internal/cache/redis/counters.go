package redis

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dryad-lang/registry/internal/cache"
)

// DefaultLease is how long a drainer may hold a batch when
// CountersOptions.Lease is zero.
const DefaultLease = time.Minute

// CountersOptions configures Counters; the zero value gives sensible defaults.
type CountersOptions struct {
	// Lease is how long a drainer holds a batch before another instance may
	// take it over, which is how batches of a crashed instance are recovered
	// (default 1m). It should exceed the time fn takes to apply a batch;
	// if it does not, a batch may be offered twice, which the batch ID makes
	// harmless.
	Lease time.Duration
}

// Counters accumulates counts in a Redis hash shared by every instance.
//
// Keys, under prefix+"counters:": "live" is the hash Add increments;
// "batch:<id>" is a batch being drained (the live hash renamed); "batches" is
// the set of batch IDs not yet applied; "claim:<id>" marks the drainer
// currently offering batch id, and expires with its lease.
type Counters struct {
	client *goredis.Client
	prefix string
	lease  time.Duration

	seal, finish, release *goredis.Script
}

var (
	_ cache.Counters = (*Counters)(nil)
	_ cache.Pinger   = (*Counters)(nil)
)

// NewCounters returns Counters keeping their keys under prefix.
func NewCounters(c *goredis.Client, prefix string, o CountersOptions) *Counters {
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	o.Lease = max(o.Lease, time.Millisecond) // claims expire in whole milliseconds
	return &Counters{
		client:  c,
		prefix:  prefix + "counters:",
		lease:   o.Lease,
		seal:    goredis.NewScript(sealLua),
		finish:  goredis.NewScript(finishLua),
		release: goredis.NewScript(releaseLua),
	}
}

func (c *Counters) live() string              { return c.prefix + "live" }
func (c *Counters) batches() string           { return c.prefix + "batches" }
func (c *Counters) batchKey(id string) string { return c.prefix + "batch:" + id }
func (c *Counters) claimKey(id string) string { return c.prefix + "claim:" + id }

// Add adds n to the counter key (one HINCRBY).
func (c *Counters) Add(ctx context.Context, key string, n int64) error {
	if n == 0 {
		return nil
	}
	return unavailable(c.client.HIncrBy(ctx, c.live(), key, n).Err())
}

// Drain first offers the batches no drainer holds (left by a failed fn or a
// crashed instance), with their original IDs, then seals the live counts into
// a new batch and offers it.
func (c *Counters) Drain(ctx context.Context, fn func(batchID string, counts map[string]int64) error) error {
	ids, err := c.client.SMembers(ctx, c.batches()).Result()
	if err != nil {
		return unavailable(err)
	}
	for _, id := range ids {
		token := rand.Text()
		claimed, err := c.client.SetNX(ctx, c.claimKey(id), token, c.lease).Result()
		if err != nil {
			return unavailable(err)
		}
		if !claimed {
			continue // another drainer is offering it now
		}
		if err := c.offer(ctx, id, token, fn); err != nil {
			return err
		}
	}

	id, token := rand.Text(), rand.Text()
	keys := []string{c.live(), c.batchKey(id), c.batches(), c.claimKey(id)}
	sealed, err := c.seal.Run(ctx, c.client, keys, id, token, c.lease.Milliseconds()).Int()
	if err != nil {
		return unavailable(err)
	}
	if sealed == 0 {
		return nil
	}
	return c.offer(ctx, id, token, fn)
}

// offer hands the claimed batch id to fn and forgets it if fn succeeds;
// otherwise it gives up the claim so that the next Drain retries the batch.
func (c *Counters) offer(ctx context.Context, id, token string, fn func(string, map[string]int64) error) error {
	raw, err := c.client.HGetAll(ctx, c.batchKey(id)).Result()
	if err != nil {
		c.giveUp(ctx, id, token)
		return unavailable(err)
	}
	counts := make(map[string]int64, len(raw))
	for k, v := range raw {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			c.giveUp(ctx, id, token)
			return fmt.Errorf("counter %q of batch %s: %w", k, id, err)
		}
		if n != 0 {
			counts[k] = n
		}
	}
	if len(counts) > 0 {
		if err := fn(id, counts); err != nil {
			c.giveUp(ctx, id, token)
			return err
		}
	}
	keys := []string{c.batchKey(id), c.batches(), c.claimKey(id)}
	return unavailable(c.finish.Run(ctx, c.client, keys, id, token).Err())
}

// giveUp releases a claim. It runs even when ctx is done (fn may have failed
// because of it); if it cannot, the claim expires with its lease.
func (c *Counters) giveUp(ctx context.Context, id, token string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	c.release.Run(ctx, c.client, []string{c.claimKey(id)}, token)
}

// Ping checks that Redis answers.
func (c *Counters) Ping(ctx context.Context) error { return ping(ctx, c.client) }
