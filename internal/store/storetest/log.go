package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
	"github.com/dryad-lang/registry/internal/tlog"
)

// appendLog appends a yank record of pkg@version to the log in tx, as the
// registry does: lock, hash against the stored hashes, append.
func appendLog(tx store.Queries, pkg, version string) (int64, error) {
	r := tlog.Record{Kind: tlog.Yank, Package: pkg, Version: version, Actor: "tester", Time: t0}
	data, err := r.Encode()
	if err != nil {
		return 0, err
	}
	size, err := tx.LockLog(ctx)
	if err != nil {
		return 0, err
	}
	hashes, err := tlog.AppendHashes(size, data, logHashes(tx))
	if err != nil {
		return 0, err
	}
	rec := &store.LogRecord{Index: size, Kind: string(r.Kind), Package: pkg, Subject: version, Data: data}
	return size, tx.AppendLog(ctx, rec, tlog.FirstHashIndex(size), tlog.Bytes(hashes))
}

// logHashes reads the stored hashes of the log in q.
func logHashes(q store.Queries) tlog.HashReader {
	return tlog.StoredHashes(func(indexes []int64) ([][]byte, error) { return q.LogHashes(ctx, indexes) })
}

// CheckLog checks that the log in q is one consistent tree of want records:
// indexes without gaps, and stored hashes equal to those recomputed from
// the records.
func CheckLog(t *testing.T, q store.Queries, want int64) {
	t.Helper()
	size, err := q.LogSize(ctx)
	must(t, err)
	if size != want {
		t.Fatalf("log size %d, want %d", size, want)
	}
	recs, err := q.LogRecords(ctx, 0, size)
	must(t, err)
	var data [][]byte
	for i, r := range recs {
		if r.Index != int64(i) {
			t.Fatalf("record %d has index %d", i, r.Index)
		}
		data = append(data, r.Data)
	}
	mem, err := tlog.Build(data)
	must(t, err)
	stored, err := logHashes(q).ReadHashes(indexes(int64(len(mem))))
	must(t, err)
	if !slices.Equal(stored, mem) {
		t.Fatal("stored hashes differ from those of the records")
	}
	if _, err := q.LogHashes(ctx, []int64{int64(len(mem))}); !errors.Is(err, errs.NotFound) {
		t.Fatalf("hash past the tree: %v, want NotFound", err)
	}
}

func indexes(n int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i)
	}
	return out
}

func testLog(t *testing.T, s store.Store) {
	CheckLog(t, s, 0)
	for i := range 3 {
		var n int64
		must(t, s.Transact(ctx, func(tx store.Queries) (err error) {
			n, err = appendLog(tx, "left-pad", fmt.Sprintf("1.0.%d", i))
			return err
		}))
		if n != int64(i) {
			t.Fatalf("record %d appended at %d", i, n)
		}
	}
	CheckLog(t, s, 3)
	got, err := s.FindLogRecords(ctx, "left-pad", "1.0.1")
	must(t, err)
	if len(got) != 1 || got[0].Index != 1 || got[0].Kind != "yank" || string(got[0].Data) != "yank left-pad 1.0.1 tester 2026-03-14T15:09:26.535897Z\n" {
		t.Errorf("FindLogRecords = %+v", got)
	}
	if got, err := s.FindLogRecords(ctx, "left-pad", "9.9.9"); err != nil || len(got) != 0 {
		t.Errorf("FindLogRecords of nothing = %v, %v", got, err)
	}
	// An append that does not follow the size it locked is refused, and a
	// failed transaction leaves no record behind.
	err = s.Transact(ctx, func(tx store.Queries) error {
		return tx.AppendLog(ctx, &store.LogRecord{Index: 7, Kind: "yank", Package: "x", Subject: "1.0.0", Data: []byte("x\n")}, 99, nil)
	})
	wantKind(t, err, errs.Conflict)
	err = s.Transact(ctx, func(tx store.Queries) error {
		if _, err := appendLog(tx, "left-pad", "2.0.0"); err != nil {
			return err
		}
		return errs.New(errs.Invalid, "changed my mind")
	})
	wantKind(t, err, errs.Invalid)
	CheckLog(t, s, 3)
}

// AppendConcurrently appends n records to the log from each of the
// stores (which may be handles on one database), all at once.
func AppendConcurrently(t *testing.T, n int, stores ...store.Store) {
	t.Helper()
	var wg sync.WaitGroup
	errc := make(chan error, n*len(stores))
	for si, s := range stores {
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errc <- s.Transact(ctx, func(tx store.Queries) error {
					_, err := appendLog(tx, "race", fmt.Sprintf("%d.0.%d", si, i))
					return err
				})
			}()
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Error(err)
		}
	}
}

// LogAcrossHandles checks that handles on one database (instances of the
// registry; open returns a new one each call) appending at once give one
// log without gaps or forks.
func LogAcrossHandles(t *testing.T, open func(t *testing.T) store.Store) {
	a, b := open(t), open(t)
	AppendConcurrently(t, 12, a, b)
	CheckLog(t, b, 24)
}

func testConcurrentLog(t *testing.T, s store.Store) {
	AppendConcurrently(t, 12, s, s)
	CheckLog(t, s, 24)
}
