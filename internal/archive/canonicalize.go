package archive

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/dryad-lang/registry/internal/errs"
)

// Canonicalize reads an uploaded package archive (gzip-compressed tar) from
// src, checks it, and writes its canonical form to dst.
//
// src is read once, to its end. The content of the files is spooled to one
// temporary file in tmpDir, removed before Canonicalize returns; memory use
// does not grow with the size of the archive or of its files. Nothing is
// written to dst unless the whole upload is acceptable, but on an error dst
// may hold a partial archive, which the caller discards.
//
// The files may sit at the root of the archive or inside a single top-level
// folder, which is then removed. macOS metadata (__MACOSX/, ._* files,
// .DS_Store) is dropped. An archive breaking a rule or a limit is refused
// with an errs.Invalid error naming the entry and the rule.
func Canonicalize(ctx context.Context, src io.Reader, dst io.Writer, tmpDir string, lim Limits) (*Package, error) {
	lim = lim.withDefaults()
	spool, err := os.CreateTemp(tmpDir, ".archive-spool-*")
	if err != nil {
		return nil, fmt.Errorf("archive: creating spool file: %w", err)
	}
	// Where the system allows it, the name goes at once and the open file
	// lives on: even a crash leaves nothing behind. Elsewhere (Windows) the
	// file is removed once closed.
	unlinked := os.Remove(spool.Name()) == nil
	defer func() {
		spool.Close()
		if !unlinked {
			os.Remove(spool.Name())
		}
	}()

	s := &spoolReader{ctx: ctx, lim: lim, spool: spool, tree: newTree(lim), buf: make([]byte, 64<<10)}
	if err := s.read(src); err != nil {
		return nil, err
	}
	prefix, problem := s.tree.layout(true)
	if problem != "" {
		return nil, errs.New(errs.Invalid, "archive: "+problem)
	}
	open := func(n *node) (io.ReadCloser, error) {
		return io.NopCloser(io.NewSectionReader(spool, n.off, n.size)), nil
	}
	return assemble(ctx, s.tree.sorted(prefix), prefix, lim, open, dst)
}

// opener returns the content of a file node.
type opener func(n *node) (io.ReadCloser, error)

// assemble describes the package made of nodes (in canonical order) and
// writes its canonical archive to dst.
func assemble(ctx context.Context, nodes []*node, prefix string, lim Limits, open opener, dst io.Writer) (*Package, error) {
	pkg := &Package{Prefix: prefix, Files: make([]File, len(nodes))}
	for i, n := range nodes {
		f := File{Path: n.path, Size: n.size, Mode: 0o644, IsDir: n.dir}
		if n.dir || n.exec {
			f.Mode = 0o755
		}
		pkg.Files[i] = f
		pkg.UnpackedSize += n.size
	}
	if err := pkg.readManifest(nodes, lim, open); err != nil {
		return nil, err
	}
	if err := pkg.readReadme(nodes, lim, open); err != nil {
		return nil, err
	}
	w := newCanonicalWriter(dst)
	for _, n := range nodes {
		if err := writeNode(ctx, w, n, open); err != nil {
			return nil, err
		}
	}
	var err error
	if pkg.Size, pkg.SHA256, err = w.close(); err != nil {
		return nil, err
	}
	return pkg, nil
}

func writeNode(ctx context.Context, w *canonicalWriter, n *node, open opener) error {
	if n.dir {
		return w.write(ctx, n, nil)
	}
	r, err := open(n)
	if err != nil {
		return err
	}
	defer r.Close()
	return w.write(ctx, n, r)
}

// readManifest reads oaklibs.json, which layout has found at the root.
func (p *Package) readManifest(nodes []*node, lim Limits, open opener) error {
	for _, n := range nodes {
		if n.path != ManifestName {
			continue
		}
		if n.dir {
			return errs.New(errs.Invalid, "archive: "+ManifestName+" is a folder; it must be a file")
		}
		if n.size > lim.MaxManifestSize {
			return errs.Errorf(errs.Invalid, "archive: %s is %s; the limit is %s", ManifestName, formatSize(n.size), formatSize(lim.MaxManifestSize))
		}
		data, err := readAll(n, open)
		if err != nil {
			return err
		}
		p.Manifest = data
		return nil
	}
	return errs.New(errs.Invalid, "archive: no "+ManifestName+" at the root of the package")
}

// readmeNames are the root files taken as the README, best first, compared
// without regard to letter case.
var readmeNames = []string{"readme.md", "readme.markdown", "readme"}

// readReadme finds the README at the root, if any, and reads it when it is
// no larger than the limit; a larger one stays in the archive unread.
func (p *Package) readReadme(nodes []*node, lim Limits, open opener) error {
	for _, want := range readmeNames {
		for _, n := range nodes {
			if n.dir || n.size > lim.MaxReadmeSize || !equalFoldASCII(n.path, want) {
				continue
			}
			data, err := readAll(n, open)
			if err != nil {
				return err
			}
			p.Readme, p.ReadmePath = data, n.path
			return nil
		}
	}
	return nil
}

// readAll reads the whole content of a small file node.
func readAll(n *node, open opener) ([]byte, error) {
	r, err := open(n)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data := make([]byte, n.size)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("archive: reading %s: %w", n.path, err)
	}
	return data, nil
}

// equalFoldASCII compares s with the lowercase ASCII want, ignoring the case
// of s's ASCII letters only (so that no Unicode look-alike matches).
func equalFoldASCII(s, want string) bool {
	if len(s) != len(want) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != want[i] {
			return false
		}
	}
	return true
}
