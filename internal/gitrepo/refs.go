package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dryad-lang/registry/internal/errs"
)

// ref is a ref's own object id and the commit it leads to (the same for a
// branch; the tagged commit for an annotated tag).
type ref struct {
	id, commit string
}

// refs lists the repository's branches and tags.
func (r *Repos) refs(ctx context.Context, dir string) (map[string]ref, error) {
	out, err := r.output(ctx, dir, "for-each-ref",
		"--format=%(refname) %(objectname) %(*objectname)", "refs/heads/", "refs/tags/")
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "cannot read the git repository")
	}
	refs := map[string]ref{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		rf := ref{id: f[1], commit: f[1]}
		if len(f) == 3 {
			rf.commit = f[2]
		}
		refs[f[0]] = rf
	}
	return refs, nil
}

// updateRefs applies `git update-ref --stdin` instructions as one
// transaction: all of them or none, each checked against its old value.
func (r *Repos) updateRefs(ctx context.Context, dir, instructions string) error {
	if instructions == "" {
		return nil
	}
	_, err := r.run(ctx, command{gitDir: dir, args: []string{"update-ref", "--stdin"},
		stdin: strings.NewReader(instructions)})
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "cannot update the git repository's refs")
	}
	return nil
}

// openLocked takes the write lock of an existing repository; errGone means
// there is none.
func (r *Repos) openLocked(ctx context.Context, pkg string) (dir string, unlock func(), err error) {
	if err := checkName(pkg); err != nil {
		return "", nil, err
	}
	dir = r.dir(pkg)
	unlock, err = lockRepo(ctx, dir, r.log)
	return dir, unlock, err
}

// SetMain points branch main at commit, the commit of the package's latest
// version. main may move backwards (when the latest version is yanked or
// deleted), unlike tags.
func (r *Repos) SetMain(ctx context.Context, pkg, commit string) (err error) {
	defer wrapf(&err, "moving main of %s", pkg)
	if err := checkCommit(commit); err != nil {
		return err
	}
	dir, unlock, err := r.openLocked(ctx, pkg)
	if errors.Is(err, errGone) {
		return errs.Errorf(errs.NotFound, "package %s has no git repository", pkg)
	}
	if err != nil {
		return err
	}
	defer unlock()
	if err := r.checkCommitExists(ctx, dir, commit); err != nil {
		return err
	}
	refs, err := r.refs(ctx, dir)
	if err != nil {
		return err
	}
	old := zeroID
	if m, ok := refs[mainRef]; ok {
		old = m.id
	}
	if old == commit {
		return nil
	}
	return r.updateRefs(ctx, dir, fmt.Sprintf("update %s %s %s\n", mainRef, commit, old))
}

// DeleteTag removes the tag of a deleted version. A tag or repository that
// does not exist is not an error, so the call can be retried.
func (r *Repos) DeleteTag(ctx context.Context, pkg, version string) (err error) {
	defer wrapf(&err, "deleting tag v%s of %s", version, pkg)
	if err := checkVersion(version); err != nil {
		return err
	}
	dir, unlock, err := r.openLocked(ctx, pkg)
	if errors.Is(err, errGone) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unlock()
	refs, err := r.refs(ctx, dir)
	if err != nil {
		return err
	}
	name := tagsPrefix + tagName(version)
	t, ok := refs[name]
	if !ok {
		return nil
	}
	return r.updateRefs(ctx, dir, fmt.Sprintf("delete %s %s\n", name, t.id))
}

// Tags returns the commit of every tagged version (version -> commit id).
// A package without a repository is NotFound.
func (r *Repos) Tags(ctx context.Context, pkg string) (map[string]string, error) {
	refs, err := r.readRefs(ctx, pkg)
	if err != nil {
		return nil, err
	}
	tags := map[string]string{}
	for name, rf := range refs {
		if v, ok := strings.CutPrefix(name, tagsPrefix+"v"); ok {
			tags[v] = rf.commit
		}
	}
	return tags, nil
}

// Main returns the commit branch main points at, or "" when it is not set.
// A package without a repository is NotFound.
func (r *Repos) Main(ctx context.Context, pkg string) (string, error) {
	refs, err := r.readRefs(ctx, pkg)
	if err != nil {
		return "", err
	}
	return refs[mainRef].commit, nil
}

// readRefs reads a repository's refs without the write lock: ref reads are
// atomic in git.
func (r *Repos) readRefs(ctx context.Context, pkg string) (map[string]ref, error) {
	if err := checkName(pkg); err != nil {
		return nil, err
	}
	ok, err := r.exists(pkg)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.Errorf(errs.NotFound, "package %s has no git repository", pkg)
	}
	return r.refs(ctx, r.dir(pkg))
}

// wrapf adds context to a non-nil error once per function.
func wrapf(err *error, format string, args ...any) {
	if *err != nil {
		*err = fmt.Errorf(format+": %w", append(args, *err)...)
	}
}
