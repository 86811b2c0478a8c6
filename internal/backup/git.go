package backup

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// gitLockFile is the lock file that internal/gitrepo's writers hold
// (flock, exclusive) inside each repository while they change it. A backup
// takes it shared, so it copies a repository between two writes, never in
// the middle of one, and several backups may copy at once.
const gitLockFile = "dryad.lock"

// addGit copies every repository folder (NAME.git) of root. Folders whose
// name starts with a dot are repositories being created or removed.
func (bw *writer) addGit(ctx context.Context, root string) error {
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the git folder: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".git") {
			continue
		}
		if err := bw.addRepo(ctx, root, name); err != nil {
			return fmt.Errorf("git repository %s: %w", name, err)
		}
	}
	return nil
}

func (bw *writer) addRepo(ctx context.Context, root, name string) error {
	dir := filepath.Join(root, name)
	unlock, err := lockShared(ctx, filepath.Join(dir, gitLockFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil // removed meanwhile
	}
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		member := gitDir + filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			if err := bw.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: member + "/", Mode: 0o755, ModTime: bw.modTime, Format: tar.FormatPAX}); err != nil {
				return writeErr(err)
			}
			return bw.record(Member{Name: member + "/", Dir: true})
		case d.Type().IsRegular():
			if d.Name() == gitLockFile && filepath.Dir(p) == dir {
				return nil
			}
			return bw.addGitFile(member, p)
		default:
			return fmt.Errorf("%s is not a regular file or folder; a registry repository holds none", rel)
		}
	})
	if err != nil {
		return err
	}
	bw.m.Counts.GitRepositories++
	return nil
}

// addGitFile hashes a file, then copies it: its SHA-256 goes in the
// member's header, before the content.
func (bw *writer) addGitFile(member, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := bw.addReader(member, size, hex.EncodeToString(h.Sum(nil)), f); err != nil {
		return err
	}
	bw.m.Counts.GitFiles++
	return nil
}

// lockShared takes a shared flock on path (created if missing, as the
// writers do) until ctx ends. It polls, because a blocked flock(2) cannot
// be interrupted.
func lockShared(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	delay := time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("locking the repository: %w", err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("waiting for the repository's lock: %w", ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}
