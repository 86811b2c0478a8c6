package gitrepo

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
)

// errGone means the repository did not exist, or was removed while waiting
// for its lock.
var errGone = errors.New("repository does not exist")

// lockRepo takes the exclusive write lock of a repository and returns the
// function that releases it. flock(2) holds between goroutines (each open
// file is its own lock owner) and between processes sharing the folder, and
// the kernel drops it when a process dies, so a crash never leaves it held.
// Once it is held, what a git process of ours left when it was killed or
// failed is removed (see removeLeftovers).
func lockRepo(ctx context.Context, dir string, log *slog.Logger) (unlock func(), err error) {
	path := filepath.Join(dir, lockFile)
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				return nil, errGone
			}
			return nil, errs.Wrap(errs.Unavailable, err, "cannot lock the git repository")
		}
		if err := flock(ctx, f); err != nil {
			f.Close()
			return nil, err
		}
		// Remove renames the repository away under the lock; a lock on a
		// file that is no longer at its path protects nothing.
		held, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, errs.Wrap(errs.Unavailable, err, "cannot lock the git repository")
		}
		now, err := os.Stat(path)
		if err == nil && os.SameFile(held, now) {
			removeLeftovers(dir, log)
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		f.Close()
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, errs.Wrap(errs.Unavailable, err, "cannot lock the git repository")
		}
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return nil, errGone
		}
	}
}

// flock waits for an exclusive lock on f until ctx is done. It polls with a
// non-blocking flock because a blocked flock(2) cannot be interrupted.
func flock(ctx context.Context, f *os.File) error {
	delay := time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return errs.Wrap(errs.Unavailable, err, "cannot lock the git repository")
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return errs.Wrap(errs.Unavailable, ctx.Err(), "gave up waiting for the git repository lock")
		case <-t.C:
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}

// removeLeftovers removes what a git process writing to the repository
// left when it was killed (a shutdown cancels running jobs) or failed: the
// lock files git takes on refs, packed-refs, HEAD and config, which would
// fail every later write with "Unable to create '….lock': File exists",
// and the packs and indexes it was writing (objects/pack/tmp_*), which on
// a full disk hold the space a retry needs. It runs under the repository's
// write lock: every git process that writes here takes that lock first
// (readers serving clones and mirror pushes to a URL take no git lock), so
// any such file then belongs to a writer that is gone.
func removeLeftovers(dir string, log *slog.Logger) {
	var leftovers []string
	for _, pattern := range []string{"objects/pack/tmp_*", "*.lock"} {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		leftovers = append(leftovers, m...)
	}
	filepath.WalkDir(filepath.Join(dir, "refs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".lock") {
			leftovers = append(leftovers, p)
		}
		return nil
	})
	for _, p := range leftovers {
		if filepath.Base(p) == lockFile {
			continue // ours, held right now
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			log.Warn("removing what a git process left", "file", p, "err", err)
		} else if err == nil {
			log.Info("removed what a git process left", "file", p)
		}
	}
}
