package archive

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/dryad-lang/registry/internal/errs"
)

// Walk calls fn for each entry of a canonical archive, in archive order.
// content reads the file's bytes (nothing for a directory) and is valid only
// until fn returns. If fn returns fs.SkipAll, Walk stops and returns nil;
// any other error from fn stops Walk and is returned as it is.
//
// Walk is meant for archives the registry wrote. It still refuses entries
// that are not regular files or directories, or whose paths could escape
// the package, so that a damaged blob cannot lead a caller astray.
func Walk(ctx context.Context, r io.Reader, fn func(f File, content io.Reader) error) error {
	zr, err := gzip.NewReader(bufio.NewReader(r))
	if err != nil {
		return fmt.Errorf("archive: reading stored archive: %w", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	lim := DefaultLimits()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("archive: reading stored archive: %w", err)
		}
		f, err := storedFile(hdr, lim)
		if err != nil {
			return err
		}
		var content io.Reader = tr
		if f.IsDir {
			content = strings.NewReader("")
		}
		if err := fn(f, content); err != nil {
			if errors.Is(err, fs.SkipAll) {
				return nil
			}
			return err
		}
	}
}

// storedFile describes one entry of a stored archive.
func storedFile(hdr *tar.Header, lim Limits) (File, error) {
	isDir := hdr.Typeflag == tar.TypeDir
	if !isDir && hdr.Typeflag != tar.TypeReg {
		return File{}, fmt.Errorf("archive: stored archive has entry %s of type %q", quoteName(hdr.Name), hdr.Typeflag)
	}
	// Stored archives were checked with the limits in force then, which may
	// have been larger than today's: judge only the path's safety here.
	lim.MaxPathLength, lim.MaxDepth = 1<<20, 1<<20
	p := cleanPath(hdr.Name, isDir, lim)
	if p.problem != "" || p.root || p.junk {
		return File{}, fmt.Errorf("archive: stored archive has entry %s that is not canonical: %s", quoteName(hdr.Name), p.problem)
	}
	f := File{Path: p.path, IsDir: isDir, Mode: 0o644}
	if isDir || hdr.Mode&0o111 != 0 {
		f.Mode = 0o755
	}
	if !isDir {
		f.Size = hdr.Size
	}
	return f, nil
}

// ReadFile returns the content and description of the file at path in a
// canonical archive. path is relative to the package root ("src/main.dryad";
// a leading or trailing "/" is ignored). For a directory it returns its
// description and no content. The error is errs.NotFound when there is no
// such entry and errs.TooLarge when the file is larger than max bytes (the
// File is returned then too, so that the caller can show its size).
func ReadFile(r io.Reader, path string, max int64) ([]byte, File, error) {
	want := strings.Trim(path, "/")
	var (
		data  []byte
		found File
		ok    bool
	)
	err := Walk(context.Background(), r, func(f File, content io.Reader) error {
		if f.Path != want {
			return nil
		}
		found, ok = f, true
		if f.IsDir {
			return fs.SkipAll
		}
		if f.Size > max {
			return errs.Errorf(errs.TooLarge, "%s is %s; files larger than %s cannot be shown", f.Path, formatSize(f.Size), formatSize(max))
		}
		data = make([]byte, f.Size)
		if _, err := io.ReadFull(content, data); err != nil {
			return fmt.Errorf("archive: reading %s from stored archive: %w", f.Path, err)
		}
		return fs.SkipAll
	})
	if err != nil {
		return nil, found, err
	}
	if !ok {
		return nil, File{}, errs.Errorf(errs.NotFound, "no file %q in this package", want)
	}
	return data, found, nil
}
