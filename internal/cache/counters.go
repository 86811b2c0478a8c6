package cache

import "context"

// Counters buffers additions to named counters (downloads per version) so
// that the database is written once per batch rather than once per event.
type Counters interface {
	// Add adds n to the counter key. It is on the download path and cheap.
	Add(ctx context.Context, key string, n int64) error

	// Drain hands the counts accumulated so far to fn in one or more batches,
	// each with a batchID, and forgets a batch only once fn returned nil for it.
	//
	// fn must apply a batch atomically and record its batchID so that a batch
	// offered twice is applied once: a batch whose fn failed, or whose drainer
	// stopped before forgetting it, is offered again with the same batchID and
	// the same counts. Counts added meanwhile go into a later batch. Drain
	// stops at the first error and returns it; fn is not called when there is
	// nothing to drain.
	Drain(ctx context.Context, fn func(batchID string, counts map[string]int64) error) error
}
