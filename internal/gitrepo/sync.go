package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/dryad-lang/registry/internal/blob"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/jobs"
	"github.com/dryad-lang/registry/internal/manifest"
	"github.com/dryad-lang/registry/internal/registry"
)

// Source is what the git worker reads and records through: the registry's
// durable queue of git jobs, packages with their whole history, their
// archives, and where commits and mirror pushes are recorded.
// registry.Service.Git implements it.
type Source interface {
	ClaimJobs(ctx context.Context, now time.Time, lease time.Duration, n int) ([]registry.GitJob, error)
	// CompleteJob removes a finished job; with mirror it queues a push of
	// the package in the same transaction.
	CompleteJob(ctx context.Context, j registry.GitJob, mirror bool) error
	FailJob(ctx context.Context, j registry.GitJob, cause string, next time.Time) error
	// RequeueMirror replaces a failed push by one at the end of the
	// package's queue, due at next.
	RequeueMirror(ctx context.Context, j registry.GitJob, cause string, now, next time.Time) error
	QueueMirror(ctx context.Context, packageID int64) error
	PackageByID(ctx context.Context, id int64) (*registry.GitPackage, error)
	PackageByName(ctx context.Context, name string) (*registry.GitPackage, error)
	OpenArchive(ctx context.Context, checksum string) (blob.File, error)
	RecordCommit(ctx context.Context, pkg string, versionID int64, commit string) error
	RecordMirror(ctx context.Context, packageID int64, pushedAt *time.Time, lastError string) error
	// Queue counts the jobs waiting and those that failed at least once.
	Queue(ctx context.Context) (pending, failing int64, err error)
	MirrorSummary(ctx context.Context, limit int) (*registry.MirrorSummary, error)
}

// WorkerOptions configure a Worker. Source is required.
type WorkerOptions struct {
	// Source gives the queue, the packages and their archives, and records
	// commits and mirror pushes.
	Source Source
	// Mirror, when set, receives every change of every repository.
	Mirror *Mirror
	// Domain is the host of the commit authors' placeholder emails,
	// {username}@users.noreply.{Domain} (never the real, private email);
	// default "localhost". Commit ids depend on it: rebuild with the same.
	Domain string
	// Wake receives a value whenever git work was queued (the registry's
	// OnGitWork), so that a publish reaches git at once rather than at the
	// next poll.
	Wake   <-chan struct{}
	Logger *slog.Logger

	// Poll is how often the queue is read without a wake-up (default 2s):
	// jobs queued by other instances and retries that fell due.
	Poll time.Duration
	// Lease is how long a claimed job is kept from other workers (default
	// 5m); JobTimeout bounds one job (default 4m), so that a job is done or
	// given up before another worker may take it.
	Lease, JobTimeout time.Duration
	// RetryBase is the wait after a job's first failure (default 1s),
	// doubled after each further one up to RetryMax (default 5m).
	RetryBase, RetryMax time.Duration
	// Concurrency is how many jobs (of different packages) run at once
	// (default 2), so that a slow mirror does not hold up other packages.
	Concurrency int

	// Changes, when set, says that this instance's repositories are its
	// own (instances share no git folder): besides the queue, the worker
	// follows every change the registry records, polling every Poll, and
	// catches up with the registry at its first start.
	Changes Changes
}

// Worker applies the registry's durable git jobs (registry.GitJob) to the
// repositories: a commit and tag per published version, branch main
// following the package's latest version, tags of deleted versions removed,
// and mirror pushes. Jobs survive crashes in the store and are retried with
// exponential backoff; several workers (in several instances) may share one
// queue, since each package's jobs are claimed one at a time, in order.
type Worker struct {
	repos *Repos
	src   Source
	opts  WorkerOptions
	log   *slog.Logger

	mu             sync.Mutex
	mirrorFailures map[int64]int // consecutive failed mirror jobs per package
}

