package cachetest

import (
	"fmt"
	"maps"
	"sync"
)

// Ledger stands in for the database that a Drain callback writes to: like
// the registry's store, it applies each batch in one step and recognises a
// batch ID it has already applied, so a batch offered twice counts once.
type Ledger struct {
	mu       sync.Mutex
	totals   map[string]int64
	applied  map[string]map[string]int64
	replays  int
	problems []string
}

// NewLedger returns an empty Ledger.
func NewLedger() *Ledger {
	return &Ledger{totals: make(map[string]int64), applied: make(map[string]map[string]int64)}
}

// Apply is a Drain callback: it adds counts to the totals unless batchID was
// applied before.
func (l *Ledger) Apply(batchID string, counts map[string]int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, ok := l.applied[batchID]; ok {
		l.replays++
		if !maps.Equal(prev, counts) {
			l.problems = append(l.problems, fmt.Sprintf("batch %s offered again with other counts: %v, then %v", batchID, prev, counts))
		}
		return nil
	}
	if len(counts) == 0 {
		l.problems = append(l.problems, fmt.Sprintf("batch %s is empty", batchID))
	}
	l.applied[batchID] = maps.Clone(counts)
	for k, n := range counts {
		l.totals[k] += n
	}
	return nil
}

// Totals returns the sum of every applied batch.
func (l *Ledger) Totals() map[string]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.totals)
}

// Replays is how many times an already applied batch was offered again.
func (l *Ledger) Replays() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.replays
}

// Problems lists broken promises seen: a batch ID reused for other counts,
// or an empty batch.
func (l *Ledger) Problems() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.problems...)
}
