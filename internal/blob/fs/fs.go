// Package fs stores blobs as files in a folder:
//
//	ROOT/sha256/ab/abcdef….tar.gz   one blob, named by its SHA-256
//	ROOT/tmp/                       blobs and uploads being written
//	ROOT/quarantine/abcdef….tar.gz  blobs the orphan sweep removed, kept a
//	                                while (modification time: when moved)
//	ROOT/registry-id                the identity of the registry the blobs
//	                                belong to
//
// Writers write into tmp/, fsync, and rename into place, then fsync the
// folder: after Commit returns the blob survives a crash, and before it no
// reader can see it.
package fs

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/blob"
	"github.com/dryad-lang/registry/internal/errs"
)

// Store is a blob.Store in a local folder.
type Store struct {
	root string
}

var _ blob.Store = (*Store)(nil)

// Open returns a store rooted at root, creating its folders.
func Open(root string) (*Store, error) {
	for _, d := range []string{filepath.Join(root, "sha256"), filepath.Join(root, "tmp")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("creating blob folder: %w", err)
		}
	}
	return &Store{root: root}, nil
}

func (s *Store) path(sum string) string {
	return filepath.Join(s.root, "sha256", sum[:2], sum+".tar.gz")
}

// TempDir is the folder for scratch files.
func (s *Store) TempDir() string { return filepath.Join(s.root, "tmp") }

// Create starts a new blob in the temp folder.
func (s *Store) Create(ctx context.Context) (blob.Writer, error) {
	sp, err := blob.NewSpool(s.TempDir())
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "package storage is not writable")
	}
	return &writer{Spool: sp, s: s}, nil
}

// Open opens a stored blob.
func (s *Store) Open(ctx context.Context, sum string) (blob.File, error) {
	if !blob.ValidSum(sum) {
		return nil, errs.Errorf(errs.NotFound, "archive %s not found", sum)
	}
	f, err := os.Open(s.path(sum))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errs.Errorf(errs.NotFound, "archive %s not found", sum)
	}
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "package storage unavailable")
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, errs.Wrap(errs.Unavailable, err, "package storage unavailable")
	}
	return &file{File: f, size: fi.Size()}, nil
}

// Stat returns a blob's size.
func (s *Store) Stat(ctx context.Context, sum string) (int64, error) {
	if !blob.ValidSum(sum) {
		return 0, errs.Errorf(errs.NotFound, "archive %s not found", sum)
	}
	fi, err := os.Stat(s.path(sum))
	if errors.Is(err, os.ErrNotExist) {
		return 0, errs.Errorf(errs.NotFound, "archive %s not found", sum)
	}
	if err != nil {
		return 0, errs.Wrap(errs.Unavailable, err, "package storage unavailable")
	}
	return fi.Size(), nil
}

// Delete removes a blob.
func (s *Store) Delete(ctx context.Context, sum string) error {
	if !blob.ValidSum(sum) {
		return nil
	}
	err := os.Remove(s.path(sum))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return errs.Wrap(errs.Unavailable, err, "package storage unavailable")
	}
	return nil
}

// Walk lists every blob.
func (s *Store) Walk(ctx context.Context, fn func(sum string, size int64) error) error {
	return filepath.WalkDir(filepath.Join(s.root, "sha256"), func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		sum, ok := strings.CutSuffix(d.Name(), ".tar.gz")
		if !ok || !blob.ValidSum(sum) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return fn(sum, fi.Size())
	})
}

// Check writes, syncs and removes a small file.
func (s *Store) Check(ctx context.Context) error {
	f, err := os.CreateTemp(s.TempDir(), "check-*")
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "package storage is not writable")
	}
	name := f.Name()
	_, err = f.WriteString("ok")
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	os.Remove(name)
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "package storage is not writable")
	}
	return nil
}

type writer struct {
	*blob.Spool
	s *Store
}

