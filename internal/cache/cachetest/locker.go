package cachetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/cache"
	"github.com/dryad-lang/registry/internal/errs"
)

func mustLock(t *testing.T, l cache.Locker, name string, ttl time.Duration) func() {
	t.Helper()
	unlock, ok, err := l.TryLock(context.Background(), name, ttl)
	if err != nil || !ok {
		t.Fatalf("TryLock(%q) = %v, %v; want the lease", name, ok, err)
	}
	return unlock
}

func wantHeld(t *testing.T, l cache.Locker, name string) {
	t.Helper()
	unlock, ok, err := l.TryLock(context.Background(), name, time.Minute)
	if err != nil || ok {
		if ok {
			unlock()
		}
		t.Fatalf("TryLock(%q) = %v, %v; want false: it is held", name, ok, err)
	}
}

func runLocker(t *testing.T, newDriver func(t *testing.T) Driver) {
	ctx := context.Background()

	t.Run("OneHolderPerName", func(t *testing.T) {
		l := newDriver(t).Locker
		mustLock(t, l, "flush", time.Minute)
		wantHeld(t, l, "flush")
		mustLock(t, l, "other", time.Minute)
	})

	t.Run("UnlockReleases", func(t *testing.T) {
		l := newDriver(t).Locker
		unlock := mustLock(t, l, "flush", time.Minute)
		unlock()
		unlock() // a second call is harmless
		mustLock(t, l, "flush", time.Minute)
	})

	t.Run("LeaseExpires", func(t *testing.T) {
		d := newDriver(t)
		mustLock(t, d.Locker, "flush", 50*time.Millisecond)
		mustLock(t, d.Locker, "long", time.Hour)
		d.wait(150 * time.Millisecond)
		mustLock(t, d.Locker, "flush", time.Minute)
		wantHeld(t, d.Locker, "long")
	})

	t.Run("StaleUnlockKeepsTheNewHolder", func(t *testing.T) {
		d := newDriver(t)
		other := d
		if d.Sibling != nil {
			other = d.Sibling(t)
		}
		stale := mustLock(t, d.Locker, "flush", 50*time.Millisecond)
		d.wait(150 * time.Millisecond)
		mustLock(t, other.Locker, "flush", time.Minute)
		stale() // the first holder wakes up late
		wantHeld(t, d.Locker, "flush")
		wantHeld(t, other.Locker, "flush")
	})

	t.Run("InvalidTTL", func(t *testing.T) {
		l := newDriver(t).Locker
		for _, ttl := range []time.Duration{0, -time.Second} {
			if _, ok, err := l.TryLock(ctx, "flush", ttl); ok || !errors.Is(err, errs.Invalid) {
				t.Errorf("TryLock with ttl %v = %v, %v; want an errs.Invalid error", ttl, ok, err)
			}
		}
	})

	t.Run("ConcurrentHoldersExcludeEachOther", func(t *testing.T) {
		d := newDriver(t)
		lockers := []cache.Locker{d.Locker}
		if d.Sibling != nil {
			lockers = append(lockers, d.Sibling(t).Locker)
		}
		var holders, maxHolders, acquired atomic.Int64
		var wg sync.WaitGroup
		errc := make(chan error, 16)
		for g := range 16 {
			l := lockers[g%len(lockers)]
			wg.Go(func() {
				for range 50 {
					unlock, ok, err := l.TryLock(ctx, "flush", time.Minute)
					if err != nil {
						errc <- err
						return
					}
					if !ok {
						continue
					}
					acquired.Add(1)
					n := holders.Add(1)
					for m := maxHolders.Load(); n > m && !maxHolders.CompareAndSwap(m, n); m = maxHolders.Load() {
					}
					time.Sleep(100 * time.Microsecond)
					holders.Add(-1)
					unlock()
				}
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatalf("TryLock: %v", err)
		}
		if maxHolders.Load() != 1 || acquired.Load() == 0 {
			t.Fatalf("at most %d holders at once over %d leases; want exactly 1 at a time", maxHolders.Load(), acquired.Load())
		}
	})
}
