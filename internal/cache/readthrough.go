package cache

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
)

// Codec turns the values of one kind of cached read into bytes and back.
type Codec[T any] struct {
	Encode func(T) ([]byte, error)
	Decode func([]byte) (T, error)
}

// JSON is the Codec of encoding/json.
func JSON[T any]() Codec[T] {
	return Codec[T]{
		Encode: func(v T) ([]byte, error) { return json.Marshal(v) },
		Decode: func(b []byte) (T, error) {
			var v T
			err := json.Unmarshal(b, &v)
			return v, err
		},
	}
}

// ReadThrough is one kind of cached read: what it is called in keys, how
// long a value lives, how it is encoded, and which refusals are cached as
// well. Every cached read of the registry is one of these, so all of them
// share one set of rules: a cache that fails or holds a value it cannot
// decode is a miss, never an error.
type ReadThrough[T any] struct {
	Cache Cache
	// Name prefixes the keys of this kind of value; one per kind.
	Name string
	// TTL bounds how long a value lives without an invalidation.
	TTL time.Duration
	// Codec encodes values; JSON when its functions are nil.
	Codec Codec[T]
	// RefusalTTL, when set, also caches the NotFound and Gone errors of
	// the load for that long: repeated requests for what does not exist
	// (a typo in a loop, a scanner) then do not each reach the database.
	RefusalTTL time.Duration
	// Observe, when set, is told whether each read was served from the
	// cache.
	Observe func(hit bool)
}

// Entries start with a tag byte: a value, or a cached refusal holding the
// error's kind and message.
const (
	tagValue   = 'v'
	tagRefusal = 'e'
)

// Get returns the value cached under key, or loads it, caches it and
// returns it.
func (r ReadThrough[T]) Get(ctx context.Context, key string, load func(context.Context) (T, error)) (T, error) {
	codec := r.Codec
	if codec.Encode == nil {
		codec = JSON[T]()
	}
	full := "rt:" + r.Name + ":" + key
	if b, ok, _ := r.Cache.Get(ctx, full); ok && len(b) > 0 {
		switch b[0] {
		case tagValue:
			if v, err := codec.Decode(b[1:]); err == nil {
				r.observe(true)
				return v, nil
			}
		case tagRefusal:
			if err, ok := decodeRefusal(b[1:]); ok {
				r.observe(true)
				var zero T
				return zero, err
			}
		}
	}
	r.observe(false)
	v, err := load(ctx)
	if err != nil {
		if b, ok := r.encodeRefusal(err); ok {
			r.Cache.Set(ctx, full, b, r.RefusalTTL)
		}
		return v, err
	}
	if b, err := codec.Encode(v); err == nil {
		r.Cache.Set(ctx, full, append([]byte{tagValue}, b...), r.TTL)
	}
	return v, nil
}

func (r ReadThrough[T]) observe(hit bool) {
	if r.Observe != nil {
		r.Observe(hit)
	}
}

func (r ReadThrough[T]) encodeRefusal(err error) ([]byte, bool) {
	k := errs.KindOf(err)
	if r.RefusalTTL <= 0 || (k != errs.NotFound && k != errs.Gone) {
		return nil, false
	}
	return append([]byte{tagRefusal}, strconv.Itoa(int(k))+" "+errs.Message(err)...), true
}

func decodeRefusal(b []byte) (error, bool) {
	kind, msg, ok := strings.Cut(string(b), " ")
	k, err := strconv.Atoi(kind)
	if !ok || err != nil || (errs.Kind(k) != errs.NotFound && errs.Kind(k) != errs.Gone) {
		return nil, false
	}
	return errs.New(errs.Kind(k), msg), true
}

// Generations scope cached values. Every key in a scope (a package, say)
// includes the scope's generation, a random token kept in the cache; a
// change to what the scope covers deletes the generation, the next reader
// draws a new one, and every entry of the old one is orphaned at once (they
// expire on their own). Unlike deleting the entries, this cannot be undone
// by a reader that loaded the old state just before the change and stores
// it just after: it stores it under the old generation, which nobody reads
// again.
type Generations struct {
	Cache Cache
	// TTL bounds a generation's life; a scope nobody changes still gets
	// fresh entries that often.
	TTL time.Duration
}

// Key returns scope + "@" + the scope's current generation, the prefix of
// every key of the scope.
func (g Generations) Key(ctx context.Context, scope string) string {
	key := "gen:" + scope
	if b, ok, _ := g.Cache.Get(ctx, key); ok && len(b) > 0 {
		return scope + "@" + string(b)
	}
	var r [6]byte
	rand.Read(r[:])
	gen := hex.EncodeToString(r[:])
	g.Cache.Set(ctx, key, []byte(gen), g.TTL)
	return scope + "@" + gen
}

// Invalidate orphans every entry of the scope, on every instance sharing
// the cache. It deletes the generation rather than setting a new one:
// while a shared backend is unreachable the resilient cache keeps a Delete
// and delivers it before using the backend again, whereas a Set would be
// lost and the old generation, back with the backend, would serve the
// state before the change. An in-process cache (a Pruner) also frees the
// orphaned entries at once.
func (g Generations) Invalidate(ctx context.Context, scope string) error {
	ctx = context.WithoutCancel(ctx)
	key := "gen:" + scope
	var old []byte
	if _, ok := g.Cache.(Pruner); ok {
		old, _, _ = g.Cache.Get(ctx, key)
		old = bytes.Clone(old)
	}
	if err := g.Cache.Delete(ctx, key); err != nil {
		return err
	}
	if len(old) > 0 {
		// Every key of a generation holds ":" + scope + "@" + generation
		// (ReadThrough prefixes "rt:" + Name + ":"); the generation is random,
		// so no other scope's key does.
		g.Cache.(Pruner).DeleteContaining(ctx, ":"+scope+"@"+string(old))
	}
	return nil
}
