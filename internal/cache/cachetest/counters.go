package cachetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dryad-lang/registry/internal/cache"
)

// batch is one call of a Drain callback, as recorded by the tests.
type batch struct {
	id     string
	counts map[string]int64
}

// drainAll drains c and returns the batches offered.
func drainAll(t *testing.T, c cache.Counters) []batch {
	t.Helper()
	var got []batch
	err := c.Drain(context.Background(), func(id string, counts map[string]int64) error {
		got = append(got, batch{id, maps.Clone(counts)})
		return nil
	})
	if err != nil {
		t.Fatalf("Drain: %v", err)
	}
	return got
}

func sum(batches []batch) map[string]int64 {
	total := make(map[string]int64)
	for _, b := range batches {
		for k, n := range b.counts {
			total[k] += n
		}
	}
	return total
}

func mustAdd(t *testing.T, c cache.Counters, key string, n int64) {
	t.Helper()
	if err := c.Add(context.Background(), key, n); err != nil {
		t.Fatalf("Add(%q, %d): %v", key, n, err)
	}
}

func runCounters(t *testing.T, newDriver func(t *testing.T) Driver) {
	ctx := context.Background()

	t.Run("DrainWithNothingDoesNotCallFn", func(t *testing.T) {
		c := newDriver(t).Counters
		if got := drainAll(t, c); len(got) != 0 {
			t.Fatalf("Drain of empty counters offered %v", got)
		}
		mustAdd(t, c, "oak@1.0.0", 0)
		if got := drainAll(t, c); len(got) != 0 {
			t.Fatalf("Drain after adding 0 offered %v", got)
		}
	})

	t.Run("AddThenDrain", func(t *testing.T) {
		type add struct {
			key string
			n   int64
		}
		tests := []struct {
			name string
			adds []add
			want map[string]int64
		}{
			{"one", []add{{"oak@1.0.0", 1}}, map[string]int64{"oak@1.0.0": 1}},
			{"summed", []add{{"oak@1.0.0", 1}, {"oak@1.0.0", 1}, {"oak@1.0.0", 5}}, map[string]int64{"oak@1.0.0": 7}},
			{"several keys", []add{{"a", 1}, {"b", 2}, {"a", 3}, {"c", 4}}, map[string]int64{"a": 4, "b": 2, "c": 4}},
			{"large", []add{{"big", 1 << 40}, {"big", 1 << 40}}, map[string]int64{"big": 1 << 41}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := newDriver(t).Counters
				for _, a := range tt.adds {
					mustAdd(t, c, a.key, a.n)
				}
				got := drainAll(t, c)
				if len(got) != 1 || got[0].id == "" || !maps.Equal(got[0].counts, tt.want) {
					t.Fatalf("Drain offered %v, want one batch with %v", got, tt.want)
				}
				if again := drainAll(t, c); len(again) != 0 {
					t.Fatalf("second Drain offered %v, want nothing", again)
				}
			})
		}
	})

	t.Run("BatchIDsAreUnique", func(t *testing.T) {
		c := newDriver(t).Counters
		seen := make(map[string]bool)
		for i := range 20 {
			mustAdd(t, c, "k", 1)
			got := drainAll(t, c)
			if len(got) != 1 || seen[got[0].id] {
				t.Fatalf("drain %d offered %v; IDs seen: %v", i, got, seen)
			}
			seen[got[0].id] = true
		}
	})

	t.Run("FailedDrainKeepsTheBatch", func(t *testing.T) {
		c := newDriver(t).Counters
		mustAdd(t, c, "a", 1)
		mustAdd(t, c, "b", 2)
		boom := errors.New("database down")
		var failed batch
		err := c.Drain(ctx, func(id string, counts map[string]int64) error {
			failed = batch{id, maps.Clone(counts)}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Drain = %v, want the callback's error", err)
		}
		// Still failing: the same batch is offered, and kept, again.
		if err := c.Drain(ctx, func(string, map[string]int64) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("second failing Drain = %v, want the callback's error", err)
		}
		mustAdd(t, c, "a", 10)
		mustAdd(t, c, "c", 3)

		got := drainAll(t, c)
		if len(got) != 2 {
			t.Fatalf("Drain offered %v; want the failed batch, then the new counts", got)
		}
		if got[0].id != failed.id || !maps.Equal(got[0].counts, failed.counts) {
			t.Errorf("first batch = %v, want the failed one again unchanged: %v", got[0], failed)
		}
		if want := map[string]int64{"a": 10, "c": 3}; got[1].id == failed.id || !maps.Equal(got[1].counts, want) {
			t.Errorf("second batch = %v, want a new ID with %v", got[1], want)
		}
		if again := drainAll(t, c); len(again) != 0 {
			t.Fatalf("Drain after success offered %v, want nothing", again)
		}
	})

	t.Run("AddDuringDrainGoesToNextBatch", func(t *testing.T) {
		c := newDriver(t).Counters
		mustAdd(t, c, "k", 1)
		var first []batch
		err := c.Drain(ctx, func(id string, counts map[string]int64) error {
			first = append(first, batch{id, maps.Clone(counts)})
			return c.Add(ctx, "k", 100) // a download during the flush
		})
		if err != nil {
			t.Fatalf("Drain: %v", err)
		}
		if len(first) != 1 || first[0].counts["k"] != 1 {
			t.Fatalf("Drain offered %v, want one batch with k=1", first)
		}
		if got := sum(drainAll(t, c)); got["k"] != 100 {
			t.Fatalf("next Drain summed %v, want k=100", got)
		}
	})

	t.Run("ConcurrentAddAndDrain", func(t *testing.T) {
		c := newDriver(t).Counters
		testNoCountLost(t, []cache.Counters{c})
	})

	t.Run("InstancesShareCounts", func(t *testing.T) {
		a := newDriver(t)
		b := sibling(t, a)
		mustAdd(t, a.Counters, "k", 2)
		mustAdd(t, b.Counters, "k", 3)
		if got := sum(drainAll(t, b.Counters)); got["k"] != 5 {
			t.Fatalf("Drain on b summed %v, want k=5 (counts of both instances)", got)
		}
		if got := drainAll(t, a.Counters); len(got) != 0 {
			t.Fatalf("Drain on a offered %v after b drained everything", got)
		}
	})

	t.Run("InstancesAddAndDrainConcurrently", func(t *testing.T) {
		a := newDriver(t)
		b := sibling(t, a)
		testNoCountLost(t, []cache.Counters{a.Counters, b.Counters})
	})
}

