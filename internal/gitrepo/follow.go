package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/jobs"
	"github.com/dryad-lang/registry/internal/registry"
)

// Changes is the registry's record of every change to versions, in order:
// what a worker whose repositories are its own (WorkerOptions.Changes)
// follows. registry.Git implements it.
type Changes interface {
	// Changes returns the changes from index from on (at most limit
	// records read) and the index to read next.
	Changes(ctx context.Context, from int64, limit int) ([]registry.GitChange, int64, error)
	// ChangesEnd is the index of the next change to be recorded.
	ChangesEnd(ctx context.Context) (int64, error)
	// PackageNames lists every package with versions.
	PackageNames(ctx context.Context) ([]string, error)
}

// cursorFile holds, in the git folder, the index of the next change a
// following worker applies. Its name cannot be a repository's.
const cursorFile = ".dryad-changes"

// follow keeps this instance's repositories up to date with the registry
// when instances share no git folder: the queue's jobs run on one instance
// only, so every instance replays every change itself, in the order the
// registry recorded them (the transparency log). Commits are deterministic,
// so all instances build the same ids. On its first start it first brings
// every package's repository up to date (see catchUp).
func (w *Worker) follow(ctx context.Context) {
	cursor, err := w.readCursor()
	for err != nil && ctx.Err() == nil {
		// No cursor yet (or an unreadable one): catch up from the
		// registry's state, then follow the changes recorded from then on.
		var end int64
		if end, err = w.opts.Changes.ChangesEnd(ctx); err == nil {
			if err = w.catchUpAll(ctx); err == nil {
				cursor, err = end, w.writeCursor(end)
			}
		}
		if err != nil && ctx.Err() == nil {
			w.log.Warn("bringing the git repositories up to date; will retry", "err", err)
			w.wait(ctx, w.opts.RetryMax/10)
		}
	}
	failures := 0
	for ctx.Err() == nil {
		next, err := w.followBatch(ctx, cursor)
		if next != cursor {
			cursor = next
			if werr := w.writeCursor(cursor); werr != nil {
				err = errors.Join(err, werr)
			}
		}
		switch {
		case ctx.Err() != nil:
		case err != nil:
			w.log.Warn("following the registry's changes into git; will retry", "at", cursor, "err", err)
			w.wait(ctx, jobs.Backoff(w.opts.RetryBase, w.opts.RetryMax, failures))
			failures++
		case next == cursor:
			failures = 0
			w.wait(ctx, w.opts.Poll)
		}
	}
}

// followBatch applies the changes from cursor on and returns the index
// after the last one applied. A change that fails for good (an archive git
// cannot take) is logged and passed, as the queue drops such a job.
func (w *Worker) followBatch(ctx context.Context, cursor int64) (int64, error) {
	changes, next, err := w.opts.Changes.Changes(ctx, cursor, 100)
	if err != nil {
		return cursor, err
	}
	for i, c := range changes {
		// A package deleted whole is one delete per version: the first
		// rewrite already reflects them all.
		if c.Kind == registry.GitDeleteTag && i+1 < len(changes) && changes[i+1].Kind == c.Kind && changes[i+1].Package == c.Package {
			continue
		}
		err := w.replay(ctx, c)
		if errors.Is(err, errs.Invalid) || errors.Is(err, errs.Conflict) {
			w.log.Error("a change cannot be applied to git and was passed; fix the cause, then run `dryad-registry git rebuild` for the package",
				"package", c.Package, "version", c.Version, "kind", c.Kind, "err", err)
			err = nil
		}
		if err != nil {
			return c.Index, err
		}
	}
	return next, nil
}

// replay applies one change, as the job it calls for.
func (w *Worker) replay(ctx context.Context, c registry.GitChange) error {
	pk, err := w.src.PackageByName(ctx, c.Package)
	if errors.Is(err, errs.NotFound) {
		return w.repos.Remove(ctx, c.Package)
	}
	if err != nil {
		return err
	}
	jctx, cancel := context.WithTimeout(ctx, w.opts.JobTimeout)
	defer cancel()
	return w.apply(jctx, registry.GitJob{PackageID: pk.ID, Kind: c.Kind, Version: c.Version})
}

// catchUpAll brings every package's repository up to date.
func (w *Worker) catchUpAll(ctx context.Context) error {
	names, err := w.opts.Changes.PackageNames(ctx)
	if err != nil {
		return err
	}
	rewritten := 0
	for _, name := range names {
		did, err := w.catchUp(ctx, name)
		if err != nil && !errors.Is(err, errs.Invalid) {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err != nil {
			w.log.Error("a package cannot be put into git; fix the cause, then run `dryad-registry git rebuild` for it", "package", name, "err", err)
		}
		if did {
			rewritten++
		}
	}
	w.log.Info("git repositories up to date with the registry", "packages", len(names), "made_again", rewritten)
	return nil
}

// catchUp makes a package's repository again unless it already holds
// exactly the recorded commits of the package's live versions (the usual
// case for a folder that was in use), and reports whether it did.
func (w *Worker) catchUp(ctx context.Context, name string) (bool, error) {
	pk, err := w.src.PackageByName(ctx, name)
	if err != nil {
		return false, err
	}
	tags, err := w.repos.Tags(ctx, pk.Name)
	if err != nil && !errors.Is(err, errs.NotFound) {
		return false, err
	}
	live := 0
	upToDate := true
	for i := range pk.Versions {
		v := &pk.Versions[i]
		if v.DeletedAt != nil {
			continue
		}
		live++
		if v.Commit == "" || tags[v.Version] != v.Commit {
			upToDate = false
		}
	}
	if upToDate && live == len(tags) {
		jctx, cancel := context.WithTimeout(ctx, w.opts.JobTimeout)
		defer cancel()
		return false, w.setMain(jctx, w.repos, pk, pk.Versions)
	}
	_, err = w.rewrite(ctx, pk)
	return true, err
}

// wait sleeps for d or until ctx ends.
func (w *Worker) wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (w *Worker) readCursor() (int64, error) {
	b, err := os.ReadFile(filepath.Join(w.repos.Root(), cursorFile))
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s holds %q, not a change index", cursorFile, b)
	}
	return n, nil
}

// writeCursor replaces the cursor file at once (a temporary file renamed
// over it), so a crash leaves the old index or the new one.
func (w *Worker) writeCursor(n int64) error {
	if err := os.MkdirAll(w.repos.Root(), 0o755); err != nil {
		return errs.Wrap(errs.Unavailable, err, "the git folder cannot be created")
	}
	f, err := os.CreateTemp(w.repos.Root(), tmpPrefix+"changes-")
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "cannot record where git is up to")
	}
	_, err = fmt.Fprintf(f, "%d\n", n)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(w.repos.Root(), cursorFile))
	}
	if err != nil {
		os.Remove(f.Name())
		return errs.Wrap(errs.Unavailable, err, "cannot record where git is up to")
	}
	return nil
}