// NewWorker returns a Worker writing to repos. It refuses a Domain that
// cannot be part of an email in a git object.
func NewWorker(repos *Repos, opts WorkerOptions) (*Worker, error) {
	if repos == nil || opts.Source == nil {
		return nil, errors.New("gitrepo: NewWorker needs repositories and a source")
	}
	if opts.Domain == "" {
		opts.Domain = "localhost"
	}
	if strings.ContainsAny(opts.Domain, "<>@ \t\r\n\x00") {
		return nil, errs.Errorf(errs.Invalid,
			"DOMAIN %q cannot be the host of git commit emails ({username}@users.noreply.DOMAIN): use a host name such as registry.example.org", opts.Domain)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.Poll, 2*time.Second)
	def(&opts.Lease, 5*time.Minute)
	def(&opts.JobTimeout, 4*time.Minute)
	def(&opts.RetryBase, time.Second)
	def(&opts.RetryMax, 5*time.Minute)
	if opts.JobTimeout > opts.Lease {
		opts.JobTimeout = opts.Lease
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 2
	}
	log := opts.Logger
	if log == nil {
		log = repos.log
	}
	return &Worker{
		repos: repos, src: opts.Source,
		opts: opts, log: log, mirrorFailures: map[int64]int{},
	}, nil
}

// Run works through the queue until ctx ends: at once (resuming what a
// crash or a stop left queued), on every wake-up, and every Poll. A job
// interrupted by the end of ctx is put back to run at the next start.
func (w *Worker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() {
		jobs.Loop{
			Step:    w.Step,
			OnError: func(err error) { w.log.Warn("reading the git queue", "err", err) },
			Wake:    w.opts.Wake, Poll: w.opts.Poll, Concurrency: w.opts.Concurrency,
		}.Run(ctx)
	})
	if w.opts.Changes != nil {
		wg.Go(func() { w.follow(ctx) })
	}
	wg.Wait()
}

// Step claims one due job and runs it, and reports whether there was one.
// The error is the queue's; a job's own failure is recorded with the job.
func (w *Worker) Step(ctx context.Context) (bool, error) {
	// A shutdown does not cut the claim short: the store may have made a
	// claim whose answer would then be lost, keeping the job from every
	// worker for a whole lease. A job claimed as the worker stops is run
	// with the ended context, which gives it back at once (see run).
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), claimTimeout)
	jobs, err := w.src.ClaimJobs(cctx, time.Now(), w.opts.Lease, 1)
	cancel()
	if err != nil || len(jobs) == 0 {
		return false, err
	}
	w.run(ctx, jobs[0])
	return true, nil
}

// claimTimeout bounds a claim of the queue, which a shutdown does not
// interrupt.
const claimTimeout = 15 * time.Second

// errMirror marks a failed mirror push, which is retried behind the
// package's other jobs rather than in front of them.
var errMirror = errors.New("mirror push failed")

// run runs one claimed job and records its outcome.
func (w *Worker) run(ctx context.Context, j registry.GitJob) {
	jctx, cancel := context.WithTimeout(ctx, w.opts.JobTimeout)
	err := w.apply(jctx, j)
	cancel()
	// The outcome is recorded even when ctx has just ended.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	log := w.log.With("job", j.ID, "kind", j.Kind, "package_id", j.PackageID, "version", j.Version)
	now := time.Now()
	var recErr error
	switch {
	case err == nil:
		recErr = w.complete(rctx, j)
	case ctx.Err() != nil:
		// Stopping: the job runs again at the next start, at once.
		log.Info("git job interrupted by shutdown; it will run again", "err", err)
		recErr = w.src.FailJob(rctx, j, "interrupted: "+err.Error(), now)
	case errors.Is(err, errs.Invalid) || errors.Is(err, errs.Conflict):
		// Retrying cannot help; the repository can be rebuilt once the
		// cause is fixed.
		log.Error("git job failed for good and was dropped; fix the cause, then run `dryad-registry git rebuild` for the package", "err", err)
		recErr = w.src.CompleteJob(rctx, j, false)
	case errors.Is(err, errMirror):
		recErr = w.retryMirror(rctx, j, err, now)
	default:
		next := now.Add(jobs.Backoff(w.opts.RetryBase, w.opts.RetryMax, j.Attempts))
		log.Warn("git job failed; will retry", "attempt", j.Attempts+1, "next", next.Format(time.RFC3339), "err", err)
		recErr = w.src.FailJob(rctx, j, err.Error(), next)
	}
	if recErr != nil {
		// The lease runs out and the job is claimed again.
		log.Error("recording the outcome of a git job", "err", recErr)
	}
}

