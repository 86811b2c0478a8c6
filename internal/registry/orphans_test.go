package registry_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	blobfs "github.com/dryad-lang/registry/internal/blob/fs"
	"github.com/dryad-lang/registry/internal/cache/memory"
	"github.com/dryad-lang/registry/internal/errs"
	limitmemory "github.com/dryad-lang/registry/internal/ratelimit/memory"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/store"
	"github.com/dryad-lang/registry/internal/store/sqlite"
)

func newService(t *testing.T) (*registry.Service, *blobfs.Store, store.Store) {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	blobs, err := blobfs.Open(filepath.Join(dir, "packages"))
	if err != nil {
		t.Fatal(err)
	}
	hasher, _ := auth.NewHasher(4)
	signer, _ := auth.NewSigner([]byte("test-secret-0123456789abcdef"), time.Hour)
	s, err := registry.New(registry.Options{
		Store: st, Blobs: blobs, Cache: memory.NewCache(memory.CacheOptions{}), Counters: memory.NewCounters(),
		Locker: memory.NewLocker(nil), Limiter: limitmemory.New(limitmemory.Options{}), Hasher: hasher, Signer: signer,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, blobs, st
}

func putBlob(t *testing.T, b *blobfs.Store, data string) string {
	t.Helper()
	w, err := b.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Cancel()
	io.WriteString(w, data)
	sum, err := w.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestSweepOrphanArchives removes an unreferenced archive only at the second
// sweep that finds it, and never one a version refers to.
func TestSweepOrphanArchives(t *testing.T) {
	ctx := context.Background()
	s, blobs, st := newService(t)
	u := &store.User{Username: "u", Email: "u@example.org", PasswordHash: "x"}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	p := &store.Package{Name: "p", NormalizedName: "p"}
	if err := st.CreatePackage(ctx, p); err != nil {
		t.Fatal(err)
	}
	kept := putBlob(t, blobs, "referenced")
	if err := st.CreateVersion(ctx, &store.Version{PackageID: p.ID, Version: "1.0.0", Key: "1.0.0", Manifest: []byte("{}"), Checksum: kept, PublisherID: u.ID}); err != nil {
		t.Fatal(err)
	}
	orphan := putBlob(t, blobs, "orphan")

	if n, err := s.SweepOrphanArchives(ctx); err != nil || n != 0 {
		t.Fatalf("first sweep removed %d (%v); it must only mark", n, err)
	}
	// Between sweeps a late publish may adopt a marked archive.
	late := putBlob(t, blobs, "adopted later")
	if _, err := s.SweepOrphanArchives(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := blobs.Stat(ctx, orphan); !errors.Is(err, errs.NotFound) {
		t.Errorf("orphan still stored after two sweeps: %v", err)
	}
	if err := st.CreateVersion(ctx, &store.Version{PackageID: p.ID, Version: "1.1.0", Key: "1.1.0", Manifest: []byte("{}"), Checksum: late, PublisherID: u.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SweepOrphanArchives(ctx); err != nil {
		t.Fatal(err)
	}
	for _, sum := range []string{kept, late} {
		if _, err := blobs.Stat(ctx, sum); err != nil {
			t.Errorf("referenced archive %s removed: %v", sum[:8], err)
		}
	}
}
