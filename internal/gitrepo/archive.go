package gitrepo

import (
	"archive/tar"
	"bufio"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/dryad-lang/registry/internal/errs"
)

// file is one regular file of a version, already written to fast-import as
// the blob numbered mark.
type file struct {
	path string
	exec bool
	mark int
}

// maxPathLen bounds an entry's path; canonical archives stay far below it.
const maxPathLen = 4096

// streamBlobs reads a canonical .tar.gz (package files at the root, regular
// files and directories only) and writes each file to fast-import as a blob,
// without holding any file in memory. Directories only shape the tree: git
// does not store empty ones.
func streamBlobs(w *bufio.Writer, archive io.Reader) ([]file, error) {
	gz, err := gzip.NewReader(archive)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "the archive is not gzip-compressed")
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	var files []file
	kinds := map[string]byte{} // path -> 'f' (file) or 'd' (directory)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, archiveReadError(err)
		}
		switch hdr.Typeflag {
		case tar.TypeXGlobalHeader:
			continue // metadata for the whole archive, not an entry
		case tar.TypeDir:
			p, err := entryPath(hdr.Name, true)
			if err != nil {
				return nil, err
			}
			if p == "" {
				continue
			}
			if err := claim(kinds, p, 'd'); err != nil {
				return nil, err
			}
		case tar.TypeReg: // the reader reports old-style TypeRegA entries as TypeReg
			p, err := entryPath(hdr.Name, false)
			if err != nil {
				return nil, err
			}
			if err := claim(kinds, p, 'f'); err != nil {
				return nil, err
			}
			mark := len(files) + 1
			fmt.Fprintf(w, "blob\nmark :%d\ndata %d\n", mark, hdr.Size)
			if _, err := io.Copy(w, tr); err != nil {
				return nil, archiveReadError(err)
			}
			w.WriteByte('\n')
			files = append(files, file{path: p, exec: hdr.Mode&0o111 != 0, mark: mark})
		default:
			return nil, errs.Errorf(errs.Invalid,
				"archive entry %q is not a regular file or a directory; only those can be published", hdr.Name)
		}
	}
}

// archiveReadError gives a failure to read the archive its kind: a damaged
// archive is Invalid (retrying cannot help), anything else (the disk holding
// it, or git no longer reading) may pass.
func archiveReadError(err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errs.Wrap(errs.Invalid, err, "the archive is truncated")
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader),
		errors.Is(err, tar.ErrHeader), errors.Is(err, tar.ErrFieldTooLong):
		return errs.Wrap(errs.Invalid, err, "the archive is not a valid tar.gz")
	}
	var flateErr flate.CorruptInputError
	if errors.As(err, &flateErr) {
		return errs.Wrap(errs.Invalid, err, "the archive is not a valid tar.gz")
	}
	return errs.Wrap(errs.Unavailable, err, "cannot read the archive")
}

// entryPath checks that an entry's name is a plain relative path and returns
// it without a leading "./" (and, for a directory, without the trailing
// slash). The archive's root directory itself gives "".
func entryPath(name string, dir bool) (string, error) {
	p := strings.TrimPrefix(name, "./")
	if dir {
		p = strings.TrimSuffix(p, "/")
	}
	if p == "" && dir {
		return "", nil
	}
	bad := func(why string) error {
		return errs.Errorf(errs.Invalid, "archive entry %q is refused: %s", name, why)
	}
	switch {
	case p == "":
		return "", bad("empty path")
	case len(p) > maxPathLen:
		return "", bad("path too long")
	case !utf8.ValidString(p):
		return "", bad("path is not UTF-8")
	case strings.HasPrefix(p, "/"):
		return "", bad("absolute path")
	case strings.ContainsAny(p, "\\\x00"):
		return "", bad("backslash or NUL in path")
	case path.Clean(p) != p:
		return "", bad("path is not clean")
	}
	for _, c := range strings.Split(p, "/") {
		if c == "." || c == ".." {
			return "", bad("relative path component")
		}
		if strings.EqualFold(c, ".git") {
			return "", bad("git cannot store a .git folder")
		}
		for _, r := range c {
			if r < 0x20 || r == 0x7f {
				return "", bad("control character in path")
			}
		}
	}
	return p, nil
}

// claim records that p is a file or a directory, and refuses an archive in
// which one path would be both, or one file would appear twice.
func claim(kinds map[string]byte, p string, kind byte) error {
	if prev, ok := kinds[p]; ok && (prev == 'f' || kind == 'f') {
		return errs.Errorf(errs.Invalid, "archive entry %q appears twice", p)
	}
	kinds[p] = kind
	for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
		if kinds[dir] == 'f' {
			return errs.Errorf(errs.Invalid, "archive entry %q is inside %q, which is a file", p, dir)
		}
		kinds[dir] = 'd'
	}
	return nil
}

// quotePath writes p in fast-import's C-style quoting, which accepts any
// byte sequence (spaces, quotes, non-ASCII) unambiguously.
func quotePath(p string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
