package cache

import (
	"context"
	"time"
)

// Locker hands out named leases: at most one holder of a name at a time
// (across every instance sharing the backend), and a lease whose holder dies
// ends by itself after its ttl.
type Locker interface {
	// TryLock takes the lease name for ttl if nobody holds it. ok is false
	// when someone else does. unlock releases the lease if it is still ours
	// (it never releases a lease that expired and was taken by another
	// holder); it may be called more than once. A lease is a hint for
	// efficiency, not a guarantee of exclusion: work done under it must stay
	// correct if it ever overlaps with another holder's (e.g. after the lease
	// expired mid-work).
	TryLock(ctx context.Context, name string, ttl time.Duration) (unlock func(), ok bool, err error)
}
