package registry

import (
	"context"
	"errors"
	"time"

	"github.com/dryad-lang/registry/internal/blob"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/manifest"
	"github.com/dryad-lang/registry/internal/store"
	"github.com/dryad-lang/registry/internal/tlog"
)

// The git worker keeps every package's repository a function of the
// registry's versions and archives. It reads and records through Git, which
// is the registry as the worker needs it: the durable job queue, packages
// with their whole history, archives, and where commits and mirror pushes
// are recorded.

// The kinds of git jobs.
const (
	GitCommit    = store.GitCommit    // commit and tag a version
	GitSetMain   = store.GitSetMain   // point main at the latest version
	GitDeleteTag = store.GitDeleteTag // remove a deleted version's tag
	GitMirror    = store.GitMirror    // push the repository to its mirror
)

// GitJob is a durable unit of git work, retried until it succeeds.
type GitJob struct {
	ID        int64
	PackageID int64
	Kind      string
	Version   string
	// Attempts counts the earlier failed attempts.
	Attempts int
}

// GitPackage is a package with every version ever published, deleted ones
// included (later versions may descend from them), in publish order.
type GitPackage struct {
	ID          int64
	Name        string
	Description string
	// Latest is the version installs get ("" when none).
	Latest   string
	Versions []GitVersion
}

// GitVersion is one version as its git commit records it.
type GitVersion struct {
	ID          int64
	Version     string
	Checksum    string
	Publisher   string
	PublishedAt time.Time
	DeletedAt   *time.Time
	// Commit is the recorded commit, "" until one was made.
	Commit string
}

// MirrorSummary is the mirror state of the whole registry.
type MirrorSummary struct {
	// Pushed counts the packages pushed at least once; LastPushedAt is the
	// most recent push of any package.
	Pushed       int64
	LastPushedAt *time.Time
	// Failing counts the packages whose last push failed; Failures lists
	// some of them, each with its error.
	Failing  int64
	Failures []MirrorFailure
}

// MirrorFailure is a package whose last mirror push failed.
type MirrorFailure struct {
	Package, Error string
}

// Git is the registry's side of the git worker.
type Git struct{ s *Service }

// Git returns the registry's side of the git worker.
func (s *Service) Git() *Git { return &Git{s} }

// ClaimJobs claims up to n jobs due at now for lease, oldest first, one per
// package at a time.
func (g *Git) ClaimJobs(ctx context.Context, now time.Time, lease time.Duration, n int) ([]GitJob, error) {
	js, err := g.s.store.ClaimGitJobs(ctx, now, lease, n)
	if err != nil {
		return nil, err
	}
	out := make([]GitJob, len(js))
	for i, j := range js {
		out[i] = GitJob{ID: j.ID, PackageID: j.PackageID, Kind: j.Kind, Version: j.Version, Attempts: j.Attempts}
	}
	return out, nil
}

// CompleteJob removes a finished job. With mirror, a push of the package
// to its mirror is queued in the same transaction, so that a crash cannot
// lose the push.
func (g *Git) CompleteJob(ctx context.Context, j GitJob, mirror bool) error {
	if !mirror {
		return g.s.store.CompleteGitJob(ctx, j.ID)
	}
	return g.s.store.Transact(ctx, func(tx store.Queries) error {
		if err := tx.CompleteGitJob(ctx, j.ID); err != nil {
			return err
		}
		return tx.EnqueueGitJob(ctx, &store.GitJob{PackageID: j.PackageID, Kind: store.GitMirror})
	})
}

// FailJob records a failed attempt and when to try again.
func (g *Git) FailJob(ctx context.Context, j GitJob, cause string, next time.Time) error {
	return g.s.store.FailGitJob(ctx, j.ID, cause, next)
}

// RequeueMirror replaces a failed mirror push with a new one at the end of
// the package's queue, due at next and counted as failing with cause.
func (g *Git) RequeueMirror(ctx context.Context, j GitJob, cause string, now, next time.Time) error {
	return g.s.store.Transact(ctx, func(tx store.Queries) error {
		if err := tx.CompleteGitJob(ctx, j.ID); err != nil {
			return err
		}
		retry := &store.GitJob{PackageID: j.PackageID, Kind: store.GitMirror, CreatedAt: now, NextAttemptAt: next}
		if err := tx.EnqueueGitJob(ctx, retry); err != nil {
			return err
		}
		return tx.FailGitJob(ctx, retry.ID, cause, next)
	})
}

// QueueMirror queues a push of a package to its mirror.
func (g *Git) QueueMirror(ctx context.Context, packageID int64) error {
	return g.s.store.EnqueueGitJob(ctx, &store.GitJob{PackageID: packageID, Kind: store.GitMirror})
}

// PackageByID returns a package with its whole history; errs.NotFound
// when no such package exists.
func (g *Git) PackageByID(ctx context.Context, id int64) (*GitPackage, error) {
	pk, err := g.s.store.GetPackageByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return g.history(ctx, pk)
}

