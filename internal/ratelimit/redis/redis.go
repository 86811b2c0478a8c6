// Package redis is the rate limiter shared by every registry instance: one
// bucket per key in Redis, so that a client's budget is the same whichever
// instance nginx sends it to.
package redis

import (
	"context"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/ratelimit"
)

// gcraLua decides one request for the bucket KEYS[1] with GCRA: the key holds
// the bucket's theoretical arrival time (TAT) in microseconds, the time at
// which it will be full again. ARGV: the interval between tokens (µs), the
// burst, and "1" to take a token or "0" to only look. Returns {allowed,
// remaining, retry after (µs)}.
//
// The time is Redis's own (TIME), so instances with skewed clocks agree, and
// the whole decision is one atomic step. The key expires when the bucket is
// full again, so idle keys take no memory.
const gcraLua = `
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = interval * tonumber(ARGV[2])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or 0), now)
local next = tat + interval
if now < next - tolerance then
  return {0, 0, next - tolerance - now}
end
if ARGV[3] ~= '1' then
  return {1, math.floor((now + tolerance - tat) / interval), 0}
end
redis.call('SET', KEYS[1], string.format('%d', next), 'PX', string.format('%d', math.ceil((next - now) / 1000)))
return {1, math.floor((now + tolerance - next) / interval), 0}`

// Limiter keeps its buckets under prefix+"rl:"+key.
type Limiter struct {
	client *goredis.Client
	prefix string
	gcra   *goredis.Script
}

var (
	_ ratelimit.Limiter = (*Limiter)(nil)
	_ ratelimit.Pinger  = (*Limiter)(nil)
)

// New returns a Limiter keeping its keys under prefix (which may be shared
// with the Redis cache drivers).
func New(c *goredis.Client, prefix string) *Limiter {
	return &Limiter{client: c, prefix: prefix + "rl:", gcra: goredis.NewScript(gcraLua)}
}

// Allow takes a token from key's bucket if it has one.
func (l *Limiter) Allow(ctx context.Context, key string, lim ratelimit.Limit) (ratelimit.Result, error) {
	return l.decide(ctx, key, lim, "1")
}

// Peek tells whether Allow would succeed now.
func (l *Limiter) Peek(ctx context.Context, key string, lim ratelimit.Limit) (ratelimit.Result, error) {
	return l.decide(ctx, key, lim, "0")
}

func (l *Limiter) decide(ctx context.Context, key string, lim ratelimit.Limit, take string) (ratelimit.Result, error) {
	if err := lim.Validate(); err != nil {
		return ratelimit.Result{}, err
	}
	interval := lim.Interval().Microseconds()
	r, err := l.gcra.Run(ctx, l.client, []string{l.prefix + key}, interval, lim.Burst, take).Int64Slice()
	if err != nil {
		return ratelimit.Result{}, errs.Wrap(errs.Unavailable, err, "redis is unavailable")
	}
	if len(r) != 3 {
		return ratelimit.Result{}, errs.Errorf(errs.Internal, "rate limit script returned %v", r)
	}
	return ratelimit.Result{
		Allowed:    r[0] == 1,
		Remaining:  int(r[1]),
		RetryAfter: time.Duration(r[2]) * time.Microsecond,
	}, nil
}

// Ping checks that Redis answers.
func (l *Limiter) Ping(ctx context.Context) error {
	if err := l.client.Ping(ctx).Err(); err != nil {
		return errs.Wrap(errs.Unavailable, err, "redis is unavailable")
	}
	return nil
}