// complete removes a finished job and, when the repository changed and a
// mirror is configured, queues its push in the same transaction, so that a
// crash cannot lose the push.
func (w *Worker) complete(ctx context.Context, j registry.GitJob) error {
	return w.src.CompleteJob(ctx, j, w.opts.Mirror != nil && j.Kind != registry.GitMirror)
}

// maxMirrorWait caps the wait before a failed push is tried again: the
// package's jobs queued after the retry wait for it, so a mirror outage
// delays new versions' commits by at most this (plus one push attempt).
const maxMirrorWait = time.Minute

// retryMirror requeues a failed push at the end of the package's queue, so
// that versions published during a mirror outage still reach the local
// repository; the wait doubles with each consecutive failure.
func (w *Worker) retryMirror(ctx context.Context, j registry.GitJob, cause error, now time.Time) error {
	w.mu.Lock()
	n := w.mirrorFailures[j.PackageID]
	w.mirrorFailures[j.PackageID] = n + 1
	w.mu.Unlock()
	next := now.Add(jobs.Backoff(w.opts.RetryBase, min(w.opts.RetryMax, maxMirrorWait), n))
	w.log.Warn("git mirror push failed; will retry", "package_id", j.PackageID, "next", next.Format(time.RFC3339), "err", cause)
	// Counted as failing in the health report, with its error.
	return w.src.RequeueMirror(ctx, j, cause.Error(), now, next)
}

// apply does the work of one job against the package's current state in
// the store: whatever the job says, the repository ends up matching it.
func (w *Worker) apply(ctx context.Context, j registry.GitJob) error {
	pk, err := w.src.PackageByID(ctx, j.PackageID)
	if errors.Is(err, errs.NotFound) {
		return errs.Errorf(errs.Invalid, "package id %d no longer exists", j.PackageID)
	}
	if err != nil {
		return err
	}
	if j.Kind == registry.GitMirror {
		return w.mirror(ctx, pk)
	}
	vs := pk.Versions
	if !anyLeft(vs) {
		// Every version is deleted: so is the repository. Versions
		// published later start a new history (their parents can only be
		// versions that were not deleted when they were published).
		return w.repos.Remove(ctx, pk.Name)
	}
	switch j.Kind {
	case registry.GitCommit:
		i := indexOf(vs, j.Version)
		if i < 0 {
			return errs.Errorf(errs.Invalid, "%s has no version %q", pk.Name, j.Version)
		}
		if vs[i].DeletedAt != nil {
			// Deleted before its commit was made: it never will be (the
			// deletion's own job rewrites the history without it).
			break
		}
		commit, err := w.commit(ctx, w.repos, pk, vs, i, func(v *registry.GitVersion) string { return v.Commit })
		if err != nil {
			return err
		}
		if err := w.record(ctx, pk, &vs[i], commit); err != nil {
			return err
		}
		if pk.Latest == vs[i].Version {
			// The commit moved main with it (Version.Latest);
			// setMain would only check that again, at the cost of
			// three git processes per publish.
			return nil
		}
	case registry.GitDeleteTag:
		// Removing the tag is not enough: the deleted version's files stay
		// reachable as the parent of later versions, and its commit by id.
		_, err := w.rewrite(ctx, pk)
		return err
	case registry.GitSetMain:
		// The target is the package's latest now, not the one the job
		// names: the queue may lag behind, and the store is the truth.
	default:
		return errs.Errorf(errs.Invalid, "unknown git job kind %q", j.Kind)
	}
	return w.setMain(ctx, w.repos, pk, vs)
}

