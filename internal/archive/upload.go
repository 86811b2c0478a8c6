package archive

import (
	"archive/tar"
	"bufio"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/dryad-lang/registry/internal/errs"
)

// headerAllowance is how many bytes of tar headers, padding and trailer each
// entry may add to the uncompressed stream on top of its content. It bounds
// the work a stream of metadata alone can cause (chains of PAX headers,
// long-name records, zero padding) while leaving room for real archives,
// whose headers rarely pass 2 KiB.
const headerAllowance = 8 << 10

// spoolReader reads an upload (pass 1 of Canonicalize): it checks every
// entry, copies the content of the files to keep into the spool file, one
// after the other, and records where each one starts. The offsets are those
// of its own writes, not positions in the tar stream, so they hold however
// archive/tar buffers its input, and the spool holds content only: never
// more than Limits.MaxUnpackedSize bytes.
type spoolReader struct {
	ctx   context.Context
	lim   Limits
	spool *os.File
	tree  *tree
	// stream is the uncompressed tar stream, counted and bounded.
	stream  *boundedReader
	off     int64 // bytes written to the spool
	headers int   // tar entries seen, dropped ones included
	seen    int64 // content bytes of every file entry, dropped ones included
	last    string
	buf     []byte
}

// read consumes the gzip-compressed tar stream src to its very end.
func (s *spoolReader) read(src io.Reader) error {
	zr, err := gzip.NewReader(bufio.NewReaderSize(src, 64<<10))
	switch {
	case errors.Is(err, io.EOF):
		return errs.New(errs.Invalid, "archive: the upload is empty; send a .tar.gz file")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errs.New(errs.Invalid, "archive: the upload is truncated (it ends inside the gzip header)")
	case errors.Is(err, gzip.ErrHeader):
		return errs.New(errs.Invalid, "archive: the upload is not gzip-compressed; send a .tar.gz file")
	case err != nil:
		return s.streamErr(err)
	}
	defer zr.Close()
	bound := s.lim.MaxUnpackedSize + int64(s.lim.MaxEntries)*headerAllowance + 1<<20
	s.stream = &boundedReader{ctx: s.ctx, r: zr, max: bound}
	tr := tar.NewReader(s.stream)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !(errors.Is(err, tar.ErrInsecurePath) && hdr != nil) {
			// ErrInsecurePath (only with GODEBUG=tarinsecurepath=0) comes
			// with a header; cleanPath judges such names itself.
			return s.streamErr(err)
		}
		if err := s.entry(tr, hdr); err != nil {
			return err
		}
	}
	return s.trailer()
}

// entry checks one tar entry and spools its content when it is kept.
func (s *spoolReader) entry(tr *tar.Reader, hdr *tar.Header) error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	s.headers++
	if s.headers > s.lim.MaxEntries {
		return errs.Errorf(errs.Invalid, "archive: more than %d entries; that is the limit", s.lim.MaxEntries)
	}
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		// git archive writes one, holding the commit id as a comment.
		for k := range hdr.PAXRecords {
			if k != "comment" {
				return errs.Errorf(errs.Invalid, "archive: global PAX header with a %q record is not supported; only comments are", k)
			}
		}
		return nil
	}
	s.last = hdr.Name
	isDir := hdr.Typeflag == tar.TypeDir
	p := cleanPath(hdr.Name, isDir, s.lim)
	if p.problem != "" {
		return entryErr(hdr.Name, p.problem)
	}
	if hdr.Typeflag == tar.TypeReg {
		// Count what is read even for dropped files: it is work all the same.
		s.seen += hdr.Size
		if s.seen > s.lim.MaxUnpackedSize {
			return errs.Errorf(errs.Invalid, "archive: the files add up to more than %s unpacked, which is the limit", formatSize(s.lim.MaxUnpackedSize))
		}
	}
	if p.root || p.junk {
		return nil
	}
	if msg := unsupportedType(hdr); msg != "" {
		return entryErr(hdr.Name, msg)
	}
	n := &node{path: p.path, dir: isDir, explicit: true}
	if !isDir {
		n.exec = hdr.Mode&0o111 != 0
		n.size = hdr.Size
		n.off = s.off
	}
	if msg := s.tree.add(n); msg != "" {
		return entryErr(hdr.Name, msg)
	}
	if isDir || hdr.Size == 0 {
		return nil
	}
	// Hide the spool's ReadFrom, which would allocate a buffer per file.
	copied, err := io.CopyBuffer(struct{ io.Writer }{s.spool}, tr, s.buf)
	s.off += copied
	if err != nil {
		var werr *os.PathError
		if errors.As(err, &werr) {
			return fmt.Errorf("archive: writing spool file: %w", err)
		}
		return s.streamErr(err)
	}
	if copied != hdr.Size {
		return entryErr(hdr.Name, "the archive is truncated inside this file")
	}
	return nil
}

