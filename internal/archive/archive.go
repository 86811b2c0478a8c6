// Package archive inspects uploaded package archives (.tar.gz) and rewrites
// them in the registry's canonical form.
//
// The registry stores and serves canonical archives only: regular files and
// directories, every parent directory present, entries sorted by path, owner
// 0:0, modes 0644 or 0755, one fixed modification time, a fixed gzip header
// and compression level. The same files therefore always give the same
// bytes, and so the same checksum, whoever packed them and however.
//
// Everything here streams: memory stays flat whatever the archive size, and
// nothing named after an archive entry is ever created on disk.
package archive

import (
	"io/fs"
	"time"
)

// CanonicalModTime is the modification time of every entry of a canonical
// archive, in Unix seconds (2000-01-01T00:00:00Z). Any fixed value would do;
// this one is far from zero so that tools do not treat it as "unset".
const CanonicalModTime int64 = 946684800

// ModTime returns CanonicalModTime as a time.Time.
func ModTime() time.Time { return time.Unix(CanonicalModTime, 0).UTC() }

// ManifestName is the name of the package manifest, which must sit at the
// root of a canonical archive.
const ManifestName = "oaklibs.json"

// Limits bounds what an archive may contain. The zero value of a field means
// its default (see DefaultLimits).
type Limits struct {
	// MaxUnpackedSize is the largest total size of the files, in bytes.
	MaxUnpackedSize int64
	// MaxEntries is the largest number of entries (files and directories,
	// parent directories added by canonicalisation included).
	MaxEntries int
	// MaxPathLength is the longest entry path, in bytes.
	MaxPathLength int
	// MaxManifestSize is the largest oaklibs.json, in bytes.
	MaxManifestSize int64
	// MaxDepth is the largest number of path segments of an entry.
	MaxDepth int
	// MaxReadmeSize is the largest README returned in Package.Readme; a
	// larger one stays in the archive but is not returned.
	MaxReadmeSize int64
}

// DefaultLimits returns the limits used when none are configured.
func DefaultLimits() Limits {
	return Limits{
		MaxUnpackedSize: 512 << 20,
		MaxEntries:      10000,
		MaxPathLength:   512,
		MaxManifestSize: 1 << 20,
		MaxDepth:        64,
		MaxReadmeSize:   1 << 20,
	}
}

// withDefaults fills the zero fields of l with the defaults, so that callers
// may set only the limits they care about.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxUnpackedSize <= 0 {
		l.MaxUnpackedSize = d.MaxUnpackedSize
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxPathLength <= 0 {
		l.MaxPathLength = d.MaxPathLength
	}
	if l.MaxManifestSize <= 0 {
		l.MaxManifestSize = d.MaxManifestSize
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxReadmeSize <= 0 {
		l.MaxReadmeSize = d.MaxReadmeSize
	}
	return l
}

// File describes one entry of a canonical archive.
type File struct {
	// Path is slash-separated and relative to the package root, without a
	// trailing slash (also for directories).
	Path string
	// Size is the length of the content in bytes; 0 for directories.
	Size int64
	// Mode is the permission bits: 0755 for directories and executables,
	// 0644 otherwise.
	Mode fs.FileMode
	// IsDir reports whether the entry is a directory.
	IsDir bool
}

// Package is what Canonicalize and Pack learn about a package while they
// write its canonical archive.
type Package struct {
	// Manifest is the raw content of oaklibs.json.
	Manifest []byte
	// Readme is the content of the root README, if there is one no larger
	// than Limits.MaxReadmeSize; ReadmePath is its path in the archive.
	Readme     []byte
	ReadmePath string
	// Prefix is the top-level folder that was stripped because the files
	// were inside it ("" when they were at the root).
	Prefix string
	// Files lists the entries of the canonical archive in archive order.
	Files []File
	// UnpackedSize is the total size of the files, in bytes.
	UnpackedSize int64
	// Size and SHA256 describe the canonical archive written: its length in
	// bytes and the lowercase hex SHA-256 of its bytes (the checksum the
	// registry serves).
	Size   int64
	SHA256 string
}