// PackageByName is PackageByID by any spelling of the package's name,
// deleted packages included.
func (g *Git) PackageByName(ctx context.Context, name string) (*GitPackage, error) {
	pk, err := g.s.store.GetPackage(ctx, manifest.NormalizeName(name))
	if errors.Is(err, errs.NotFound) {
		return nil, errs.Errorf(errs.NotFound, "no package %q", name)
	}
	if err != nil {
		return nil, err
	}
	return g.history(ctx, pk)
}

func (g *Git) history(ctx context.Context, pk *store.Package) (*GitPackage, error) {
	vs, err := g.s.store.ListVersions(ctx, pk.ID)
	if err != nil {
		return nil, err
	}
	out := &GitPackage{ID: pk.ID, Name: pk.Name, Description: pk.Description, Latest: pk.Latest, Versions: make([]GitVersion, len(vs))}
	for i := range vs {
		v := &vs[i]
		out.Versions[i] = GitVersion{ID: v.ID, Version: v.Version, Checksum: v.Checksum, Publisher: v.Publisher,
			PublishedAt: v.PublishedAt, DeletedAt: v.DeletedAt, Commit: v.GitCommit}
	}
	return out, nil
}

// OpenArchive opens a stored archive by its checksum.
func (g *Git) OpenArchive(ctx context.Context, checksum string) (blob.File, error) {
	return g.s.blobs.Open(ctx, checksum)
}

// RecordCommit stores the git commit of a version, once the worker made
// it, and drops the package's cached documents, which show it.
func (g *Git) RecordCommit(ctx context.Context, pkg string, versionID int64, commit string) error {
	if err := g.s.store.SetGitCommit(ctx, versionID, commit); err != nil {
		return err
	}
	g.s.invalidatePackage(ctx, manifest.NormalizeName(pkg))
	return nil
}

// RecordMirror stores the outcome of the last push of a package to its
// mirror, where every instance sees it.
func (g *Git) RecordMirror(ctx context.Context, packageID int64, pushedAt *time.Time, lastError string) error {
	return g.s.store.SetMirrorState(ctx, packageID, pushedAt, lastError)
}

// Queue counts the jobs waiting, and those that failed at least once.
func (g *Git) Queue(ctx context.Context) (pending, failing int64, err error) {
	return g.s.store.CountGitJobs(ctx)
}

// MirrorSummary sums up the mirror state of every package, with up to limit
// failures.
func (g *Git) MirrorSummary(ctx context.Context, limit int) (*MirrorSummary, error) {
	sum, err := g.s.store.MirrorSummary(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := &MirrorSummary{Pushed: sum.Pushed, LastPushedAt: sum.LastPushedAt, Failing: sum.Failing}
	for _, f := range sum.Failures {
		out.Failures = append(out.Failures, MirrorFailure{Package: f.Package, Error: f.Error})
	}
	return out, nil
}

// PackageNames lists every package that has versions, deleted ones
// included, in publish order.
func (g *Git) PackageNames(ctx context.Context) ([]string, error) {
	var names []string
	seen := map[int64]bool{}
	err := g.s.store.AllVersions(ctx, func(p *store.Package, _ *store.Version) error {
		if !seen[p.ID] {
			seen[p.ID] = true
			names = append(names, p.Name)
		}
		return nil
	})
	return names, err
}

// GitChange is one change to a package's versions, in the order the
// transparency log recorded it: what an instance keeping its own git
// repositories (no shared GIT_DIR) replays to bring them up to date, since
// the queue's jobs run on one instance only.
type GitChange struct {
	// Index is the change's log record; reading on from Index+1 gives the
	// changes after it.
	Index int64
	// Package is the normalised package name.
	Package string
	// Kind is the git job the change calls for: GitCommit (a publish),
	// GitSetMain (a yank or unyank) or GitDeleteTag (a delete).
	Kind    string
	Version string
}

// Changes returns the version changes recorded in the log from index from
// on, reading at most limit records (owner changes are read and skipped),
// and the index to read from next.
func (g *Git) Changes(ctx context.Context, from int64, limit int) ([]GitChange, int64, error) {
	recs, err := g.s.store.LogRecords(ctx, from, from+int64(limit))
	if err != nil {
		return nil, from, err
	}
	var out []GitChange
	next := from
	for i := range recs {
		e, err := logEntry(&recs[i])
		if err != nil {
			return nil, from, err
		}
		next = e.Index + 1
		kind := ""
		switch e.Record.Kind {
		case tlog.Publish:
			kind = GitCommit
		case tlog.Yank, tlog.Unyank:
			kind = GitSetMain
		case tlog.Delete:
			kind = GitDeleteTag
		default:
			continue
		}
		out = append(out, GitChange{Index: e.Index, Package: e.Record.Package, Kind: kind, Version: e.Record.Version})
	}
	return out, next, nil
}

// ChangesEnd is the index the next change will be recorded at: where an
// instance whose repositories are up to date now starts reading.
func (g *Git) ChangesEnd(ctx context.Context) (int64, error) {
	return g.s.store.LogSize(ctx)
}
