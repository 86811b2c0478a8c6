package redis

import (
	"context"
	"errors"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dryad-lang/registry/internal/cache"
)

// Cache stores values as plain Redis strings under prefix+"cache:"+key.
// There is deliberately no in-process layer in front of it: a value deleted
// by one instance must not be served by another.
type Cache struct {
	client *goredis.Client
	prefix string
}

var (
	_ cache.Cache   = (*Cache)(nil)
	_ cache.Flusher = (*Cache)(nil)
	_ cache.Pinger  = (*Cache)(nil)
)

// NewCache returns a Cache keeping its keys under prefix.
func NewCache(c *goredis.Client, prefix string) *Cache {
	return &Cache{client: c, prefix: prefix + "cache:"}
}

// Get returns the value under key.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := c.client.Get(ctx, c.prefix+key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, unavailable(err)
	}
	return v, true, nil
}

// Set stores value under key for ttl (ttl <= 0: no expiry).
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl < 0 {
		ttl = 0 // go-redis reads a negative ttl as KEEPTTL
	}
	if ttl > 0 && ttl < time.Millisecond {
		ttl = time.Millisecond // PX counts milliseconds
	}
	return unavailable(c.client.Set(ctx, c.prefix+key, value, ttl).Err())
}

// Delete removes keys.
func (c *Cache) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = c.prefix + k
	}
	return unavailable(c.client.Del(ctx, full...).Err())
}

// Flush removes every key of this cache (and only those), scanning rather
// than blocking Redis with KEYS.
func (c *Cache) Flush(ctx context.Context) error {
	iter := c.client.Scan(ctx, 0, globEscape(c.prefix)+"*", 1000).Iterator()
	batch := make([]string, 0, 1000)
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == cap(batch) {
			if err := c.client.Unlink(ctx, batch...).Err(); err != nil {
				return unavailable(err)
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return unavailable(err)
	}
	if len(batch) > 0 {
		return unavailable(c.client.Unlink(ctx, batch...).Err())
	}
	return nil
}

// Ping checks that Redis answers.
func (c *Cache) Ping(ctx context.Context) error { return ping(ctx, c.client) }

// globEscape quotes the characters SCAN MATCH treats as a pattern.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`).Replace(s)
}
