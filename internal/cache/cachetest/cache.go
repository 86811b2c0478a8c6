package cachetest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/cache"
)

func runCache(t *testing.T, newDriver func(t *testing.T) Driver) {
	ctx := context.Background()

	t.Run("GetMissing", func(t *testing.T) {
		c := newDriver(t).Cache
		wantMiss(t, c, "nothing-here")
	})

	t.Run("SetGet", func(t *testing.T) {
		tests := []struct {
			name  string
			value []byte
		}{
			{"empty", []byte{}},
			{"text", []byte(`{"name":"oak","versions":["1.0.0"]}`)},
			{"binary", []byte{0, 1, 2, 0xff, 0, '\n', 0}},
			{"large", bytes.Repeat([]byte("0123456789abcdef"), 16<<10)}, // 256 KiB
		}
		c := newDriver(t).Cache
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := c.Set(ctx, tt.name, tt.value, time.Hour); err != nil {
					t.Fatalf("Set: %v", err)
				}
				wantValue(t, c, tt.name, tt.value)
			})
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		c := newDriver(t).Cache
		mustSet(t, c, "k", "first", time.Hour)
		mustSet(t, c, "k", "second", time.Hour)
		wantValue(t, c, "k", []byte("second"))
	})

	t.Run("SetDoesNotRetainValue", func(t *testing.T) {
		c := newDriver(t).Cache
		buf := []byte("original")
		if err := c.Set(ctx, "k", buf, time.Hour); err != nil {
			t.Fatalf("Set: %v", err)
		}
		copy(buf, "CHANGED!")
		wantValue(t, c, "k", []byte("original"))
	})

	t.Run("KeysAreDistinct", func(t *testing.T) {
		c := newDriver(t).Cache
		keys := []string{"a", "A", "a ", "pkg/oak", "pkg:oak", "héllo", ""}
		for _, k := range keys {
			mustSet(t, c, k, "v:"+k, time.Hour)
		}
		for _, k := range keys {
			wantValue(t, c, k, []byte("v:"+k))
		}
	})

	t.Run("Delete", func(t *testing.T) {
		tests := []struct {
			name    string
			delete  []string
			gone    []string
			present []string
		}{
			{"one", []string{"a"}, []string{"a"}, []string{"b", "c"}},
			{"several", []string{"a", "c"}, []string{"a", "c"}, []string{"b"}},
			{"missing keys too", []string{"a", "nope"}, []string{"a"}, []string{"b", "c"}},
			{"none", nil, nil, []string{"a", "b", "c"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := newDriver(t).Cache
				for _, k := range []string{"a", "b", "c"} {
					mustSet(t, c, k, k, time.Hour)
				}
				if err := c.Delete(ctx, tt.delete...); err != nil {
					t.Fatalf("Delete: %v", err)
				}
				for _, k := range tt.gone {
					wantMiss(t, c, k)
				}
				for _, k := range tt.present {
					wantValue(t, c, k, []byte(k))
				}
			})
		}
	})

	t.Run("TTLExpires", func(t *testing.T) {
		d := newDriver(t)
		mustSet(t, d.Cache, "short", "v", 50*time.Millisecond)
		mustSet(t, d.Cache, "long", "v", time.Hour)
		mustSet(t, d.Cache, "forever", "v", 0)
		wantValue(t, d.Cache, "short", []byte("v"))
		d.wait(150 * time.Millisecond)
		wantMiss(t, d.Cache, "short")
		wantValue(t, d.Cache, "long", []byte("v"))
		wantValue(t, d.Cache, "forever", []byte("v"))
	})

	t.Run("SetRenewsTTL", func(t *testing.T) {
		d := newDriver(t)
		mustSet(t, d.Cache, "k", "old", 50*time.Millisecond)
		mustSet(t, d.Cache, "k", "new", time.Hour)
		d.wait(150 * time.Millisecond)
		wantValue(t, d.Cache, "k", []byte("new"))
	})

	t.Run("Concurrent", func(t *testing.T) {
		c := newDriver(t).Cache
		var wg sync.WaitGroup
		errc := make(chan error, 1)
		report := func(err error) {
			select {
			case errc <- err:
			default:
			}
		}
		for g := range 8 {
			wg.Go(func() {
				for i := range 200 {
					key := fmt.Sprintf("k%d", i%5)
					want := "value of " + key
					var err error
					switch (g + i) % 4 {
					case 0:
						err = c.Set(ctx, key, []byte(want), time.Hour)
					case 3:
						err = c.Delete(ctx, key)
					default:
						v, ok, gerr := c.Get(ctx, key)
						if err = gerr; ok && string(v) != want {
							err = fmt.Errorf("Get(%s) = %q, want %q", key, v, want)
						}
					}
					if err != nil {
						report(err)
						return
					}
				}
			})
		}
		wg.Wait()
		select {
		case err := <-errc:
			t.Fatal(err)
		default:
		}
	})

	t.Run("Flush", func(t *testing.T) {
		c := newDriver(t).Cache
		f, ok := c.(cache.Flusher)
		if !ok {
			t.Skip("the driver does not implement cache.Flusher")
		}
		mustSet(t, c, "a", "a", time.Hour)
		mustSet(t, c, "b", "b", 0)
		if err := f.Flush(ctx); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		wantMiss(t, c, "a")
		wantMiss(t, c, "b")
		mustSet(t, c, "a", "again", time.Hour)
		wantValue(t, c, "a", []byte("again"))
	})

	t.Run("DeleteIsSeenByEveryInstance", func(t *testing.T) {
		a := newDriver(t)
		b := sibling(t, a)
		mustSet(t, a.Cache, "pkg", "v1", time.Hour)
		wantValue(t, b.Cache, "pkg", []byte("v1"))
		if err := b.Cache.Delete(ctx, "pkg"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		wantMiss(t, a.Cache, "pkg")
		mustSet(t, b.Cache, "pkg", "v2", time.Hour)
		wantValue(t, a.Cache, "pkg", []byte("v2"))
	})
}

func mustSet(t *testing.T, c cache.Cache, key, value string, ttl time.Duration) {
	t.Helper()
	if err := c.Set(context.Background(), key, []byte(value), ttl); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func wantValue(t *testing.T, c cache.Cache, key string, want []byte) {
	t.Helper()
	got, ok, err := c.Get(context.Background(), key)
	if err != nil || !ok || !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %.40q, %v, %v; want %.40q, true, nil", key, got, ok, err, want)
	}
}

func wantMiss(t *testing.T, c cache.Cache, key string) {
	t.Helper()
	got, ok, err := c.Get(context.Background(), key)
	if err != nil || ok {
		t.Fatalf("Get(%q) = %.40q, %v, %v; want a miss", key, got, ok, err)
	}
}
