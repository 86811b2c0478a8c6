package backup

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/dryad-lang/registry/internal/blob"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
)

// RestoreOptions configure Restore.
type RestoreOptions struct {
	// Store receives the metadata; it must implement store.Dumper.
	Store store.Store
	// Blobs receives the package archives.
	Blobs blob.Store
	// GitDir receives the git repositories of a backup made with them.
	GitDir string
	// Force deletes what the target holds (records, archives, git
	// repositories) instead of refusing a target that is not empty.
	Force bool
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

// Restore loads the backup file at path into an empty registry. The whole
// file is checked first (Check), so a damaged backup changes nothing. Then
// the archives and git repositories are written and the metadata loaded in
// one transaction, committed last: the registry never shows a version whose
// archive is not in place. If loading fails half-way, what was written is
// removed again and the target is left empty.
//
// A target that holds records, archives or repositories is refused with
// errs.Conflict, unless Force is set; then its contents are deleted first
// (and a restore that fails after that leaves it empty).
func Restore(ctx context.Context, path string, o RestoreOptions) (*Manifest, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	dumper, ok := o.Store.(store.Dumper)
	if !ok {
		return nil, fmt.Errorf("restore: the %s store cannot load records", o.Store.Driver())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, errs.Errorf(errs.Invalid, "opening the backup: %v", err)
	}
	defer f.Close()
	m, err := Check(ctx, bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, err
	}
	o.Logger.Info("restore: backup checked", "created", m.Created, "engine", m.Engine, "archives", m.Counts.Archives)
	if m.WithGit && o.GitDir == "" {
		return nil, errs.New(errs.Invalid, "the backup holds git repositories but no git folder is configured")
	}

	if !o.Force {
		var held []string
		n, err := countBlobs(ctx, o.Blobs)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			held = append(held, fmt.Sprintf("%d archives in package storage", n))
		}
		if repos := gitEntries(o.GitDir); len(repos) > 0 && m.WithGit {
			held = append(held, fmt.Sprintf("%d entries in the git folder", len(repos)))
		}
		if len(held) > 0 {
			return nil, errs.Errorf(errs.Conflict, "the target registry is not empty (%s)", strings.Join(held, ", "))
		}
	}

	wrote := false // anything written to storage or the git folder
	cleanup := func() {
		if !wrote && !o.Force {
			return
		}
		ctx := context.WithoutCancel(ctx)
		if err := wipeBlobs(ctx, o.Blobs); err != nil {
			o.Logger.Error("restore: removing the archives written", "err", err)
		}
		if m.WithGit || o.Force {
			if err := wipeGit(o.GitDir); err != nil {
				o.Logger.Error("restore: removing the git repositories written", "err", err)
			}
		}
		if o.Force {
			// The records were deleted in the rolled-back transaction;
			// delete them for good so the target is consistently empty.
			if err := dumper.Load(ctx, store.LoadOptions{Replace: true}, func(store.InsertFunc) error { return nil }); err != nil {
				o.Logger.Error("restore: emptying the database", "err", err)
			}
		}
	}

	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	started := false
	err = dumper.Load(ctx, store.LoadOptions{Replace: o.Force}, func(insert store.InsertFunc) error {
		started = true
		if o.Force {
			wrote = true
			if err := wipeBlobs(ctx, o.Blobs); err != nil {
				return err
			}
			if err := wipeGit(o.GitDir); err != nil {
				return err
			}
		}
		r := &restorer{blobs: o.Blobs, gitDir: o.GitDir, insert: insert, wrote: &wrote}
		if err := r.run(ctx, tar.NewReader(bufio.NewReaderSize(f, 1<<20))); err != nil {
			return err
		}
		if r.gitFiles > 0 {
			// Git files are written without a sync each (thousands of
			// small files); one sync makes them durable before the
			// metadata commits.
			syscall.Sync()
		}
		return nil
	})
	if err != nil {
		cleanup()
		if !started && errors.Is(err, errs.Conflict) {
			return nil, errs.Errorf(errs.Conflict, "the target registry is not empty: %s", errs.Message(err))
		}
		return nil, err
	}
	return m, nil
}

