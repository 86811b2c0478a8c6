package archive

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// compressionLevel is part of the canonical form: changing it changes the
// bytes, and so the checksum, of every archive produced from then on.
// Level 6 (gzip's own default) keeps publishing fast for large packages.
const compressionLevel = 6

// gzipOSUnknown is the OS byte of the gzip header (RFC 1952: 255, unknown),
// so that the bytes do not depend on where the archive was made.
const gzipOSUnknown = 255

// canonicalWriter writes a canonical archive and measures what it writes.
type canonicalWriter struct {
	sum   hash.Hash
	count countWriter
	zw    *gzip.Writer
	tw    *tar.Writer
	buf   []byte
}

func newCanonicalWriter(dst io.Writer) *canonicalWriter {
	w := &canonicalWriter{sum: sha256.New(), buf: make([]byte, 64<<10)}
	zw, err := gzip.NewWriterLevel(io.MultiWriter(dst, w.sum, &w.count), compressionLevel)
	if err != nil {
		panic(err) // the level is a valid constant
	}
	// A fixed header: no name, no comment, no modification time.
	zw.Header = gzip.Header{OS: gzipOSUnknown}
	w.zw = zw
	w.tw = tar.NewWriter(zw)
	return w
}

// header returns the canonical tar header of n. The format is left to
// archive/tar, which picks USTAR and falls back to PAX only for names USTAR
// cannot hold (long or non-ASCII): the choice depends on the name alone.
func header(n *node) *tar.Header {
	h := &tar.Header{
		Name:    n.tarName(),
		ModTime: ModTime(),
		Mode:    0o644,
	}
	if n.dir {
		h.Typeflag = tar.TypeDir
		h.Mode = 0o755
	} else {
		h.Typeflag = tar.TypeReg
		h.Size = n.size
		if n.exec {
			h.Mode = 0o755
		}
	}
	return h
}

// write adds n; a file's content is read from r, which must hold exactly
// n.size bytes.
func (w *canonicalWriter) write(ctx context.Context, n *node, r io.Reader) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := w.tw.WriteHeader(header(n)); err != nil {
		return fmt.Errorf("archive: writing header of %q: %w", n.path, err)
	}
	if n.dir || n.size == 0 {
		return nil
	}
	copied, err := io.CopyBuffer(w.tw, &ctxReader{ctx: ctx, r: io.LimitReader(r, n.size)}, w.buf)
	if err != nil {
		return err
	}
	if copied != n.size {
		return errShortFile{path: n.path, want: n.size, got: copied}
	}
	return nil
}

// close finishes the archive and returns its length and SHA-256.
func (w *canonicalWriter) close() (int64, string, error) {
	if err := w.tw.Close(); err != nil {
		return 0, "", fmt.Errorf("archive: finishing tar: %w", err)
	}
	if err := w.zw.Close(); err != nil {
		return 0, "", fmt.Errorf("archive: finishing gzip: %w", err)
	}
	return int64(w.count), hex.EncodeToString(w.sum.Sum(nil)), nil
}

// errShortFile reports content shorter than its recorded size: a file that
// shrank while being packed.
type errShortFile struct {
	path      string
	want, got int64
}

func (e errShortFile) Error() string {
	return fmt.Sprintf("%s: expected %d bytes, read %d (did it change while being packed?)", e.path, e.want, e.got)
}

// countWriter counts the bytes written through it.
type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}

// ctxReader stops a long copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
