package registry_test

import (
	"context"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
)

// counts are a package's download numbers as Stats and Package show them.
type counts struct {
	total, last30, v10, v11 int64
	today, yesterday        int64
}

func readCounts(t *testing.T, f *registrytest.Fixture) counts {
	t.Helper()
	ctx := context.Background()
	st, err := f.Service.Stats(ctx, "counted")
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Service.Package(ctx, "counted")
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != p.Downloads {
		t.Errorf("stats total %d, package downloads %d", st.Total, p.Downloads)
	}
	if len(st.Daily) != registry.StatsDays {
		t.Fatalf("%d days of stats, want %d", len(st.Daily), registry.StatsDays)
	}
	c := counts{total: st.Total, last30: p.DownloadsLast30Days,
		today: st.Daily[len(st.Daily)-1].Downloads, yesterday: st.Daily[len(st.Daily)-2].Downloads}
	for _, v := range st.Versions {
		switch v.Version {
		case "1.0.0":
			c.v10 = v.Total
		case "1.1.0":
			c.v11 = v.Total
		}
	}
	return c
}

func TestDownloadCounts(t *testing.T) {
	ctx := context.Background()
	obs := &observer{}
	f := registrytest.New(t, registrytest.Observer(obs))
	alice := f.SignUp("alice")
	root := f.Admin("root")
	f.Publish(alice, pkg("counted", "1.0.0"))
	f.Publish(alice, pkg("counted", "1.1.0"))
	f.Publish(alice, pkg("other", "1.0.0"))
	ref := func(name, version string) *registry.ArchiveRef {
		r, err := f.Service.LookupArchive(ctx, name, version)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	v10, v11, other := ref("counted", "1.0.0"), ref("counted", "1.1.0"), ref("other", "1.0.0")
	download := func(r *registry.ArchiveRef, n int) {
		for range n {
			f.Service.CountDownload(ctx, r)
		}
	}
	flush := func() {
		if err := f.Service.FlushDownloads(ctx); err != nil {
			t.Fatal(err)
		}
	}

	download(v10, 3)
	download(v11, 2)
	if c := readCounts(t, f); c != (counts{}) {
		t.Errorf("counts before a flush: %+v (downloads must be buffered)", c)
	}
	if obs.downloads != 5 {
		t.Errorf("observer saw %d downloads", obs.downloads)
	}
	scope := f.Service.PackageScope(ctx, "counted")
	flush()
	if c := readCounts(t, f); c != (counts{total: 5, last30: 5, v10: 3, v11: 2, today: 5}) {
		t.Errorf("counts after a flush: %+v", c)
	}
	if f.Service.PackageScope(ctx, "counted") == scope {
		t.Error("a flush did not refresh the package's cached documents")
	}
	flush()
	if c := readCounts(t, f); c.total != 5 {
		t.Errorf("a second flush counted again: %+v", c)
	}
	p, _ := f.Service.Package(ctx, "counted")
	if p.Versions[0].Downloads != 2 || p.Versions[1].Downloads != 3 {
		t.Errorf("version downloads: %d, %d", p.Versions[0].Downloads, p.Versions[1].Downloads)
	}

	// The next day.
	f.Clock.Advance(24 * time.Hour)
	download(v10, 1)
	download(other, 4)
	flush()
	if c := readCounts(t, f); c != (counts{total: 6, last30: 6, v10: 4, v11: 2, today: 1, yesterday: 5}) {
		t.Errorf("counts the next day: %+v", c)
	}
	// 29 days later, the first day is out of the last 30.
	f.Clock.Advance(29 * 24 * time.Hour)
	if c := readCounts(t, f); c.last30 != 1 || c.total != 6 {
		t.Errorf("counts a month later: %+v", c)
	}
	st, _ := f.Service.Stats(ctx, "counted")
	if st.Name != "counted" || st.Since != f.Clock.Now().AddDate(0, 0, -(registry.StatsDays-1)).Format(time.DateOnly) ||
		st.Daily[len(st.Daily)-1].Day != f.Clock.Now().Format(time.DateOnly) {
		t.Errorf("stats range: since %s, last day %s", st.Since, st.Daily[len(st.Daily)-1].Day)
	}
	if tot, _ := f.Service.Totals(ctx); tot.Downloads != 10 {
		t.Errorf("registry downloads = %d, want 10", tot.Downloads)
	}
	// Deleted versions leave the per-version stats.
	if _, err := f.Service.DeleteVersion(ctx, root, "counted", "1.1.0", ip); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.Service.Stats(ctx, "counted"); len(st.Versions) != 1 || st.Versions[0].Version != "1.0.0" || st.Versions[0].Total != 4 {
		t.Errorf("per-version stats after a delete: %+v", st.Versions)
	}

	// While another instance holds the flush lease, this one does not flush.
	unlock, ok, err := f.Locker.TryLock(ctx, "flush-downloads", time.Minute)
	if err != nil || !ok {
		t.Fatalf("taking the lease: %v %v", ok, err)
	}
	download(v10, 2)
	flush()
	if c := readCounts(t, f); c.total != 6 {
		t.Errorf("flushed while the lease was held elsewhere: %+v", c)
	}
	unlock()
	flush()
	if c := readCounts(t, f); c.total != 8 {
		t.Errorf("after the lease was released: %+v", c)
	}
}

func TestRunDownloadFlusher(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	f.Publish(alice, pkg("counted", "1.0.0"))
	ref, err := f.Service.LookupArchive(ctx, "counted", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	// The lease held elsewhere does not stop the final flush.
	if _, ok, _ := f.Locker.TryLock(ctx, "flush-downloads", time.Hour); !ok {
		t.Fatal("lease not taken")
	}
	run, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		f.Service.RunDownloadFlusher(run, time.Hour) // the ticker never fires during the test
		close(done)
	}()
	f.Service.CountDownload(ctx, ref)
	f.Service.CountDownload(ctx, ref)
	stop()
	<-done
	if c := readCounts(t, f); c.total != 2 {
		t.Errorf("downloads after the flusher stopped: %+v", c)
	}
}

func TestTotals(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	f.SignUp("bob")
	f.Publish(alice, pkg("one", "1.0.0"))
	f.Publish(alice, pkg("one", "1.1.0"))
	f.Publish(alice, pkg("yanked", "1.0.0"))
	f.Publish(alice, pkg("dropped", "1.0.0"))
	f.Publish(alice, pkg("two", "1.0.0"))
	f.Publish(alice, pkg("two", "1.1.0"))
	if _, err := f.Service.SetYanked(ctx, alice, "yanked", "1.0.0", true, ip); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.DeletePackage(ctx, alice, "dropped", ip); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Service.DeleteVersion(ctx, alice, "two", "1.1.0", ip); err != nil {
		t.Fatal(err)
	}
	tot, err := f.Service.Totals(ctx)
	want := registry.RegistryStats{Packages: 2, Versions: 4, Users: 2}
	if err != nil || *tot != want {
		t.Errorf("totals = %+v, %v; want %+v (packages with a latest version; versions not deleted, yanked ones included)", tot, err, want)
	}
}

// TestTotalsKept checks that the registry-wide counts are kept for a few
// seconds, except across a change made through the same instance: another
// instance's publish shows once they expire, this one's at once.
func TestTotalsKept(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	f.Publish(alice, pkg("one", "1.0.0"))
	other := registrytest.New(t, func(o *registry.Options) { o.Store = f.Store })

	packages := func() int64 {
		t.Helper()
		tot, err := f.Service.Totals(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return tot.Packages
	}
	if n := packages(); n != 1 {
		t.Fatalf("packages = %d, want 1", n)
	}
	other.Publish(other.SignUp("bob"), pkg("two", "1.0.0"))
	if n := packages(); n != 1 {
		t.Errorf("another instance's publish showed before the counts expired: %d packages", n)
	}
	f.Clock.Advance(5 * time.Second)
	if n := packages(); n != 2 {
		t.Errorf("after the counts expired: %d packages, want 2", n)
	}
	f.Publish(alice, pkg("three", "1.0.0"))
	if n := packages(); n != 3 {
		t.Errorf("this instance's publish: %d packages, want 3 at once", n)
	}
	f.SignUp("carol")
	if tot, _ := f.Service.Totals(ctx); tot.Users != 3 {
		t.Errorf("users after a sign-up here = %d, want 3 at once", tot.Users)
	}
}
