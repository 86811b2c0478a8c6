package cache

import (
	"context"
	"errors"
)

// ResilientCounters is a Counters over a backend that may fail: while it is
// down, Add goes to an in-process fallback so that no download is lost, and
// Drain drains both.
//
// An Add whose reply is lost (a timeout after the backend applied it) is
// counted again by the fallback: for download counts, counting one twice is
// better than losing it.
type ResilientCounters struct {
	primary, fallback Counters
	health            *Health
}

var _ Counters = (*ResilientCounters)(nil)

// NewResilientCounters wraps primary, whose backend's state is tracked by h;
// fallback (an in-process Counters) takes the counts primary cannot.
func NewResilientCounters(primary, fallback Counters, h *Health) *ResilientCounters {
	return &ResilientCounters{primary: primary, fallback: fallback, health: h}
}

// Add adds n to key in the backend, or in the fallback when it fails.
func (r *ResilientCounters) Add(ctx context.Context, key string, n int64) error {
	if r.health.usable() {
		err := r.primary.Add(ctx, key, n)
		r.health.report(ctx, err)
		if err == nil {
			return nil
		}
	}
	return r.fallback.Add(ctx, key, n)
}

// Drain drains the fallback, then the backend if it can be used. An error of
// fn is returned; a backend failure only marks the backend down, leaving its
// batches for a later Drain.
func (r *ResilientCounters) Drain(ctx context.Context, fn func(batchID string, counts map[string]int64) error) error {
	if err := r.fallback.Drain(ctx, fn); err != nil {
		return err
	}
	if !r.health.usable() {
		return nil
	}
	var fnErr error
	err := r.primary.Drain(ctx, func(id string, counts map[string]int64) error {
		fnErr = fn(id, counts)
		return fnErr
	})
	if fnErr != nil && errors.Is(err, fnErr) || err != nil && ctx.Err() != nil {
		return err
	}
	r.health.report(ctx, err)
	return nil
}