// commit records version vs[i] in repos with its deterministic parent,
// whose commit id commitOf gives, and returns the commit id. A parent whose
// commit is recorded but missing from the repository (lost from disk) is
// made again first: commits are deterministic, so it gets the id that was
// recorded.
func (w *Worker) commit(ctx context.Context, repos *Repos, pk *registry.GitPackage, vs []registry.GitVersion, i int, commitOf func(*registry.GitVersion) string) (string, error) {
	v := &vs[i]
	pi := parentIndex(vs, i)
	parent := ""
	if pi >= 0 {
		if parent = commitOf(&vs[pi]); parent == "" {
			return "", errs.Errorf(errs.NotFound, "the parent of %s %s, version %s, has no commit yet", pk.Name, v.Version, vs[pi].Version)
		}
	}
	commit, err := w.commitVersion(ctx, repos, pk, v, parent)
	if pi < 0 || !errors.Is(err, errs.NotFound) {
		return commit, err
	}
	if ok, herr := repos.hasCommit(ctx, pk.Name, parent); herr != nil || ok {
		return "", errors.Join(err, herr) // missing is something else (the archive)
	}
	p := &vs[pi]
	w.log.Warn("the parent commit is missing from the repository; making it again from its archive",
		"package", pk.Name, "version", v.Version, "parent", p.Version, "commit", parent)
	again, err := w.commit(ctx, repos, pk, vs, pi, commitOf)
	if err != nil {
		return "", err
	}
	if again != parent {
		return "", notAsRecorded(pk, p, again)
	}
	return w.commitVersion(ctx, repos, pk, v, parent)
}

// notAsRecorded is the error of a version whose commit, made again from
// its archive, differs from the one recorded.
func notAsRecorded(pk *registry.GitPackage, v *registry.GitVersion, made string) error {
	return errs.Errorf(errs.Conflict,
		"%s %s was recorded as commit %s but its archive now gives %s (was DOMAIN changed?); run `dryad-registry git rebuild %s`",
		pk.Name, v.Version, v.Commit, made, pk.Name)
}

// commitVersion writes one version's commit and tag on parent in repos.
func (w *Worker) commitVersion(ctx context.Context, repos *Repos, pk *registry.GitPackage, v *registry.GitVersion, parent string) (string, error) {
	f, err := w.src.OpenArchive(ctx, v.Checksum)
	if err != nil {
		return "", fmt.Errorf("opening the archive of %s %s: %w", pk.Name, v.Version, err)
	}
	defer f.Close()
	user := v.Publisher
	if user == "" {
		user = "unknown"
	}
	return repos.CommitVersion(ctx, Version{
		Package: pk.Name, Version: v.Version, Archive: f,
		AuthorName: user, AuthorEmail: user + "@users.noreply." + w.opts.Domain,
		Time: v.PublishedAt, Parent: parent,
		Latest: pk.Latest != "" && pk.Latest == v.Version,
	})
}

// record stores a version's commit id when it is new.
func (w *Worker) record(ctx context.Context, pk *registry.GitPackage, v *registry.GitVersion, commit string) error {
	if v.Commit == commit {
		return nil
	}
	if err := w.src.RecordCommit(ctx, pk.Name, v.ID, commit); err != nil {
		return err
	}
	v.Commit = commit
	return nil
}

// setMain points main of the package's repository in repos at the commit
// of the version mainOf picks, once that version has one (otherwise its own
// commit job moves main later). A recorded commit missing from the
// repository (another instance made it; this one's repositories are its
// own, or were lost) is made first, with its ancestors: commits are
// deterministic, so it gets the recorded id.
func (w *Worker) setMain(ctx context.Context, repos *Repos, pk *registry.GitPackage, vs []registry.GitVersion) error {
	v := mainOf(pk, vs)
	if v == nil || v.Commit == "" {
		return nil
	}
	ok, err := repos.hasCommit(ctx, pk.Name, v.Commit)
	if err != nil {
		return err
	}
	if !ok {
		made, err := w.commit(ctx, repos, pk, vs, indexOf(vs, v.Version), func(p *registry.GitVersion) string { return p.Commit })
		if err != nil {
			return err
		}
		if made != v.Commit {
			return notAsRecorded(pk, v, made)
		}
	}
	return repos.SetMain(ctx, pk.Name, v.Commit)
}

