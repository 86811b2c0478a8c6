package gitrepo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
)

// Options configures Open. The zero value is usable.
type Options struct {
	// Git is the path of the git executable; empty means "git" from PATH.
	Git string
	// Logger receives git's diagnostics; nil discards them.
	Logger *slog.Logger
	// MaxRequestBody bounds a smart-HTTP request body after decompression
	// (want/have negotiation only; packs are never uploaded). Default 10 MiB.
	MaxRequestBody int64
	// PushEnv is added to the environment of `git push` to mirrors only,
	// for what a transport may need (HTTPS_PROXY, GIT_SSH_COMMAND, HOME
	// holding ssh keys). It never affects how commits are built.
	PushEnv []string
}

// Repos is the folder of per-package bare repositories (DATA_DIR/git).
// It is safe for concurrent use, also by several processes sharing the folder.
type Repos struct {
	root    string
	git     string
	env     []string
	pushEnv []string
	log     *slog.Logger
	maxBody int64
}

// minGit is the oldest git with everything used here (GIT_CONFIG_COUNT:
// 2.31; core.fsync: 2.36).
var minGit = [2]int{2, 36}

const (
	lockFile    = "dryad.lock"
	tmpPrefix   = ".tmp-"
	trashPrefix = ".trash-"
)

// Open prepares the repositories under root. It fails when git is missing or
// too old; a root that cannot be created yet is not an error (the disk may
// come back), it makes writes fail until it can be.
func Open(root string, opts Options) (*Repos, error) {
	if root == "" {
		return nil, errors.New("gitrepo: empty root folder")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("gitrepo: root folder: %w", err)
	}
	gitPath := opts.Git
	if gitPath == "" {
		gitPath = "git"
	}
	if gitPath, err = exec.LookPath(gitPath); err != nil {
		return nil, fmt.Errorf("gitrepo: the git executable is required: %w", err)
	}
	if gitPath, err = filepath.Abs(gitPath); err != nil {
		return nil, fmt.Errorf("gitrepo: git executable: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Repos{
		root:    abs,
		git:     gitPath,
		env:     baseEnv(gitPath, nil),
		pushEnv: opts.PushEnv,
		log:     log,
		maxBody: opts.MaxRequestBody,
	}
	if r.maxBody <= 0 {
		r.maxBody = 10 << 20
	}
	if err := r.checkGitVersion(context.Background()); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		log.Warn("git folder cannot be created yet; git writes will fail until it can", "root", abs, "err", err)
		return r, nil
	}
	r.sweep(time.Now())
	return r, nil
}

// staleAfter is when a temporary folder is surely abandoned: repository
// creation takes milliseconds, but another instance may be doing one now.
const staleAfter = time.Hour

// sweep deletes what crashed processes left behind: repositories renamed
// away for removal, and repositories whose creation never finished.
func (r *Repos) sweep(now time.Time) {
	entries, err := os.ReadDir(r.root)
	if err != nil {
		r.log.Warn("reading the git folder", "root", r.root, "err", err)
		return
	}
	for _, e := range entries {
		name := e.Name()
		stale := strings.HasPrefix(name, trashPrefix)
		if strings.HasPrefix(name, tmpPrefix) {
			info, err := e.Info()
			stale = err == nil && now.Sub(info.ModTime()) > staleAfter
		}
		if !stale {
			continue
		}
		if err := os.RemoveAll(filepath.Join(r.root, name)); err != nil {
			r.log.Warn("removing a leftover from the git folder", "path", name, "err", err)
		}
	}
}

var gitVersionRE = regexp.MustCompile(`^git version (\d+)\.(\d+)`)