// testNoCountLost adds from many goroutines spread over the instances while
// each instance drains in a loop into one Ledger, some drains failing; then
// every count must have been applied exactly once.
func testNoCountLost(t *testing.T, instances []cache.Counters) {
	ctx := context.Background()
	ledger := NewLedger()
	const adders, addsEach, keys = 8, 200, 7

	var calls atomic.Int64
	aborted := errors.New("transaction aborted")
	flaky := func(id string, counts map[string]int64) error {
		if calls.Add(1)%3 == 0 {
			return aborted
		}
		return ledger.Apply(id, counts)
	}

	stop := make(chan struct{})
	var drainers sync.WaitGroup
	drainErrs := make(chan error, len(instances))
	for _, c := range instances {
		drainers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := c.Drain(ctx, flaky); err != nil && !errors.Is(err, aborted) {
					drainErrs <- err
					return
				}
			}
		})
	}

	want := make(map[string]int64)
	for i := range keys {
		want[fmt.Sprintf("pkg%d@1.0.0", i)] = 0
	}
	var adding sync.WaitGroup
	addErrs := make(chan error, adders)
	for g := range adders {
		c := instances[g%len(instances)]
		adding.Go(func() {
			for i := range addsEach {
				if err := c.Add(ctx, fmt.Sprintf("pkg%d@1.0.0", (g+i)%keys), int64(1+i%3)); err != nil {
					addErrs <- err
					return
				}
			}
		})
		for i := range addsEach {
			want[fmt.Sprintf("pkg%d@1.0.0", (g+i)%keys)] += int64(1 + i%3)
		}
	}
	adding.Wait()
	close(stop)
	drainers.Wait()
	close(addErrs)
	close(drainErrs)
	for err := range addErrs {
		t.Fatalf("Add: %v", err)
	}
	for err := range drainErrs {
		t.Fatalf("Drain: %v", err)
	}
	for _, c := range instances {
		if err := c.Drain(ctx, ledger.Apply); err != nil {
			t.Fatalf("final Drain: %v", err)
		}
	}
	if got := ledger.Totals(); !maps.Equal(got, want) {
		t.Errorf("applied totals = %v, want %v", got, want)
	}
	if n := ledger.Replays(); n != 0 {
		t.Errorf("%d applied batches were offered again with no instance crashing", n)
	}
	for _, p := range ledger.Problems() {
		t.Error(p)
	}
	if calls.Load() < 3 {
		t.Logf("only %d drains ran concurrently with the adds", calls.Load())
	}
}