// mirror pushes the package's repository to the mirror and stores the
// outcome with the package, where every instance sees it.
func (w *Worker) mirror(ctx context.Context, pk *registry.GitPackage) error {
	m := w.opts.Mirror
	if m == nil {
		return nil // queued while a mirror was configured; it no longer is
	}
	_, err := m.Sync(ctx, pk.Name, pk.Description)
	if errors.Is(err, errs.NotFound) {
		return nil // no repository (every version deleted): nothing to push
	}
	if ctx.Err() != nil {
		return err // shutting down: not the mirror's fault
	}
	if err == nil {
		w.mu.Lock()
		delete(w.mirrorFailures, pk.ID)
		w.mu.Unlock()
		st := m.State(pk.Name)
		return w.src.RecordMirror(ctx, pk.ID, &st.LastPushed, "")
	}
	if serr := w.src.RecordMirror(ctx, pk.ID, nil, err.Error()); serr != nil {
		w.log.Error("recording the mirror state", "package", pk.Name, "err", serr)
	}
	if errors.Is(err, errs.Invalid) {
		return err
	}
	return fmt.Errorf("%w: %w", errMirror, err)
}

// indexOf finds a version by its exact text.
func indexOf(vs []registry.GitVersion, version string) int {
	for i := range vs {
		if vs[i].Version == version {
			return i
		}
	}
	return -1
}

// anyLeft reports whether some version is not deleted.
func anyLeft(vs []registry.GitVersion) bool {
	for i := range vs {
		if vs[i].DeletedAt == nil {
			return true
		}
	}
	return false
}

func versionOf(v *registry.GitVersion) string { return v.Version }

// parentIndex picks the parent of vs[i] (vs in publish order, as
// ListVersions returns them) by manifest.Parent among the versions
// published before it and not deleted; -1 for none. A package's history is
// thus a function of its live versions alone: deleting a version rewrites
// the history after it, the same way on every instance, and the live
// worker and a rebuild pick the same parents, hence the same commit ids.
func parentIndex(vs []registry.GitVersion, i int) int {
	return manifest.Parent(vs, i, versionOf, func(c, v *registry.GitVersion) bool {
		return c.ID < v.ID && c.DeletedAt == nil
	})
}

// mainOf picks the version branch main shows: the package's latest; when
// every version is yanked (no latest), the version that would be latest if
// none were, since yanks alone never hide a version from git. Nil when
// every version is deleted.
func mainOf(pk *registry.GitPackage, vs []registry.GitVersion) *registry.GitVersion {
	if pk.Latest != "" {
		if i := indexOf(vs, pk.Latest); i >= 0 && vs[i].DeletedAt == nil {
			return &vs[i]
		}
	}
	if i := manifest.Latest(vs, versionOf, func(v *registry.GitVersion) bool { return v.DeletedAt == nil }); i >= 0 {
		return &vs[i]
	}
	return nil
}

// RebuildResult says what a rebuild did to one package's repository.
type RebuildResult struct {
	Package string
	// Versions is how many versions were replayed: those not deleted,
	// each with its tag.
	Versions int
	// Main is the version main points at ("" when none) and MainCommit its
	// commit.
	Main, MainCommit string
	// Changed lists versions whose recorded commit differed from the
	// rebuilt one ("1.0.0: old -> new"); it is empty when the repository
	// was intact and rebuilt with the same settings.
	Changed []string
	// Removed is set when no version is left, hence no repository.
	Removed bool
	// MirrorQueued is set when a push to the mirror was queued.
	MirrorQueued bool
}

