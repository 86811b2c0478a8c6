// Package blob declares the content-addressed store of package archives.
//
// A blob is named by the lowercase hex SHA-256 of its bytes. Blobs are
// written through a Writer that hashes and counts as it goes and, on Commit,
// makes the blob durable and visible at once (fsync, then rename), so a
// reader never sees a half-written archive at its final name.
package blob

import (
	"context"
	"io"
	"os"
	"regexp"
	"time"
)

// Store keeps blobs.
type Store interface {
	// Create starts a new blob.
	Create(ctx context.Context) (Writer, error)
	// Open opens a blob for reading; errs.NotFound if absent.
	Open(ctx context.Context, sum string) (File, error)
	// Stat returns a blob's size; errs.NotFound if absent.
	Stat(ctx context.Context, sum string) (int64, error)
	// Delete removes a blob; deleting an absent blob is not an error.
	Delete(ctx context.Context, sum string) error
	// Walk calls fn for every stored blob, in no particular order.
	Walk(ctx context.Context, fn func(sum string, size int64) error) error
	// TempDir is a folder on the same filesystem for scratch files
	// (uploads in progress), so they never fill another disk.
	TempDir() string
	// Check verifies that blobs can be written, for health checks.
	Check(ctx context.Context) error

	// Quarantine moves a blob out of the store into its quarantine, where
	// it is kept but not served until PurgeQuarantine deletes it or
	// RestoreQuarantine puts it back: how archives are removed by the
	// orphan sweep, so that a sweep run on a wrong database can be undone.
	// An absent blob is not an error.
	Quarantine(ctx context.Context, sum string) error
	// PurgeQuarantine deletes the blobs quarantined before cutoff and
	// returns how many.
	PurgeQuarantine(ctx context.Context, cutoff time.Time) (int, error)
	// RestoreQuarantine moves every quarantined blob back into the store
	// and returns how many.
	RestoreQuarantine(ctx context.Context) (int, error)

	// Identity returns the registry identity written by InitIdentity, ""
	// when none was: the label that ties the store to one registry's
	// metadata.
	Identity(ctx context.Context) (string, error)
	// InitIdentity writes id as the store's identity unless it has one
	// already, and returns the identity it holds; concurrent callers all
	// get the same one.
	InitIdentity(ctx context.Context, id string) (string, error)
}

// Writer receives a new blob's bytes.
type Writer interface {
	io.Writer
	// Size is the number of bytes written so far.
	Size() int64
	// Sum is the hex SHA-256 of the bytes written so far.
	Sum() string
	// Commit makes the blob durable and visible under its checksum and
	// returns the checksum. A blob already present is left as it is.
	Commit(ctx context.Context) (string, error)
	// Cancel discards the blob; it is safe to call after Commit (it then
	// does nothing), so `defer w.Cancel()` is the normal pattern.
	Cancel() error
}

// File is an open blob.
type File interface {
	io.ReadSeekCloser
	io.ReaderAt
	Size() int64
}

// OSFile is implemented by files backed by the local filesystem, whose
// *os.File lets the HTTP server send them with sendfile.
type OSFile interface {
	OS() *os.File
}

// Presigner is implemented by stores whose blobs clients can fetch
// straight from the storage service, such as S3's: the registry may then
// redirect a download instead of streaming it.
type Presigner interface {
	// PresignGet returns a URL that fetches the blob, as an attachment
	// named filename, until ttl has passed.
	PresignGet(ctx context.Context, sum, filename string, ttl time.Duration) (string, error)
}

var sumRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidSum reports whether s is a lowercase hex SHA-256.
func ValidSum(s string) bool { return sumRE.MatchString(s) }
