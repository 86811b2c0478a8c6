// Package cachetest is the conformance suite every cache driver runs: the
// contract of cache.Cache, cache.Counters and cache.Locker written as tests.
//
// A driver's test calls Run with a function that builds a fresh, empty
// instance for one test:
//
//	func TestConformance(t *testing.T) {
//		cachetest.Run(t, func(t *testing.T) cachetest.Driver { ... })
//	}
package cachetest

import (
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/cache"
)

// Driver is one instance of the drivers under test, as one registry instance
// would hold them.
type Driver struct {
	Cache    cache.Cache
	Counters cache.Counters
	Locker   cache.Locker

	// Sibling returns another instance sharing this one's backend, as a
	// second registry instance on the same Redis would. Nil for drivers whose
	// state lives in one process; the multi-instance tests are then skipped.
	Sibling func(t *testing.T) Driver

	// Advance moves the drivers' clock forward by d. Nil means the drivers
	// follow real time, and the suite sleeps instead.
	Advance func(d time.Duration)
}

// wait lets d pass for the driver.
func (drv Driver) wait(d time.Duration) {
	if drv.Advance != nil {
		drv.Advance(d)
		return
	}
	time.Sleep(d)
}

// Run runs the whole suite; newDriver is called once per test.
func Run(t *testing.T, newDriver func(t *testing.T) Driver) {
	t.Run("Cache", func(t *testing.T) { runCache(t, newDriver) })
	t.Run("Counters", func(t *testing.T) { runCounters(t, newDriver) })
	t.Run("Locker", func(t *testing.T) { runLocker(t, newDriver) })
}

// sibling returns a second instance on d's backend, or skips the test.
func sibling(t *testing.T, d Driver) Driver {
	t.Helper()
	if d.Sibling == nil {
		t.Skip("the driver keeps its state in one process")
	}
	return d.Sibling(t)
}
