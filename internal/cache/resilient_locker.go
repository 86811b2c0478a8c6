package cache

import (
	"context"
	"time"
)

// ResilientLocker is a Locker over a backend that may fail. A lease is taken
// in-process first, then in the backend, so that one instance never holds a
// name twice; while the backend is down the in-process lease alone is
// granted. Instances then no longer exclude each other, which the work done
// under a lease must tolerate anyway (see Locker).
type ResilientLocker struct {
	primary, local Locker
	health         *Health
}

var _ Locker = (*ResilientLocker)(nil)

// NewResilientLocker wraps primary, whose backend's state is tracked by h;
// local is an in-process Locker.
func NewResilientLocker(primary, local Locker, h *Health) *ResilientLocker {
	return &ResilientLocker{primary: primary, local: local, health: h}
}

// TryLock takes the lease locally, then in the backend when it can be used.
func (r *ResilientLocker) TryLock(ctx context.Context, name string, ttl time.Duration) (func(), bool, error) {
	unlockLocal, ok, err := r.local.TryLock(ctx, name, ttl)
	if err != nil || !ok {
		return nil, false, err
	}
	if !r.health.usable() {
		return unlockLocal, true, nil
	}
	unlockShared, ok, err := r.primary.TryLock(ctx, name, ttl)
	r.health.report(ctx, err)
	switch {
	case err != nil && ctx.Err() != nil:
		unlockLocal()
		return nil, false, err
	case err != nil:
		return unlockLocal, true, nil
	case !ok:
		unlockLocal()
		return nil, false, nil
	}
	return func() {
		unlockShared()
		unlockLocal()
	}, true, nil
}
