package memory

import (
	"context"
	"sync"
	"time"

	"github.com/dryad-lang/registry/internal/cache"
	"github.com/dryad-lang/registry/internal/errs"
)

// Locker hands out leases within one process.
type Locker struct {
	now func() time.Time

	mu     sync.Mutex
	leases map[string]lease
	serial uint64 // tells a holder's lease from a later one on the same name
}

var _ cache.Locker = (*Locker)(nil)

type lease struct {
	serial  uint64
	expires time.Time
}

// NewLocker returns a Locker using the clock now (nil means time.Now).
func NewLocker(now func() time.Time) *Locker {
	if now == nil {
		now = time.Now
	}
	return &Locker{now: now, leases: make(map[string]lease)}
}

// TryLock takes the lease name for ttl unless someone holds it.
func (l *Locker) TryLock(_ context.Context, name string, ttl time.Duration) (func(), bool, error) {
	if ttl <= 0 {
		return nil, false, errs.New(errs.Invalid, "a lease needs a positive ttl")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if cur, held := l.leases[name]; held && now.Before(cur.expires) {
		return nil, false, nil
	}
	l.serial++
	mine := l.serial
	// Expired leases of other names are dropped here, keeping the map small.
	for n, ls := range l.leases {
		if !now.Before(ls.expires) {
			delete(l.leases, n)
		}
	}
	l.leases[name] = lease{serial: mine, expires: now.Add(ttl)}
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if cur, held := l.leases[name]; held && cur.serial == mine {
			delete(l.leases, name)
		}
	}, true, nil
}
