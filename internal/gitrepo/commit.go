package gitrepo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
)

// Version is one published version, as CommitVersion records it.
type Version struct {
	Package string
	Version string // SemVer, without a leading v
	// Archive is the version's canonical .tar.gz (files at its root).
	Archive io.Reader
	// AuthorName and AuthorEmail identify the publisher; they are the
	// author, committer and tagger. The email may be a placeholder.
	AuthorName, AuthorEmail string
	// Time is the publish time; it is recorded in UTC, in whole seconds.
	Time time.Time
	// Parent is the commit of the highest version below this one that
	// existed at publish time, or "" for the package's first line.
	Parent string
	// Latest also moves branch main to the new commit.
	Latest bool
}

func (v *Version) check() error {
	if err := checkName(v.Package); err != nil {
		return err
	}
	if err := checkVersion(v.Version); err != nil {
		return err
	}
	if v.Parent != "" {
		if err := checkCommit(v.Parent); err != nil {
			return err
		}
	}
	if v.Archive == nil {
		return errs.New(errs.Invalid, "missing archive")
	}
	if v.Time.IsZero() || v.Time.Unix() <= 0 {
		return errs.New(errs.Invalid, "missing publish time")
	}
	for _, s := range []string{v.AuthorName, v.AuthorEmail} {
		if strings.TrimSpace(s) == "" || strings.ContainsAny(s, "<>\n\x00") {
			return errs.Errorf(errs.Invalid, "invalid author %q <%s>", v.AuthorName, v.AuthorEmail)
		}
	}
	return nil
}

// ident is the author/committer/tagger line of git objects: the same inputs
// always give the same bytes, hence the same ids.
func (v *Version) ident() string {
	return fmt.Sprintf("%s <%s> %d +0000", strings.TrimSpace(v.AuthorName), strings.TrimSpace(v.AuthorEmail), v.Time.UTC().Unix())
}

// CommitVersion records a version in its package's repository, creating the
// repository if needed: one commit holding the archive's files, with message
// "Release {name} v{version}", and an annotated tag v{version}. It returns the
// commit id.
//
// It is idempotent: if the tag already exists on the same commit (a retry, or
// a rebuild), nothing changes. A tag on another commit is a Conflict, since
// tags are never moved in a repository (deleting a version makes a new one,
// see Replace). A missing parent is NotFound (record the parent
// first); a malformed archive is Invalid (retrying cannot help); a folder that
// cannot be written is Unavailable (retry later: nothing was left half-done).
func (r *Repos) CommitVersion(ctx context.Context, v Version) (commit string, err error) {
	defer wrapf(&err, "recording %s %s in git", v.Package, v.Version)
	if err := v.check(); err != nil {
		return "", err
	}
	dir := r.dir(v.Package)
	unlock, err := r.lockCreating(ctx, v.Package)
	if err != nil {
		return "", err
	}
	defer unlock()

	if v.Parent != "" {
		if err := r.checkCommitExists(ctx, dir, v.Parent); err != nil {
			return "", err
		}
	}
	commit, err = r.fastImport(ctx, dir, &v)
	if err != nil {
		return "", err
	}
	tag, err := r.makeTag(ctx, dir, &v, commit)
	if err != nil {
		return "", err
	}
	refs, err := r.refs(ctx, dir)
	if err != nil {
		return "", err
	}
	tagRef := tagsPrefix + tagName(v.Version)
	var updates strings.Builder
	if existing, ok := refs[tagRef]; ok {
		if existing.commit != commit {
			return "", errs.Errorf(errs.Conflict,
				"tag %s of %s already points at commit %s, not %s; tags are never moved",
				tagName(v.Version), v.Package, existing.commit, commit)
		}
	} else {
		fmt.Fprintf(&updates, "create %s %s\n", tagRef, tag)
	}
	if v.Latest {
		old := zeroID
		if m, ok := refs[mainRef]; ok {
			old = m.id
		}
		if old != commit {
			fmt.Fprintf(&updates, "update %s %s %s\n", mainRef, commit, old)
		}
	}
	if err := r.updateRefs(ctx, dir, updates.String()); err != nil {
		return "", err
	}
	r.housekeep(ctx, dir)
	return commit, nil
}

// checkCommitExists reports NotFound unless id is a commit of the repository.
func (r *Repos) checkCommitExists(ctx context.Context, dir, id string) error {
	_, err := r.output(ctx, dir, "rev-parse", "--quiet", "--verify", id+"^{commit}")
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return errs.Wrap(errs.Unavailable, err, "interrupted")
	default:
		return errs.Errorf(errs.NotFound, "commit %s is not in the repository", id)
	}
}

// housekeep repacks the repository when git judges it worthwhile (every
// version adds objects, a pack of its own when it has more than 100, and
// many packs or loose objects slow every clone). It runs under the
// write lock and in the foreground (gc.autoDetach=false). Git is asked only
// when the repository nears git's own thresholds (nearGC), so that most
// commits start no process for it. A failure only delays the repack, so it
// is logged, not returned.
func (r *Repos) housekeep(ctx context.Context, dir string) {
	if !nearGC(dir) {
		return
	}
	if _, err := r.output(ctx, dir, "gc", "--auto", "--quiet"); err != nil {
		r.log.Warn("git gc", "repository", dir, "err", err)
		removeLeftovers(dir, r.log)
	}
}