// String is the one line `git rebuild` prints for the package.
func (r *RebuildResult) String() string {
	if r.Removed {
		return r.Package + ": every version is deleted; no repository"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s replayed", r.Package, plural(r.Versions, "version"))
	if r.Main != "" {
		fmt.Fprintf(&b, ", main at v%s (%s)", r.Main, r.MainCommit)
	}
	if len(r.Changed) == 0 {
		b.WriteString(", same commits as recorded")
	} else {
		fmt.Fprintf(&b, ", %s differ from the recorded ones (now recorded)", plural(len(r.Changed), "commit"))
	}
	if r.MirrorQueued {
		b.WriteString(", mirror push queued")
	}
	return b.String()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Rebuild recreates a package's repository from the stored archives (see
// rewrite) and, with a mirror, queues a push of it. Commits are
// deterministic, so the ids are those the live path recorded; any that
// differ are recorded and reported. Rebuild while no server writes to the
// same package, or its jobs may interleave (they would converge on retry).
func (w *Worker) Rebuild(ctx context.Context, name string) (*RebuildResult, error) {
	pk, err := w.src.PackageByName(ctx, name)
	if err != nil {
		return nil, err
	}
	res, err := w.rewrite(ctx, pk)
	if err != nil {
		return nil, err
	}
	if w.opts.Mirror != nil {
		if err := w.src.QueueMirror(ctx, pk.ID); err != nil {
			return nil, err
		}
		// The running servers' workers push it.
		res.MirrorQueued = true
	}
	return res, nil
}

// rewrite makes a package's repository again from nothing but its live
// versions' archives: in a staging folder it replays them in publish order
// (each on its parentIndex), points main as the live worker does, records
// every commit id that changed, and then replaces the live repository in
// one step. It is how a deleted version leaves git: the new repository
// holds no object of it (no commit, tree or file to fetch by id, nothing
// for a prune to miss), the later versions' commits get new ids, and since
// the result depends only on stored facts every instance and every rebuild
// arrives at the same ids. With no live version the repository is removed.
func (w *Worker) rewrite(ctx context.Context, pk *registry.GitPackage) (*RebuildResult, error) {
	res := &RebuildResult{Package: pk.Name}
	vs := pk.Versions
	if !anyLeft(vs) {
		res.Removed = true
		return res, w.repos.Remove(ctx, pk.Name)
	}
	stage, remove, err := w.repos.Stage()
	if err != nil {
		return nil, err
	}
	defer remove()
	rebuilt := make(map[int64]string, len(vs))
	for i := range vs {
		v := &vs[i]
		if v.DeletedAt != nil {
			continue
		}
		commit, err := w.commit(ctx, stage, pk, vs, i, func(p *registry.GitVersion) string { return rebuilt[p.ID] })
		if err != nil {
			return nil, err
		}
		rebuilt[v.ID] = commit
		res.Versions++
		if old := v.Commit; old != commit {
			if old == "" {
				old = "(none)"
			}
			res.Changed = append(res.Changed, v.Version+": "+old+" -> "+commit)
			// Recorded before the swap: if it fails or the process dies
			// here, the job runs again; and a commit job that finds a
			// recorded parent missing from the old repository remakes it
			// with the same id.
			if err := w.record(ctx, pk, v, commit); err != nil {
				return nil, err
			}
		}
	}
	if err := w.setMain(ctx, stage, pk, vs); err != nil {
		return nil, err
	}
	if m := mainOf(pk, vs); m != nil {
		res.Main, res.MainCommit = m.Version, m.Commit
	}
	if err := w.repos.Replace(ctx, pk.Name, stage); err != nil {
		return nil, err
	}
	return res, nil
}

// Health reports the git queue and the mirror for the health endpoint:
// jobs waiting, jobs that failed at least once, and (with a mirror) the
// mirror state every instance recorded. mirror may be nil.
func Health(ctx context.Context, src Source, mirror *Mirror) map[string]any {
	info := map[string]any{}
	pending, failing, err := src.Queue(ctx)
	if err != nil {
		info["queue_error"] = errs.Message(err)
	} else {
		info["queue"] = pending
		info["failing_jobs"] = failing
	}
	if mirror == nil {
		return info
	}
	h := MirrorHealth{URL: Redact(mirror.opts.URLTemplate)}
	sum, err := src.MirrorSummary(ctx, 10)
	if err != nil {
		info["mirror"] = h
		info["mirror_error"] = errs.Message(err)
		return info
	}
	h.Packages = int(sum.Pushed)
	if sum.LastPushedAt != nil {
		h.LastPushed = *sum.LastPushedAt
	}
	for _, f := range sum.Failures {
		h.Failing = append(h.Failing, f.Package)
		if h.LastError == "" {
			h.LastError = f.Package + ": " + f.Error
		}
	}
	info["mirror"] = h
	info["mirror_failing_packages"] = sum.Failing
	return info
}

// hasCommit reports whether the package's repository holds commit id.
func (r *Repos) hasCommit(ctx context.Context, pkg, id string) (bool, error) {
	if ok, err := r.Exists(pkg); err != nil || !ok {
		return false, err
	}
	err := r.checkCommitExists(ctx, r.dir(pkg), id)
	if errors.Is(err, errs.NotFound) {
		return false, nil
	}
	return err == nil, err
}
