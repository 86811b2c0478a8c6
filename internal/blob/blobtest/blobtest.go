// Package blobtest is the conformance suite every blob store runs.
package blobtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/blob"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/testenv"
)

// Run runs the suite; open returns a new, empty store.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	ctx := context.Background()
	put := func(t *testing.T, s blob.Store, data string) string {
		t.Helper()
		w, err := s.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Cancel()
		if _, err := io.WriteString(w, data); err != nil {
			t.Fatal(err)
		}
		sum, err := w.Commit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	hexSum := func(data string) string {
		h := sha256.Sum256([]byte(data))
		return hex.EncodeToString(h[:])
	}

	t.Run("WriteReadStat", func(t *testing.T) {
		s := open(t)
		data := strings.Repeat("dryad ", 100000)
		sum := put(t, s, data)
		if sum != hexSum(data) {
			t.Fatalf("sum = %s, want %s", sum, hexSum(data))
		}
		size, err := s.Stat(ctx, sum)
		if err != nil || size != int64(len(data)) {
			t.Fatalf("Stat = %d, %v", size, err)
		}
		f, err := s.Open(ctx, sum)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if f.Size() != int64(len(data)) {
			t.Errorf("Size = %d", f.Size())
		}
		got, _ := io.ReadAll(f)
		if string(got) != data {
			t.Error("content differs")
		}
		buf := make([]byte, 5)
		if _, err := f.ReadAt(buf, 6); err != nil || string(buf) != "dryad" {
			t.Errorf("ReadAt = %q, %v", buf, err)
		}
	})
	t.Run("SeekAndReadAt", func(t *testing.T) {
		// What http.ServeContent does for a Range request, and what the
		// archive readers do with ReadAt.
		s := open(t)
		data := strings.Repeat("0123456789", 30000)
		sum := put(t, s, data)
		f, err := s.Open(ctx, sum)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if end, err := f.Seek(0, io.SeekEnd); err != nil || end != int64(len(data)) {
			t.Errorf("Seek(0, End) = %d, %v", end, err)
		}
		if n, err := f.Read(make([]byte, 10)); n != 0 || err != io.EOF {
			t.Errorf("Read at the end = %d, %v; want 0, EOF", n, err)
		}
		if _, err := f.Seek(123457, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1000)
		if _, err := io.ReadFull(f, buf); err != nil || string(buf) != data[123457:124457] {
			t.Errorf("read after Seek: %v", err)
		}
		if pos, _ := f.Seek(-457, io.SeekCurrent); pos != 124000 {
			t.Errorf("Seek(-457, Current) = %d", pos)
		}
		if n, err := f.ReadAt(buf[:10], int64(len(data)-4)); n != 4 || err != io.EOF || string(buf[:4]) != "6789" {
			t.Errorf("ReadAt over the end = %d, %v; want 4, EOF", n, err)
		}
		if n, err := f.ReadAt(buf[:10], int64(len(data))); n != 0 || err != io.EOF {
			t.Errorf("ReadAt at the end = %d, %v; want 0, EOF", n, err)
		}
		f.Seek(0, io.SeekStart)
		if all, err := io.ReadAll(f); err != nil || string(all) != data {
			t.Errorf("ReadAll after rewinding: %d bytes, %v", len(all), err)
		}
	})
	t.Run("CommitOnce", func(t *testing.T) {
		s := open(t)
		w, err := s.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, "once")
		sum, err := w.Commit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Commit(ctx); err == nil {
			t.Error("a second Commit succeeded")
		}
		if err := w.Cancel(); err != nil {
			t.Errorf("Cancel after Commit = %v", err)
		}
		if size, err := s.Stat(ctx, sum); err != nil || size != 4 {
			t.Errorf("Stat after Cancel = %d, %v", size, err)
		}
	})
	t.Run("MissingAndInvalid", func(t *testing.T) {
		s := open(t)
		for _, sum := range []string{hexSum("absent"), "../../etc/passwd", "ABC", ""} {
			if _, err := s.Open(ctx, sum); !errors.Is(err, errs.NotFound) {
				t.Errorf("Open(%q) = %v, want NotFound", sum, err)
			}
			if _, err := s.Stat(ctx, sum); !errors.Is(err, errs.NotFound) {
				t.Errorf("Stat(%q) = %v, want NotFound", sum, err)
			}
			if err := s.Delete(ctx, sum); err != nil {
				t.Errorf("Delete(%q) = %v", sum, err)
			}
		}
	})
	t.Run("CancelLeavesNothing", func(t *testing.T) {
		s := open(t)
		w, err := s.Create(ctx)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, "half")
		sum := w.Sum()
		if err := w.Cancel(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stat(ctx, sum); !errors.Is(err, errs.NotFound) {
			t.Errorf("cancelled blob visible: %v", err)
		}
		n := 0
		s.Walk(ctx, func(string, int64) error { n++; return nil })
		if n != 0 {
			t.Errorf("Walk found %d blobs", n)
		}
	})
	t.Run("DuplicateCommitAndDelete", func(t *testing.T) {
		s := open(t)
		a := put(t, s, "same")
		b := put(t, s, "same")
		c := put(t, s, "other")
		if a != b {
			t.Fatal("same bytes, different sums")
		}
		seen := map[string]int64{}
		if err := s.Walk(ctx, func(sum string, size int64) error { seen[sum] = size; return nil }); err != nil {
			t.Fatal(err)
		}
		if len(seen) != 2 || seen[a] != 4 || seen[c] != 5 {
			t.Errorf("Walk = %v", seen)
		}
		if err := s.Delete(ctx, a); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Open(ctx, a); !errors.Is(err, errs.NotFound) {
			t.Errorf("deleted blob opens: %v", err)
		}
	})
	t.Run("ConcurrentWriters", func(t *testing.T) {
		s := open(t)
		var wg sync.WaitGroup
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				put(t, s, strings.Repeat("x", i%4)+"payload")
			}(i)
		}
		wg.Wait()
		n := 0
		s.Walk(ctx, func(string, int64) error { n++; return nil })
		if n != 4 {
			t.Errorf("%d blobs, want 4", n)
		}
	})
	t.Run("Check", func(t *testing.T) {
		if err := open(t).Check(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("Quarantine", func(t *testing.T) {
		s := open(t)
		a, b := put(t, s, "kept"), put(t, s, "quarantined")
		if err := s.Quarantine(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := s.Quarantine(ctx, hexSum("never stored")); err != nil {
			t.Errorf("Quarantine of an absent blob = %v", err)
		}
		if _, err := s.Open(ctx, b); !errors.Is(err, errs.NotFound) {
			t.Errorf("a quarantined blob opens: %v", err)
		}
		n := 0
		s.Walk(ctx, func(string, int64) error { n++; return nil })
		if n != 1 {
			t.Errorf("Walk finds %d blobs beside the quarantine, want 1", n)
		}
		// Purging what was quarantined before a past instant keeps it.
		if n, err := s.PurgeQuarantine(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
			t.Errorf("PurgeQuarantine(an hour ago) = %d, %v", n, err)
		}
		if n, err := s.RestoreQuarantine(ctx); err != nil || n != 1 {
			t.Fatalf("RestoreQuarantine = %d, %v", n, err)
		}
		for _, sum := range []string{a, b} {
			if f, err := s.Open(ctx, sum); err != nil {
				t.Errorf("Open(%s) after the restore: %v", sum, err)
			} else {
				f.Close()
			}
		}
		s.Quarantine(ctx, b)
		if n, err := s.PurgeQuarantine(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
			t.Errorf("PurgeQuarantine(now) = %d, %v", n, err)
		}
		if n, err := s.RestoreQuarantine(ctx); err != nil || n != 0 {
			t.Errorf("RestoreQuarantine after the purge = %d, %v", n, err)
		}
	})
	t.Run("Identity", func(t *testing.T) {
		s := open(t)
		if id, err := s.Identity(ctx); err != nil || id != "" {
			t.Fatalf("Identity of a new store = %q, %v", id, err)
		}
		testenv.FirstInitWins(t, func(v string) (string, error) { return s.InitIdentity(ctx, v) },
			func() (string, error) { return s.Identity(ctx) })
	})
}
