package registry_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	cachememory "github.com/dryad-lang/registry/internal/cache/memory"
	"github.com/dryad-lang/registry/internal/errs"
	limitmemory "github.com/dryad-lang/registry/internal/ratelimit/memory"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
	"github.com/dryad-lang/registry/internal/testenv"
)

func TestNew(t *testing.T) {
	f := registrytest.New(t)
	complete := func() registry.Options {
		return registry.Options{Store: f.Store, Blobs: f.Blobs, Cache: cachememory.NewCache(cachememory.CacheOptions{}),
			Counters: cachememory.NewCounters(), Locker: f.Locker, Limiter: limitmemory.New(limitmemory.Options{}),
			Hasher: f.Hasher, Signer: f.Signer}
	}
	if _, err := registry.New(complete()); err != nil {
		t.Fatalf("New with every required option: %v", err)
	}
	for name, drop := range map[string]func(*registry.Options){
		"Store": func(o *registry.Options) { o.Store = nil }, "Blobs": func(o *registry.Options) { o.Blobs = nil },
		"Cache": func(o *registry.Options) { o.Cache = nil }, "Counters": func(o *registry.Options) { o.Counters = nil },
		"Locker": func(o *registry.Options) { o.Locker = nil }, "Limiter": func(o *registry.Options) { o.Limiter = nil },
		"Hasher": func(o *registry.Options) { o.Hasher = nil }, "Signer": func(o *registry.Options) { o.Signer = nil },
	} {
		o := complete()
		drop(&o)
		if s, err := registry.New(o); err == nil || s != nil || !strings.Contains(err.Error(), "missing a required option") {
			t.Errorf("New without %s: %v", name, err)
		}
	}
	if got := f.Service.MaxPackageSize(); got != 100<<20 {
		t.Errorf("default MaxPackageSize = %d", got)
	}
	if f.Service.Observe() == nil {
		t.Error("no default observer")
	}
	obs := &observer{}
	if g := registrytest.New(t, registrytest.Observer(obs)); g.Service.Observe() != obs {
		t.Error("Observe does not return the configured observer")
	}
}

// TestSessionTimeout checks that login tokens and sessions share the
// configured lifetime, a week by default.
func TestSessionTimeout(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	f.SignUp("alice")
	res, err := f.Service.Login(ctx, "alice", registrytest.Password("alice"), ip)
	if err != nil || !res.ExpiresAt.Equal(registrytest.Start.Add(auth.DefaultSessionTimeout)) {
		t.Errorf("login expires at %v, %v", res.ExpiresAt, err)
	}
	s, err := f.Service.SignIn(ctx, "alice", registrytest.Password("alice"), ip)
	if err != nil || !s.Expires.Equal(registrytest.Start.Add(auth.DefaultSessionTimeout)) {
		t.Errorf("session expires at %v, %v", s.Expires, err)
	}
}

func TestRunHousekeeping(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t, registrytest.SessionTimeout(time.Hour))
	alice := f.SignUp("alice")
	f.Publish(alice, pkg("kept", "1.0.0"))
	s, err := f.Service.SignIn(ctx, "alice", registrytest.Password("alice"), ip)
	if err != nil {
		t.Fatal(err)
	}
	w, err := f.Blobs.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "left by a crashed publish")
	orphan, err := w.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.Clock.Advance(2 * time.Hour)

	run, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		f.Service.RunHousekeeping(run, time.Millisecond)
		close(done)
	}()
	testenv.Eventually(t, "the expired session and the orphan archive removed", func() (bool, string) {
		_, sessErr := f.Store.GetSession(ctx, auth.HashSessionID(s.ID))
		_, blobErr := f.Blobs.Stat(ctx, orphan)
		return errors.Is(sessErr, errs.NotFound) && errors.Is(blobErr, errs.NotFound),
			"session: " + errString(sessErr) + "; orphan: " + errString(blobErr)
	})
	stop()
	<-done
	if _, err := f.Service.LookupArchive(ctx, "kept", "1.0.0"); err != nil {
		t.Fatal(err)
	}
	if n := f.Archives(); n != 1 {
		t.Errorf("%d archives left, want the published one", n)
	}
}

func errString(err error) string {
	if err == nil {
		return "present"
	}
	return err.Error()
}

// RemoveStaleTemp removes what interrupted uploads left in the temp folder
// (older than StaleTempAge) and leaves the files of uploads in progress.
func TestRemoveStaleTemp(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t, func(o *registry.Options) { o.StaleTempAge = 5 * time.Minute })
	dir := f.Blobs.TempDir()
	for name, age := range map[string]time.Duration{"blob-crashed": 6 * time.Minute, ".archive-spool-crashed": time.Hour, "blob-running": time.Minute} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("partial upload"), 0o600)
		at := f.Clock.Now().Add(-age)
		os.Chtimes(p, at, at)
	}
	n, err := f.Service.RemoveStaleTemp(ctx)
	if err != nil || n != 2 {
		t.Fatalf("RemoveStaleTemp = %d, %v; want 2", n, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "blob-running" {
		t.Errorf("left: %v, want blob-running alone", entries)
	}
}
