package redis

import (
	"context"
	"crypto/rand"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dryad-lang/registry/internal/cache"
	"github.com/dryad-lang/registry/internal/errs"
)

// Locker hands out leases stored as prefix+"lock:"+name, holding the random
// token of their holder.
type Locker struct {
	client  *goredis.Client
	prefix  string
	release *goredis.Script
}

var (
	_ cache.Locker = (*Locker)(nil)
	_ cache.Pinger = (*Locker)(nil)
)

// NewLocker returns a Locker keeping its keys under prefix.
func NewLocker(c *goredis.Client, prefix string) *Locker {
	return &Locker{client: c, prefix: prefix + "lock:", release: goredis.NewScript(releaseLua)}
}

// TryLock takes the lease with SET NX PX; unlock deletes it only if it still
// holds this holder's token.
func (l *Locker) TryLock(ctx context.Context, name string, ttl time.Duration) (func(), bool, error) {
	if ttl <= 0 {
		return nil, false, errs.New(errs.Invalid, "a lease needs a positive ttl")
	}
	ttl = max(ttl, time.Millisecond)
	key, token := l.prefix+name, rand.Text()
	ok, err := l.client.SetNX(ctx, key, token, ttl).Result()
	if err != nil {
		return nil, false, unavailable(err)
	}
	if !ok {
		return nil, false, nil
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			// The caller's ctx may be done by now; the lease must still go.
			// If this fails the lease simply expires.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			l.release.Run(ctx, l.client, []string{key}, token)
		})
	}, true, nil
}

// Ping checks that Redis answers.
func (l *Locker) Ping(ctx context.Context) error { return ping(ctx, l.client) }