// nearGC reports whether `git gc --auto` may have work to do in the
// repository at dir, counting as git does: the loose objects of one of the
// 256 object folders (objects/17) stand for 1/256 of them all, and the
// packs are counted. Asking from half of each threshold (gc.auto and
// gc.autoPackLimit, fixed in gitConfig) leaves git the decision whenever
// it could go either way.
func nearGC(dir string) bool {
	loose, _ := os.ReadDir(filepath.Join(dir, "objects", "17"))
	if 2*256*len(loose) >= gcAutoLoose {
		return true
	}
	packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
	return 2*len(packs) >= gcAutoPackLimit
}

// lockCreating takes the write lock of a package's repository, creating the
// repository first when it does not exist (or was just removed).
func (r *Repos) lockCreating(ctx context.Context, pkg string) (func(), error) {
	for attempt := 0; ; attempt++ {
		if err := r.create(ctx, pkg); err != nil {
			return nil, err
		}
		unlock, err := lockRepo(ctx, r.dir(pkg), r.log)
		if !errors.Is(err, errGone) {
			return unlock, err
		}
		if attempt == 3 {
			return nil, errs.New(errs.Unavailable, "the git repository keeps disappearing")
		}
	}
}

// importRef names the commit inside the fast-import stream only: the stream
// resets it before its end, so fast-import never writes it to the repository
// and no temporary ref is ever visible to clients.
const importRef = "refs/dryad/import"

// fastImport writes the version's blobs, tree and commit with one
// `git fast-import` process fed straight from the archive, and returns the
// commit id. It writes objects only; no ref changes.
func (r *Repos) fastImport(ctx context.Context, dir string, v *Version) (string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.git, "--git-dir="+dir, "fast-import",
		"--quiet", "--done", "--date-format=raw")
	cmd.Dir = dir
	cmd.Env = r.env
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", err
	}
	var stdout bytes.Buffer
	stderr := &capped{max: maxStderr}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return "", errs.Wrap(errs.Unavailable, err, "cannot run git")
	}
	pipe := &recordingWriter{w: stdin}
	streamErr := writeStream(bufio.NewWriterSize(pipe, 64<<10), v)
	if streamErr != nil && pipe.err == nil {
		// The archive is at fault: kill fast-import rather than end the
		// stream, so that it never completes a commit from part of an archive.
		cancel()
	}
	stdin.Close()
	waitErr := cmd.Wait()
	if streamErr != nil && pipe.err == nil {
		return "", streamErr
	}
	if waitErr != nil {
		removeLeftovers(dir, r.log)
		err := &gitError{args: []string{"fast-import"}, stderr: stderr.String(), err: errors.Join(ctx.Err(), waitErr)}
		return "", errs.Wrap(errs.Unavailable, err, "cannot write to the git repository")
	}
	if streamErr != nil {
		return "", errs.Wrap(errs.Unavailable, streamErr, "cannot write to the git repository")
	}
	commit := strings.TrimSpace(stdout.String())
	if !commitRE.MatchString(commit) {
		return "", fmt.Errorf("git fast-import returned %q instead of a commit id", commit)
	}
	return commit, nil
}

// writeStream writes the fast-import stream of a version: its blobs, then
// the commit, then asks for the commit's id.
func writeStream(w *bufio.Writer, v *Version) error {
	files, err := streamBlobs(w, v.Archive)
	if err != nil {
		return err
	}
	mark := len(files) + 1
	msg := fmt.Sprintf("Release %s v%s\n", v.Package, v.Version)
	fmt.Fprintf(w, "reset %s\n\ncommit %s\nmark :%d\nauthor %s\ncommitter %s\ndata %d\n%s\n",
		importRef, importRef, mark, v.ident(), v.ident(), len(msg), msg)
	if v.Parent != "" {
		fmt.Fprintf(w, "from %s\n", v.Parent)
	}
	// The tree is exactly the archive's files, whatever the parent holds.
	w.WriteString("deleteall\n")
	for _, f := range files {
		mode := "100644"
		if f.exec {
			mode = "100755"
		}
		fmt.Fprintf(w, "M %s :%d %s\n", mode, f.mark, quotePath(f.path))
	}
	fmt.Fprintf(w, "\nget-mark :%d\nreset %s\n\ndone\n", mark, importRef)
	return w.Flush()
}

// makeTag writes the annotated tag object of a version and returns its id.
func (r *Repos) makeTag(ctx context.Context, dir string, v *Version, commit string) (string, error) {
	tag := fmt.Sprintf("object %s\ntype commit\ntag %s\ntagger %s\n\n%s v%s\n",
		commit, tagName(v.Version), v.ident(), v.Package, v.Version)
	out, err := r.run(ctx, command{gitDir: dir, args: []string{"mktag"}, stdin: strings.NewReader(tag)})
	if err != nil {
		return "", errs.Wrap(errs.Unavailable, err, "cannot write to the git repository")
	}
	id := strings.TrimSpace(string(out))
	if !commitRE.MatchString(id) {
		return "", fmt.Errorf("git mktag returned %q instead of an object id", id)
	}
	return id, nil
}

// recordingWriter remembers the first write error, which tells a failure of
// git (it stopped reading) from a failure of the archive.
type recordingWriter struct {
	w   io.Writer
	err error
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}
