package cache_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/cache"
	"github.com/dryad-lang/registry/internal/cache/memory"
	"github.com/dryad-lang/registry/internal/errs"
)

type doc struct{ Name string }

func TestReadThrough(t *testing.T) {
	ctx := context.Background()
	c := memory.NewCache(memory.CacheOptions{})
	hits := 0
	rt := cache.ReadThrough[doc]{Cache: c, Name: "doc", TTL: time.Hour, RefusalTTL: time.Minute, Observe: func(hit bool) {
		if hit {
			hits++
		}
	}}
	loads := 0
	load := func(v doc, err error) func(context.Context) (doc, error) {
		return func(context.Context) (doc, error) { loads++; return v, err }
	}

	for i := range 3 {
		got, err := rt.Get(ctx, "a", load(doc{"a"}, nil))
		if err != nil || got.Name != "a" {
			t.Fatalf("read %d: %v, %v", i, got, err)
		}
	}
	if loads != 1 || hits != 2 {
		t.Errorf("3 reads: %d loads, %d hits; want 1 and 2", loads, hits)
	}

	// Refusals: NotFound and Gone are cached with their message, other
	// errors never.
	for _, tc := range []struct {
		key   string
		err   error
		loads int
	}{
		{"missing", errs.New(errs.NotFound, `package "missing" not found`), 1},
		{"deleted", errs.New(errs.Gone, `package "deleted" was deleted`), 1},
		{"broken", errors.New("database down"), 2},
		{"busy", errs.New(errs.Unavailable, "try later"), 2},
	} {
		loads = 0
		for range 2 {
			_, err := rt.Get(ctx, tc.key, load(doc{}, tc.err))
			if errs.KindOf(err) != errs.KindOf(tc.err) || errs.Message(err) != errs.Message(tc.err) {
				t.Errorf("%s: %v, want %v", tc.key, err, tc.err)
			}
		}
		if loads != tc.loads {
			t.Errorf("%s: loaded %d times, want %d", tc.key, loads, tc.loads)
		}
	}

	// An entry that does not decode is a miss, and is replaced.
	c.Set(ctx, "rt:doc:junk", []byte("v{not json"), time.Hour)
	loads = 0
	if got, err := rt.Get(ctx, "junk", load(doc{"fresh"}, nil)); err != nil || got.Name != "fresh" || loads != 1 {
		t.Errorf("undecodable entry: %v %v after %d loads", got, err, loads)
	}
	// Without RefusalTTL nothing is refused from the cache.
	plain := cache.ReadThrough[doc]{Cache: c, Name: "plain", TTL: time.Hour}
	loads = 0
	for range 2 {
		plain.Get(ctx, "x", load(doc{}, errs.New(errs.NotFound, "no")))
	}
	if loads != 2 {
		t.Errorf("refusals cached without RefusalTTL: %d loads", loads)
	}
}

func TestGenerations(t *testing.T) {
	ctx := context.Background()
	c := memory.NewCache(memory.CacheOptions{})
	g := cache.Generations{Cache: c, TTL: time.Hour}
	rt := cache.ReadThrough[int]{Cache: c, Name: "n", TTL: time.Hour}
	n := 0
	read := func() int {
		v, _ := rt.Get(ctx, g.Key(ctx, "pkg:a"), func(context.Context) (int, error) { n++; return n, nil })
		return v
	}
	if read() != 1 || read() != 1 {
		t.Fatal("a generation's value is not kept")
	}
	other, _ := rt.Get(ctx, g.Key(ctx, "pkg:ab"), func(context.Context) (int, error) { return 99, nil })
	k1 := g.Key(ctx, "pkg:a")
	if _, ok, _ := c.Get(ctx, "rt:n:"+k1); !ok {
		t.Fatalf("no entry under %s", k1)
	}
	if err := g.Invalidate(ctx, "pkg:a"); err != nil {
		t.Fatal(err)
	}
	// The in-process cache frees the orphaned entries at once, and only
	// those.
	if _, ok, _ := c.Get(ctx, "rt:n:"+k1); ok {
		t.Errorf("the orphaned entry under %s is still held", k1)
	}
	if v, _ := rt.Get(ctx, g.Key(ctx, "pkg:ab"), func(context.Context) (int, error) { return 0, nil }); v != other {
		t.Errorf("another scope's entry was dropped: %d", v)
	}
	if k2 := g.Key(ctx, "pkg:a"); k2 == k1 {
		t.Errorf("the generation did not change: %s", k2)
	}
	if v := read(); v != 2 {
		t.Errorf("after Invalidate the read gave %d, want a fresh load", v)
	}
	if g.Key(ctx, "pkg:b") == g.Key(ctx, "pkg:a") {
		t.Error("two scopes share a generation")
	}
}