// restorer applies the members of a checked backup.
type restorer struct {
	blobs  blob.Store
	gitDir string
	insert store.InsertFunc
	wrote  *bool
	// gitFiles counts the git files written.
	gitFiles int
}

func (r *restorer) run(ctx context.Context, tr *tar.Reader) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err != nil {
			return fmt.Errorf("reading the backup: %w", err)
		}
		if h.Name == manifestName {
			return nil
		}
		if h.Name == headerName {
			continue
		}
		if h.Typeflag == tar.TypeDir {
			rel, err := gitPath(h.Name)
			if err != nil {
				return err
			}
			*r.wrote = true
			if err := os.MkdirAll(filepath.Join(r.gitDir, filepath.FromSlash(rel)), 0o755); err != nil {
				return fmt.Errorf("restoring the git folder: %w", err)
			}
			continue
		}
		want := h.PAXRecords[paxSHA256]
		sum := sha256.New()
		body := io.TeeReader(tr, sum)
		switch {
		case strings.HasPrefix(h.Name, metadataDir):
			table, _ := tableOfMember(h.Name)
			if err := r.loadTable(table, body); err != nil {
				return err
			}
		case strings.HasPrefix(h.Name, packagesDir):
			name, _ := blobOfMember(h.Name)
			*r.wrote = true
			if err := r.restoreBlob(ctx, name, body); err != nil {
				return err
			}
		default:
			rel, err := gitPath(h.Name)
			if err != nil {
				return err
			}
			*r.wrote = true
			if err := writeFile(filepath.Join(r.gitDir, filepath.FromSlash(rel)), body); err != nil {
				return fmt.Errorf("restoring the git folder: %w", err)
			}
			r.gitFiles++
		}
		if _, err := io.Copy(io.Discard, body); err != nil {
			return fmt.Errorf("reading the backup: %w", err)
		}
		if got := hex.EncodeToString(sum.Sum(nil)); got != want {
			return corrupt("member %s changed while restoring: its SHA-256 is %s, the backup recorded %s", h.Name, got, want)
		}
	}
}

// loadTable inserts the rows of one metadata member.
func (r *restorer) loadTable(table string, body io.Reader) error {
	gz, err := gzip.NewReader(body)
	if err != nil {
		return corrupt("metadata of %s: %v", table, err)
	}
	dec := json.NewDecoder(gz)
	dec.UseNumber()
	var th tableHeader
	if err := dec.Decode(&th); err != nil || th.Table != table {
		return corrupt("metadata of %s: bad header line", table)
	}
	for n := 1; dec.More(); n++ {
		var row []any
		if err := dec.Decode(&row); err != nil {
			return corrupt("metadata of %s, row %d: %v", table, n, err)
		}
		if err := r.insert(table, th.Columns, row); err != nil {
			return fmt.Errorf("restoring %s: %w", table, err)
		}
	}
	return nil
}

// restoreBlob stores one archive, checking its bytes against its name.
func (r *restorer) restoreBlob(ctx context.Context, sum string, body io.Reader) error {
	w, err := r.blobs.Create(ctx)
	if err != nil {
		return err
	}
	defer w.Cancel()
	if _, err := io.Copy(w, body); err != nil {
		return fmt.Errorf("restoring archive %s: %w", sum, err)
	}
	if w.Sum() != sum {
		return corrupt("archive %s has SHA-256 %s", sum, w.Sum())
	}
	if _, err := w.Commit(ctx); err != nil {
		return fmt.Errorf("restoring archive %s: %w", sum, err)
	}
	return nil
}

func writeFile(path string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func countBlobs(ctx context.Context, blobs blob.Store) (int, error) {
	n := 0
	err := blobs.Walk(ctx, func(string, int64) error {
		n++
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reading package storage: %w", err)
	}
	return n, nil
}

func wipeBlobs(ctx context.Context, blobs blob.Store) error {
	return blobs.Walk(ctx, func(sum string, _ int64) error {
		return blobs.Delete(ctx, sum)
	})
}

// gitEntries lists what the git folder holds.
func gitEntries(dir string) []string {
	if dir == "" {
		return nil
	}
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func wipeGit(dir string) error {
	for _, name := range gitEntries(dir) {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("emptying the git folder: %w", err)
		}
	}
	return nil
}