func (r *Repos) checkGitVersion(ctx context.Context) error {
	out, err := r.output(ctx, "", "version")
	if err != nil {
		return fmt.Errorf("gitrepo: running git: %w", err)
	}
	m := gitVersionRE.FindStringSubmatch(out)
	if m == nil {
		return fmt.Errorf("gitrepo: unrecognised git version %q", out)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major < minGit[0] || major == minGit[0] && minor < minGit[1] {
		return fmt.Errorf("gitrepo: %s is too old; git %d.%d or later is required", out, minGit[0], minGit[1])
	}
	return nil
}

// Root is the folder holding the repositories.
func (r *Repos) Root() string { return r.root }

// dir is the repository folder of a package whose name has been checked.
func (r *Repos) dir(pkg string) string { return filepath.Join(r.root, pkg+".git") }

// Exists reports whether the package has a repository.
func (r *Repos) Exists(pkg string) (bool, error) {
	if err := checkName(pkg); err != nil {
		return false, err
	}
	return r.exists(pkg)
}

func (r *Repos) exists(pkg string) (bool, error) {
	_, err := os.Stat(filepath.Join(r.dir(pkg), "HEAD"))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return false, nil
	default:
		return false, errs.Wrap(errs.Unavailable, err, "the git folder cannot be read")
	}
}

// Check reports whether git runs and the root folder is writable, for the
// readiness endpoint.
func (r *Repos) Check(ctx context.Context) error {
	if _, err := r.output(ctx, "", "version"); err != nil {
		return errs.Wrap(errs.Unavailable, err, "git does not run")
	}
	if err := os.MkdirAll(r.root, 0o755); err != nil {
		return errs.Wrap(errs.Unavailable, err, "the git folder cannot be created")
	}
	f, err := os.CreateTemp(r.root, tmpPrefix+"check-")
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "the git folder is not writable")
	}
	// A byte written and synced, not just a name: a full disk still has
	// room for an empty file.
	_, err = f.WriteString("ok")
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	if rerr := os.Remove(f.Name()); err == nil {
		err = rerr
	}
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "the git folder is not writable")
	}
	return nil
}

// create makes the package's repository if it is missing. It is initialised
// in a temporary folder and renamed into place, so no one ever sees a
// half-made repository, and two processes racing to create it both succeed.
func (r *Repos) create(ctx context.Context, pkg string) error {
	if ok, err := r.exists(pkg); err != nil || ok {
		return err
	}
	if err := os.MkdirAll(r.root, 0o755); err != nil {
		return errs.Wrap(errs.Unavailable, err, "the git folder cannot be created")
	}
	tmp := filepath.Join(r.root, tmpPrefix+pkg+"-"+randomSuffix())
	defer os.RemoveAll(tmp)
	if _, err := r.output(ctx, "", "init", "--quiet", "--bare", "--template=",
		"--object-format=sha1", "--initial-branch=main", tmp); err != nil {
		return errs.Wrap(errs.Unavailable, err, "cannot create the git repository")
	}
	f, err := os.OpenFile(filepath.Join(tmp, lockFile), os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "cannot create the git repository")
	}
	f.Close()
	if err := os.Rename(tmp, r.dir(pkg)); err != nil {
		// Another writer created it first: theirs is as good as ours.
		if ok, _ := r.exists(pkg); ok {
			return nil
		}
		return errs.Wrap(errs.Unavailable, err, "cannot create the git repository")
	}
	return syncDir(r.root)
}

// Remove deletes a package's repository (before a rebuild, or when the
// package is deleted). A missing repository is not an error.
func (r *Repos) Remove(ctx context.Context, pkg string) error {
	if err := checkName(pkg); err != nil {
		return err
	}
	unlock, err := lockRepo(ctx, r.dir(pkg), r.log)
	if errors.Is(err, errGone) {
		return nil
	}
	if err != nil {
		return err
	}
	// Renamed away under the lock: writers waiting for it notice that the
	// lock file is no longer at its path and start over.
	trash := filepath.Join(r.root, trashPrefix+pkg+"-"+randomSuffix())
	err = os.Rename(r.dir(pkg), trash)
	unlock()
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "cannot remove the git repository")
	}
	if err := os.RemoveAll(trash); err != nil {
		r.log.Warn("removing an old git repository", "path", trash, "err", err)
	}
	return syncDir(r.root)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "cannot sync the git folder")
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return errs.Wrap(errs.Unavailable, err, "cannot sync the git folder")
	}
	return nil
}

func randomSuffix() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
