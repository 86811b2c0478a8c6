package registry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	blobfs "github.com/dryad-lang/registry/internal/blob/fs"
	"github.com/dryad-lang/registry/internal/cache/memory"
	"github.com/dryad-lang/registry/internal/errs"
	limitmemory "github.com/dryad-lang/registry/internal/ratelimit/memory"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
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

// The database and package storage carry one registry identity, written
// at first; a pair that does not belong together is refused, with what to
// do, before anything reads one against the other.
func TestCheckIdentity(t *testing.T) {
	ctx := context.Background()

	// A new registry labels both.
	f := registrytest.New(t)
	id, err := f.Service.CheckIdentity(ctx)
	dbID, _ := f.Store.RegistryID(ctx)
	blobID, _ := f.Blobs.Identity(ctx)
	if err != nil || len(id) != 32 || dbID != id || blobID != id {
		t.Fatalf("first check: %q, %v; database %q, storage %q", id, err, dbID, blobID)
	}
	if again, err := f.Service.CheckIdentity(ctx); err != nil || again != id {
		t.Errorf("second check: %q, %v", again, err)
	}

	// Another registry's storage.
	g := registrytest.New(t)
	g.Store.InitRegistryID(ctx, "aaaa")
	g.Blobs.InitIdentity(ctx, "bbbb")
	_, err = g.Service.CheckIdentity(ctx)
	checkErr(t, "another registry's storage", err, errs.Conflict, "DATABASE_URL and DATA_DIR")

	// A new database beside a registry's full storage: the SQLite file
	// lost, or DATABASE_URL naming another database.
	h := registrytest.New(t)
	h.Publish(h.SignUp("alice"), pkg("lib", "1.0.0"))
	if _, err := h.Service.CheckIdentity(ctx); err != nil {
		t.Fatal(err)
	}
	fresh := registrytest.New(t, func(o *registry.Options) { o.Blobs = h.Blobs })
	_, err = fresh.Service.CheckIdentity(ctx)
	checkErr(t, "a new database beside full storage", err, errs.Conflict, "new or another registry's database")
	if id, _ := fresh.Store.RegistryID(ctx); id != "" {
		t.Errorf("the refused database was labelled %q", id)
	}

	// Labelled storage without archives is adopted by a new database.
	k := registrytest.New(t)
	k.Blobs.InitIdentity(ctx, "cccc")
	if id, err := k.Service.CheckIdentity(ctx); err != nil || id != "cccc" {
		t.Errorf("adopting empty labelled storage: %q, %v", id, err)
	}
	// A new storage folder beside a labelled database takes its label.
	m := registrytest.New(t)
	m.Store.InitRegistryID(ctx, "dddd")
	if id, err := m.Service.CheckIdentity(ctx); err != nil || id != "dddd" {
		t.Errorf("labelling new storage: %q, %v", id, err)
	}
}

// The sweep refuses to run on a mismatched pair, removes nothing when more
// than a tenth of the archives look unreferenced, and what it removes waits
// in quarantine, from which it can come back, until it is old enough.
func TestSweepIsBoundedAndQuarantines(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t, func(o *registry.Options) { o.OrphanQuarantine = 48 * time.Hour })
	alice := f.SignUp("alice")
	f.Publish(alice, pkg("lib", "1.0.0"))
	var orphans []string
	for i := range 12 {
		orphans = append(orphans, putBlob(t, f.Blobs, fmt.Sprint("left by a crashed publish ", i)))
	}
	for range 2 {
		if _, err := f.Service.SweepOrphanArchives(ctx); err != nil && errs.KindOf(err) != errs.Conflict {
			t.Fatal(err)
		}
	}
	_, err := f.Service.SweepOrphanArchives(ctx)
	checkErr(t, "12 of 13 archives unreferenced", err, errs.Conflict, "sweep --remove")
	if n := f.Archives(); n != 13 {
		t.Fatalf("%d archives left, want all 13", n)
	}

	_, err = f.Service.SweepOrphanArchives(ctx)
	checkErr(t, "the next sweep", err, errs.Conflict, "sweep --remove")

	// Few enough (10 of 11): into quarantine.
	for _, sum := range orphans[10:] {
		f.Blobs.Delete(ctx, sum)
	}
	orphans = orphans[:10]
	if n, err := f.Service.SweepOrphanArchives(ctx); err != nil || n != 10 {
		t.Fatalf("sweep of 10 of 11: %d, %v", n, err)
	}
	if n := f.Archives(); n != 1 {
		t.Errorf("%d archives left, want the published one", n)
	}
	quarantine := filepath.Join(f.Blobs.TempDir(), "..", "quarantine")
	entries, _ := os.ReadDir(quarantine)
	if len(entries) != 10 {
		t.Fatalf("%d archives in quarantine, want 10", len(entries))
	}
	// They come back on the operator's word...
	if n, err := f.Service.RestoreQuarantine(ctx); err != nil || n != 10 {
		t.Fatalf("RestoreQuarantine = %d, %v", n, err)
	}
	if n := f.Archives(); n != 11 {
		t.Errorf("%d archives after the restore, want 11", n)
	}
	// ...and are deleted once kept for OrphanQuarantine.
	for _, sum := range orphans {
		f.Blobs.Quarantine(ctx, sum)
	}
	if n, err := f.Service.PurgeQuarantine(ctx); err != nil || n != 0 {
		t.Errorf("PurgeQuarantine at once = %d, %v", n, err)
	}
	entries, _ = os.ReadDir(quarantine)
	old := f.Clock.Now().Add(-49 * time.Hour)
	for _, e := range entries[:5] {
		os.Chtimes(filepath.Join(quarantine, e.Name()), old, old)
	}
	if n, err := f.Service.PurgeQuarantine(ctx); err != nil || n != 5 {
		t.Errorf("PurgeQuarantine of 5 old ones = %d, %v", n, err)
	}
}

// The operator's sweep lists (and with remove, quarantines) every
// unreferenced archive, past the bound of the automatic one.
func TestUnreferencedArchives(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	f.Publish(f.SignUp("alice"), pkg("lib", "1.0.0"))
	var orphans []string
	for i := range 12 {
		orphans = append(orphans, putBlob(t, f.Blobs, fmt.Sprint("orphan ", i)))
	}
	slices.Sort(orphans)
	got, err := f.Service.UnreferencedArchives(ctx, time.Millisecond, false)
	if err != nil || !slices.Equal(got, orphans) || f.Archives() != 13 {
		t.Fatalf("listing: %v, %v; %d archives", got, err, f.Archives())
	}
	got, err = f.Service.UnreferencedArchives(ctx, time.Millisecond, true)
	if err != nil || !slices.Equal(got, orphans) || f.Archives() != 1 {
		t.Fatalf("removing: %v, %v; %d archives", got, err, f.Archives())
	}
	if _, err := f.Service.LookupArchive(ctx, "lib", "1.0.0"); err != nil {
		t.Errorf("the published archive: %v", err)
	}
}
