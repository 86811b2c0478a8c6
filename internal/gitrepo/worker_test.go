package gitrepo_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/gitrepo"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
	"github.com/dryad-lang/registry/internal/testenv"
)

// claimDuringStop is the registry's git queue with one claim timed against
// a shutdown: the store makes the claim, the worker's context ends, and
// then the claim answers. A claim whose context has ended by then answers
// the context's error, as a database driver does when a query's context
// ends before its answer was read, although the store did make the claim.
type claimDuringStop struct {
	*registry.Git
	stop    context.CancelFunc
	stopped bool
}

func (c *claimDuringStop) ClaimJobs(ctx context.Context, now time.Time, lease time.Duration, n int) ([]registry.GitJob, error) {
	js, err := c.Git.ClaimJobs(context.Background(), now, lease, n)
	if err != nil || len(js) == 0 || c.stopped {
		return js, err
	}
	c.stopped = true
	c.stop()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return js, nil
}

// TestWorkerStopDuringClaim checks that a job claimed as the worker stops
// is given back at once: left leased, it would wait out the whole lease
// (minutes) before the next start or another instance could run it.
func TestWorkerStopDuringClaim(t *testing.T) {
	f := registrytest.New(t)
	f.Publish(f.SignUp("alice"), testenv.Package{Name: "demo", Version: "1.0.0"})

	repos, err := gitrepo.Open(filepath.Join(t.TempDir(), "git"), gitrepo.Options{Git: testenv.LookPath(t, "git")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := &claimDuringStop{Git: f.Service.Git(), stop: cancel}
	w, err := gitrepo.NewWorker(repos, gitrepo.WorkerOptions{Source: src, Poll: time.Hour, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	w.Run(ctx)
	if !src.stopped {
		t.Fatal("the worker claimed no job")
	}

	js, err := f.Service.Git().ClaimJobs(context.Background(), time.Now(), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(js) != 1 || js[0].Version != "1.0.0" {
		t.Errorf("after a stop during its claim, the job is not due again: claimable now %+v", js)
	}
}

// BenchmarkWorkerDrain times the git worker working through the queue a
// burst of publishes leaves (a mass publish, a restore): one iteration is
// one new package's first version, from its claim to its completed job,
// through the registry on SQLite, with the archive, the commit and tag,
// branch main and the recorded commit.
func BenchmarkWorkerDrain(b *testing.B) {
	ctx := context.Background()
	f := registrytest.New(b)
	alice := f.SignUp("alice")
	repos, err := gitrepo.Open(filepath.Join(b.TempDir(), "git"), gitrepo.Options{Git: testenv.LookPath(b, "git")})
	if err != nil {
		b.Fatal(err)
	}
	w, err := gitrepo.NewWorker(repos, gitrepo.WorkerOptions{Source: f.Service.Git(), Concurrency: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	for i := range b.N {
		f.Publish(alice, testenv.Package{Name: fmt.Sprintf("drain-%06d", i), Version: "1.0.0"})
	}
	b.StartTimer()
	for done := 0; ; done++ {
		did, err := w.Step(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if !did {
			if done != b.N {
				b.Fatalf("%d jobs done for %d publishes", done, b.N)
			}
			break
		}
	}
	b.StopTimer()
	if pending, failing, err := f.Service.Git().Queue(ctx); err != nil || pending != 0 || failing != 0 {
		b.Fatalf("after the drain: %d jobs pending, %d failing, %v", pending, failing, err)
	}
}
