package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/dryad-lang/registry/internal/errs"
)

// stagePrefix names the folders in which repositories are made again
// before they replace the live ones. It starts with tmpPrefix, so what a
// crash leaves there is swept like any unfinished creation.
const stagePrefix = tmpPrefix + "stage-"

// Stage returns an empty set of repositories beside r (same git, settings
// and logger, same filesystem), in which a package's repository can be made
// again from scratch and then moved into r by Replace, and the function
// that removes it. Readers of r never see the repository half-made.
func (r *Repos) Stage() (*Repos, func(), error) {
	if err := os.MkdirAll(r.root, 0o755); err != nil {
		return nil, nil, errs.Wrap(errs.Unavailable, err, "the git folder cannot be created")
	}
	dir, err := os.MkdirTemp(r.root, stagePrefix)
	if err != nil {
		return nil, nil, errs.Wrap(errs.Unavailable, err, "cannot make a staging folder for git")
	}
	s := *r
	s.root = dir
	return &s, func() {
		if err := os.RemoveAll(dir); err != nil {
			r.log.Warn("removing a git staging folder", "path", dir, "err", err)
		}
	}, nil
}

// Replace makes staged's repository of pkg the live one in r, in one step:
// under the live repository's write lock the two folders are exchanged
// atomically (renameat2 RENAME_EXCHANGE), so a reader finds either the old
// repository or the new one, never none. The old repository ends up in
// staged, for its remover. Writers waiting for the old repository's lock
// notice that its lock file moved away and take the new one's.
func (r *Repos) Replace(ctx context.Context, pkg string, staged *Repos) (err error) {
	defer wrapf(&err, "replacing the git repository of %s", pkg)
	if err := checkName(pkg); err != nil {
		return err
	}
	if staged == r || filepath.Dir(staged.root) != r.root {
		return errs.New(errs.Invalid, "the new repository must come from Stage")
	}
	if ok, err := staged.exists(pkg); err != nil || !ok {
		return errors.Join(errs.Errorf(errs.NotFound, "no staged repository of %s", pkg), err)
	}
	from, to := staged.dir(pkg), r.dir(pkg)
	for attempt := 0; ; attempt++ {
		unlock, err := lockRepo(ctx, to, r.log)
		if errors.Is(err, errGone) {
			// No live repository: moving the new one in is enough, unless
			// another writer creates one meanwhile (then lock that one).
			if err := os.Rename(from, to); err == nil {
				return syncDir(r.root)
			} else if ok, _ := r.exists(pkg); !ok || attempt == 3 {
				return errs.Wrap(errs.Unavailable, err, "cannot move the new repository into place")
			}
			continue
		}
		if err != nil {
			return err
		}
		err = swapFolders(from, to)
		unlock()
		if err != nil {
			return errs.Wrap(errs.Unavailable, err, "cannot move the new repository into place")
		}
		return syncDir(r.root)
	}
}

// swapFolders swaps two folders atomically where the filesystem can
// (RENAME_EXCHANGE: ext4, xfs, btrfs, tmpfs), and otherwise by renames.
func swapFolders(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return swapByRenames(a, b)
	}
	return err
}

// swapByRenames swaps two folders with three renames, leaving an instant
// in which b is absent.
func swapByRenames(a, b string) error {
	aside := b + ".old"
	os.RemoveAll(aside)
	if err := os.Rename(b, aside); err != nil {
		return err
	}
	if err := os.Rename(a, b); err != nil {
		os.Rename(aside, b)
		return err
	}
	return os.Rename(aside, a)
}

// withdrawnMessage is the message of the commit a mirror's main is set to
// once every version of its package is deleted.
const withdrawnMessage = "Every version of %s was deleted from the registry\n"

// Withdraw empties the mirror at remoteURL of a package that has no
// repository left (every version deleted): every tag is deleted there and
// main is forced to a commit with no files. Deleting main itself is not
// tried, since hosts refuse to delete a repository's default branch. The
// commit is the same on every call and every instance (fixed author and
// time), so pushing it again changes nothing.
func (r *Repos) Withdraw(ctx context.Context, pkg, remoteURL string) (err error) {
	defer wrapf(&err, "withdrawing %s from %s", pkg, Redact(remoteURL))
	if err := checkName(pkg); err != nil {
		return err
	}
	stage, remove, err := r.Stage()
	if err != nil {
		return err
	}
	defer remove()
	if err := stage.create(ctx, pkg); err != nil {
		return err
	}
	dir := stage.dir(pkg)
	tree, err := stage.runIn(ctx, dir, nil, "mktree")
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "cannot write to the git repository")
	}
	ident := []string{
		"GIT_AUTHOR_NAME=Dryad Registry", "GIT_AUTHOR_EMAIL=registry@localhost", "GIT_AUTHOR_DATE=946684800 +0000",
		"GIT_COMMITTER_NAME=Dryad Registry", "GIT_COMMITTER_EMAIL=registry@localhost", "GIT_COMMITTER_DATE=946684800 +0000",
	}
	commit, err := stage.runIn(ctx, dir, ident, "commit-tree", "-m", fmt.Sprintf(withdrawnMessage, pkg), tree)
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "cannot write to the git repository")
	}
	if err := stage.updateRefs(ctx, dir, fmt.Sprintf("create %s %s\n", mainRef, commit)); err != nil {
		return err
	}
	return r.pushRefs(ctx, dir, remoteURL)
}

// runIn runs a git command in the repository dir with extra environment
// variables and returns its trimmed output.
func (r *Repos) runIn(ctx context.Context, dir string, extraEnv []string, args ...string) (string, error) {
	var env []string
	if extraEnv != nil {
		env = append(append([]string{}, r.env...), extraEnv...)
	}
	out, err := r.run(ctx, command{gitDir: dir, args: args, env: env, stdin: strings.NewReader("")})
	return strings.TrimSpace(string(out)), err
}
