package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/dryad-lang/registry/internal/errs"
)

// maxIgnoreFileSize bounds one .gitignore or .oakignore file.
const maxIgnoreFileSize = 1 << 20

// ignoreFiles are read in every folder, in this order: later patterns win.
var ignoreFiles = []string{".gitignore", ".oakignore"}

// Pack writes the canonical archive of the package in folder dir to dst,
// with the same writer as Canonicalize: packing a folder and canonicalizing
// any tarball of the same files give the same bytes.
//
// dir must hold oaklibs.json. Left out are .git, oak_modules and .oak
// folders, macOS metadata, and whatever .gitignore and .oakignore files (at
// the root and in subfolders) ignore. A symbolic link or any other file that
// is neither regular nor a folder is an error, as in an upload.
func Pack(ctx context.Context, dir string, dst io.Writer, lim Limits) (*Package, error) {
	lim = lim.withDefaults()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, errs.Errorf(errs.Invalid, "cannot open package folder: %v", err)
	}
	defer root.Close()
	fsys := root.FS()
	t := newTree(lim)
	ig := newIgnorer()
	if err := loadIgnores(fsys, ".", ig); err != nil {
		return nil, err
	}
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		skip := func() error {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if skippedName(d.Name()) || isJunk([]string{d.Name()}) || ig.ignored(p, d.IsDir()) {
			return skip()
		}
		return packEntry(fsys, p, d, t, ig)
	})
	if err != nil {
		return nil, err
	}
	if _, problem := t.layout(false); problem != "" {
		return nil, errs.Errorf(errs.Invalid, "package folder %s: %s", dir, problem)
	}
	open := func(n *node) (io.ReadCloser, error) { return openPacked(fsys, n) }
	return assemble(ctx, t.sorted(""), "", lim, open, dst)
}

// skippedName reports whether a file or folder is never packed: git's
// metadata and Oak's installed dependencies and cache.
func skippedName(name string) bool {
	return strings.EqualFold(name, ".git") || name == "oak_modules" || name == ".oak"
}

// packEntry checks one file or folder of the package and records it.
func packEntry(fsys fs.FS, p string, d fs.DirEntry, t *tree, ig *ignorer) error {
	typ := d.Type()
	switch {
	case typ&fs.ModeSymlink != 0:
		return errs.Errorf(errs.Invalid, "%s is a symbolic link; packages cannot contain links: replace it with a copy of its target or list it in .oakignore", p)
	case !typ.IsDir() && !typ.IsRegular():
		return errs.Errorf(errs.Invalid, "%s is not a regular file (%s); packages hold only files and folders: list it in .oakignore", p, typ.Type())
	}
	cp := cleanPath(p, d.IsDir(), t.lim)
	if cp.problem != "" {
		return errs.Errorf(errs.Invalid, "%s: %s", p, cp.problem)
	}
	info, err := d.Info()
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	n := &node{path: cp.path, dir: d.IsDir(), explicit: true}
	if !n.dir {
		n.size = info.Size()
		n.exec = info.Mode().Perm()&0o111 != 0
		if t.size+n.size > t.lim.MaxUnpackedSize {
			return errs.Errorf(errs.Invalid, "the files add up to more than %s, which is the limit", formatSize(t.lim.MaxUnpackedSize))
		}
	}
	if msg := t.add(n); msg != "" {
		return errs.Errorf(errs.Invalid, "%s: %s", p, msg)
	}
	if n.dir {
		return loadIgnores(fsys, p, ig)
	}
	return nil
}

// loadIgnores reads the ignore files of folder dir ("." for the root).
func loadIgnores(fsys fs.FS, dir string, ig *ignorer) error {
	key := dir
	if dir == "." {
		key = ""
	}
	for _, name := range ignoreFiles {
		p := path.Join(dir, name)
		info, err := fs.Stat(fsys, p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("archive: %w", err)
		}
		if !info.Mode().IsRegular() {
			continue
		}
		if info.Size() > maxIgnoreFileSize {
			return errs.Errorf(errs.Invalid, "%s is %s; ignore files are limited to %s", p, formatSize(info.Size()), formatSize(maxIgnoreFileSize))
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("archive: %w", err)
		}
		ig.add(key, parseIgnore(string(data)))
	}
	return nil
}

// openPacked opens a file of the folder being packed, checking that it is
// still the regular file of the size seen while walking.
func openPacked(fsys fs.FS, n *node) (io.ReadCloser, error) {
	f, err := fsys.Open(n.path)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("archive: %w", err)
	}
	if !info.Mode().IsRegular() || info.Size() != n.size {
		f.Close()
		return nil, errs.Errorf(errs.Conflict, "%s changed while the package was being packed; try again", n.path)
	}
	return f, nil
}
