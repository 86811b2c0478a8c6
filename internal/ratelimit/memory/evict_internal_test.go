package memory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/ratelimit"
)

func (l *Limiter) keys() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.tat)
		s.mu.Unlock()
	}
	return n
}

// A client rotating keys must not grow memory without bound.
func TestKeysAreBounded(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		idle bool // the rotated keys' buckets are full again by the next one
	}{
		{"busy keys", false},
		{"idle keys", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Unix(1_700_000_000, 0)
			l := New(Options{MaxKeys: 1024, Now: func() time.Time { return now }})
			lim := ratelimit.Limit{Rate: 1, Burst: 3}
			for i := range 100_000 {
				if tt.idle {
					now = now.Add(3 * time.Second)
				}
				if r, err := l.Allow(ctx, fmt.Sprintf("attacker-%d", i), lim); err != nil || !r.Allowed {
					t.Fatalf("Allow = %+v, %v", r, err)
				}
			}
			if n := l.keys(); n > 1024 {
				t.Errorf("%d keys tracked, want at most MaxKeys (1024)", n)
			}
		})
	}
}

// Idle buckets are dropped before any that still limits someone.
func TestEvictionDropsIdleKeysFirst(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	l := New(Options{MaxKeys: 64 * shards, Now: func() time.Time { return now }})
	slow := ratelimit.Limit{Rate: 1.0 / 3600, Burst: 1}
	l.Allow(ctx, "victim", slow)
	fast := ratelimit.Limit{Rate: 1000, Burst: 1}
	for i := range 50_000 {
		now = now.Add(2 * time.Millisecond) // each key is idle before the next
		l.Allow(ctx, fmt.Sprintf("k%d", i), fast)
	}
	if r, _ := l.Peek(ctx, "victim", slow); r.Allowed {
		t.Error("a limited key was forgotten while idle keys could have gone")
	}
}