// unsupportedType says why an entry's type is refused, or returns "".
func unsupportedType(hdr *tar.Header) string {
	switch hdr.Typeflag {
	case tar.TypeReg:
		for k := range hdr.PAXRecords {
			if strings.HasPrefix(k, "GNU.sparse.") {
				return "sparse files are not supported; archive the file without --sparse"
			}
		}
		return ""
	case tar.TypeDir:
		return ""
	case tar.TypeSymlink:
		return fmt.Sprintf("symbolic links are not allowed (this one points to %q); put the file itself in the archive", hdr.Linkname)
	case tar.TypeLink:
		return fmt.Sprintf("hard links are not allowed (this one points to %q); put the file itself in the archive", hdr.Linkname)
	case tar.TypeChar, tar.TypeBlock:
		return "device files are not allowed; only regular files and folders are"
	case tar.TypeFifo:
		return "named pipes (FIFOs) are not allowed; only regular files and folders are"
	case tar.TypeGNUSparse:
		return "sparse files are not supported; archive the file without --sparse"
	}
	return fmt.Sprintf("tar entry type %q is not supported; only regular files and folders are", hdr.Typeflag)
}

// trailer checks what follows the end of the tar archive: zero padding is
// fine (tar pads to whole records), anything else is data that a different
// reader might take for more files.
func (s *spoolReader) trailer() error {
	for {
		n, err := s.stream.Read(s.buf)
		for _, b := range s.buf[:n] {
			if b != 0 {
				return errs.New(errs.Invalid, "archive: there is data after the end of the tar archive; upload a single tar archive")
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return s.streamErr(err)
		}
	}
}

// streamErr turns an error met while reading the upload into the message
// the user needs.
func (s *spoolReader) streamErr(err error) error {
	var corrupt flate.CorruptInputError
	var e *errs.Error
	switch {
	case s.stream != nil && s.stream.exceeded:
		return errs.Errorf(errs.Invalid, "archive: the uncompressed archive is larger than %s (file contents plus tar headers); the limit on the files is %s", formatSize(s.stream.max), formatSize(s.lim.MaxUnpackedSize))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &e):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errs.New(errs.Invalid, "archive: the upload is truncated"+s.where())
	case errors.Is(err, gzip.ErrChecksum):
		return errs.New(errs.Invalid, "archive: the gzip checksum does not match; the upload is corrupt or truncated")
	case errors.Is(err, gzip.ErrHeader):
		return errs.New(errs.Invalid, "archive: there is data after the end of the gzip stream that is not gzip; upload a single .tar.gz file")
	case errors.As(err, &corrupt):
		return errs.Errorf(errs.Invalid, "archive: the gzip data is corrupt at byte %d of the upload", int64(corrupt))
	case errors.Is(err, tar.ErrHeader) && s.headers == 0:
		return errs.New(errs.Invalid, "archive: the gzip content is not a tar archive; send a .tar.gz file")
	case strings.HasPrefix(err.Error(), "archive/tar:"):
		return errs.Errorf(errs.Invalid, "archive: invalid tar data%s: %s", s.where(), strings.TrimPrefix(err.Error(), "archive/tar: "))
	}
	return fmt.Errorf("archive: reading upload: %w", err)
}

// where names the last entry read, for error messages.
func (s *spoolReader) where() string {
	if s.last == "" {
		return ""
	}
	return fmt.Sprintf(" (at entry %s)", quoteName(s.last))
}

// boundedReader counts the bytes of the uncompressed stream and fails once
// there are more than max, which stops a gzip bomb early. It also stops
// reading when ctx ends.
type boundedReader struct {
	ctx      context.Context
	r        io.Reader
	n, max   int64
	exceeded bool
}

var errStreamTooLarge = errors.New("uncompressed stream over its limit")

func (b *boundedReader) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	if b.n >= b.max {
		// Read one byte more than allowed before failing: a stream of
		// exactly max bytes is fine.
		var one [1]byte
		n, err := io.ReadFull(b.r, one[:])
		if n == 0 {
			return 0, err
		}
		b.exceeded = true
		return 0, errStreamTooLarge
	}
	if rest := b.max - b.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}

// entryErr is the error for a refused entry, naming it.
func entryErr(name, problem string) error {
	return errs.Errorf(errs.Invalid, "archive entry %s: %s", quoteName(name), problem)
}

// quoteName quotes an entry name for a message, shortened if it is long:
// tar allows names of a megabyte.
func quoteName(name string) string {
	const max = 200
	if len(name) <= max {
		return fmt.Sprintf("%q", name)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return fmt.Sprintf("%q…", name[:cut])
}

// formatSize writes a byte count the way limits are configured.
func formatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB (%d bytes)", float64(n)/(1<<20), n)
	}
	return fmt.Sprintf("%d bytes", n)
}