func (w *writer) Commit(ctx context.Context) (string, error) {
	f := w.File
	if w.Finished() {
		return "", errors.New("blob writer already finished")
	}
	sum := w.Sum()
	fail := func(err error) (string, error) {
		w.Cancel()
		return "", errs.Wrap(errs.Unavailable, err, "storing the package archive failed")
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Chmod(0o640); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	dst := w.s.path(sum)
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fail(err)
	}
	if _, err := os.Stat(dst); err == nil {
		// Same bytes already stored: keep the existing file.
		w.Done()
		os.Remove(f.Name())
		return sum, nil
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return fail(err)
	}
	w.Done()
	if err := syncDir(dir); err != nil {
		return "", errs.Wrap(errs.Unavailable, err, "storing the package archive failed")
	}
	return sum, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

type file struct {
	*os.File
	size int64
}

func (f *file) Size() int64 { return f.size }

func (f *file) OS() *os.File { return f.File }

func (s *Store) quarantined(sum string) string {
	return filepath.Join(s.root, "quarantine", sum+".tar.gz")
}

// Quarantine moves a blob into ROOT/quarantine, stamped with the time.
func (s *Store) Quarantine(ctx context.Context, sum string) error {
	if !blob.ValidSum(sum) {
		return nil
	}
	dst := s.quarantined(sum)
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return errs.Wrap(errs.Unavailable, err, "package storage unavailable")
	}
	if err := os.Rename(s.path(sum), dst); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return errs.Wrap(errs.Unavailable, err, "package storage unavailable")
	}
	now := time.Now()
	if err := os.Chtimes(dst, now, now); err != nil {
		return errs.Wrap(errs.Unavailable, err, "package storage unavailable")
	}
	return nil
}

// walkQuarantine calls fn for every quarantined blob.
func (s *Store) walkQuarantine(fn func(sum, path string, info iofs.FileInfo) error) error {
	dir := filepath.Join(s.root, "quarantine")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "package storage unavailable")
	}
	for _, e := range entries {
		sum, ok := strings.CutSuffix(e.Name(), ".tar.gz")
		if !ok || !blob.ValidSum(sum) {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := fn(sum, filepath.Join(dir, e.Name()), info); err != nil {
			return err
		}
	}
	return nil
}

// PurgeQuarantine deletes the blobs quarantined before cutoff.
func (s *Store) PurgeQuarantine(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	err := s.walkQuarantine(func(_, path string, info iofs.FileInfo) error {
		if !info.ModTime().Before(cutoff) {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		n++
		return nil
	})
	return n, err
}

// RestoreQuarantine moves every quarantined blob back into place.
func (s *Store) RestoreQuarantine(ctx context.Context) (int, error) {
	n := 0
	err := s.walkQuarantine(func(sum, path string, _ iofs.FileInfo) error {
		dst := s.path(sum)
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return err
		}
		if err := os.Rename(path, dst); err != nil {
			return err
		}
		n++
		return nil
	})
	return n, err
}

func (s *Store) identityPath() string { return filepath.Join(s.root, "registry-id") }

// Identity reads ROOT/registry-id.
func (s *Store) Identity(ctx context.Context) (string, error) {
	b, err := os.ReadFile(s.identityPath())
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", errs.Wrap(errs.Unavailable, err, "package storage unavailable")
	}
	return strings.TrimSpace(string(b)), nil
}

// InitIdentity writes ROOT/registry-id unless it exists: the file is
// written aside and linked into place, which fails when another caller
// was first, so nobody ever reads half an identity.
func (s *Store) InitIdentity(ctx context.Context, id string) (string, error) {
	f, err := os.CreateTemp(s.TempDir(), "registry-id-*")
	if err != nil {
		return "", errs.Wrap(errs.Unavailable, err, "package storage is not writable")
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(id + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", errs.Wrap(errs.Unavailable, err, "package storage is not writable")
	}
	if err := os.Link(f.Name(), s.identityPath()); err != nil && !errors.Is(err, os.ErrExist) {
		return "", errs.Wrap(errs.Unavailable, err, "package storage is not writable")
	}
	return s.Identity(ctx)
}
