package registry_test

import (
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
)

// claimAt is after every job's due time: jobs the service queues without a
// time of its own are due at the store's wall-clock now, not the fixture's.
var claimAt = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

// drain claims, records and completes every queued job, one at a time.
func drain(t *testing.T, g *registry.Git) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for {
		js, err := g.ClaimJobs(ctx, claimAt, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(js) == 0 {
			return out
		}
		for _, j := range js {
			out = append(out, j.Kind+" "+j.Version)
			if err := g.CompleteJob(ctx, j, false); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestGitJobs checks that every change to a package queues its git work in
// the same step, and wakes the worker.
func TestGitJobs(t *testing.T) {
	ctx := context.Background()
	var wakes atomic.Int32
	f := registrytest.New(t, func(o *registry.Options) { o.OnGitWork = func() { wakes.Add(1) } })
	alice := f.SignUp("alice")
	g := f.Service.Git()
	steps := []struct {
		name   string
		change func() error
		jobs   string
		wakes  int32
	}{
		{"first publish", func() error { _, err := f.TryPublish(alice, pkg("g", "1.0.0")); return err }, "commit 1.0.0", 1},
		{"new latest", func() error { _, err := f.TryPublish(alice, pkg("g", "1.1.0")); return err }, "commit 1.1.0", 1},
		{"refused publish", func() error { _, err := f.TryPublish(alice, pkg("g", "1.1.0")); return nil_(err, errs.Conflict) }, "", 0},
		{"yank the latest", func() error { _, err := f.Service.SetYanked(ctx, alice, "g", "1.1.0", true, ip); return err }, "set_main 1.0.0", 1},
		{"yank an old version", func() error { _, err := f.Service.SetYanked(ctx, alice, "g", "1.1.0", true, ip); return err }, "", 1},
		{"delete a version", func() error { _, err := f.Service.DeleteVersion(ctx, alice, "g", "1.1.0", ip); return err }, "delete_tag 1.1.0", 1},
		{"delete the package", func() error { _, err := f.Service.DeletePackage(ctx, alice, "g", ip); return err }, "delete_tag 1.0.0", 1},
	}
	for _, tt := range steps {
		before := wakes.Load()
		if err := tt.change(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := strings.Join(drain(t, g), ", "); got != tt.jobs {
			t.Errorf("%s: queued %q, want %q", tt.name, got, tt.jobs)
		}
		if n := wakes.Load() - before; n != tt.wakes {
			t.Errorf("%s: woke the worker %d times, want %d", tt.name, n, tt.wakes)
		}
	}
}

// nil_ turns an error of the expected kind into nil.
func nil_(err error, kind errs.Kind) error {
	if errs.KindOf(err) == kind {
		return nil
	}
	return err
}

func TestGitSide(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	bob := f.SignUp("bob")
	root := f.Admin("root")
	f.Publish(alice, pkg("repo_a", "1.0.0"))
	f.Clock.Advance(time.Minute)
	f.Publish(alice, pkg("repo_a", "1.1.0"))
	f.Publish(alice, pkg("repo_b", "1.0.0"))
	if _, err := f.Service.DeleteVersion(ctx, alice, "repo_a", "1.1.0", ip); err != nil {
		t.Fatal(err)
	}
	g := f.Service.Git()

	gp, err := g.PackageByName(ctx, "REPO-A")
	if err != nil || gp.Name != "repo_a" || gp.Latest != "1.0.0" || len(gp.Versions) != 2 ||
		gp.Versions[0].Version != "1.0.0" || gp.Versions[1].DeletedAt == nil || gp.Versions[0].Publisher != "alice" {
		t.Fatalf("git package: %+v, %v", gp, err)
	}
	if byID, err := g.PackageByID(ctx, gp.ID); err != nil || byID.Name != "repo_a" {
		t.Errorf("PackageByID: %+v, %v", byID, err)
	}
	_, err = g.PackageByName(ctx, "ghost")
	checkErr(t, "PackageByName of an unknown package", err, errs.NotFound, "")
	if names, err := g.PackageNames(ctx); err != nil || strings.Join(names, " ") != "repo_a repo_b" {
		t.Errorf("PackageNames = %v, %v", names, err)
	}
	file, err := g.OpenArchive(ctx, gp.Versions[0].Checksum)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, file)
	file.Close()
	if n == 0 {
		t.Error("empty archive")
	}
	if pending, failing, err := g.Queue(ctx); err != nil || pending != 5 || failing != 0 {
		t.Errorf("queue: %d pending, %d failing, %v", pending, failing, err)
	}

	// Git state, for owners and admins only.
	tests := []struct {
		name string
		p    *auth.Principal
		pkg  string
		kind errs.Kind
	}{
		{"anonymous", nil, "repo_a", errs.Unauthenticated},
		{"not an owner", bob, "repo_a", errs.Forbidden},
		{"unknown package", alice, "ghost", errs.NotFound},
		{"owner", alice, "repo_a", success},
		{"admin", root, "REPO-A", success},
	}
	for _, tt := range tests {
		st, err := f.Service.PackageGitState(ctx, tt.p, tt.pkg)
		if checkErr(t, "PackageGitState: "+tt.name, err, tt.kind, "") && err == nil &&
			(st.Name != "repo_a" || st.Latest != "1.0.0" || st.LatestCommit != "" || st.Mirrored) {
			t.Errorf("PackageGitState: %s: %+v", tt.name, st)
		}
	}
	scope := f.Service.PackageScope(ctx, "repo_a")
	if err := g.RecordCommit(ctx, "REPO_A", gp.Versions[0].ID, "0123abcd"); err != nil {
		t.Fatal(err)
	}
	if f.Service.PackageScope(ctx, "repo_a") == scope {
		t.Error("RecordCommit kept the cached documents")
	}
	pushed := registrytest.Start.Add(time.Hour)
	if err := g.RecordMirror(ctx, gp.ID, &pushed, ""); err != nil {
		t.Fatal(err)
	}
	st, _ := f.Service.PackageGitState(ctx, alice, "repo_a")
	if st.LatestCommit != "0123abcd" || !st.Mirrored || st.MirrorPushedAt == nil || !st.MirrorPushedAt.Equal(pushed) {
		t.Errorf("git state after a commit and a push: %+v", st)
	}
	if v, _ := f.Service.Version(ctx, "repo_a", "1.0.0"); v.GitCommit != "0123abcd" {
		t.Errorf("version's commit = %q", v.GitCommit)
	}
	if err := g.RecordMirror(ctx, gp.ID, nil, "push refused"); err != nil {
		t.Fatal(err)
	}
	sum, err := g.MirrorSummary(ctx, 10)
	if err != nil || sum.Pushed != 1 || sum.Failing != 1 || len(sum.Failures) != 1 || sum.Failures[0].Error != "push refused" {
		t.Errorf("mirror summary: %+v, %v", sum, err)
	}

	// Failed jobs are retried later; a completed job can queue a push.
	js, err := g.ClaimJobs(ctx, claimAt, time.Minute, 10)
	if err != nil || len(js) != 2 {
		t.Fatalf("claimed %+v, %v", js, err)
	}
	if again, _ := g.ClaimJobs(ctx, claimAt, time.Minute, 10); len(again) != 0 {
		t.Errorf("claimed jobs under lease again: %+v", again)
	}
	if err := g.FailJob(ctx, js[0], "boom", claimAt); err != nil {
		t.Fatal(err)
	}
	if err := g.CompleteJob(ctx, js[1], true); err != nil {
		t.Fatal(err)
	}
	if pending, failing, _ := g.Queue(ctx); pending != 5 || failing != 1 {
		t.Errorf("queue after a failure and a completion with mirror: %d pending, %d failing", pending, failing)
	}
	retry, _ := g.ClaimJobs(ctx, claimAt, time.Minute, 10)
	if len(retry) != 2 || retry[0].ID != js[0].ID || retry[0].Attempts != 1 {
		t.Errorf("retried jobs: %+v", retry)
	}
	if err := g.QueueMirror(ctx, gp.ID); err != nil {
		t.Fatal(err)
	}
	if pending, _, _ := g.Queue(ctx); pending != 6 {
		t.Errorf("pending after QueueMirror: %d", pending)
	}
	mirrorJob := registry.GitJob{ID: retry[0].ID, PackageID: retry[0].PackageID, Kind: registry.GitMirror}
	if err := g.RequeueMirror(ctx, mirrorJob, "unreachable", claimAt, claimAt.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if pending, failing, _ := g.Queue(ctx); pending != 6 || failing != 1 {
		t.Errorf("queue after RequeueMirror: %d pending, %d failing", pending, failing)
	}
}
