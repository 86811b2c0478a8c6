package blob

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"os"
)

// Spool is the part of a Writer every driver shares: a file in the
// store's temp folder that hashes and counts the bytes written to it. A
// driver's Commit puts the file's content in place and calls Done.
type Spool struct {
	// File is the temp file, open for writing.
	File *os.File
	h    hash.Hash
	n    int64
	done bool
}

// NewSpool creates a spool file in dir.
func NewSpool(dir string) (*Spool, error) {
	f, err := os.CreateTemp(dir, "blob-*")
	if err != nil {
		return nil, err
	}
	return &Spool{File: f, h: sha256.New()}, nil
}

func (s *Spool) Write(p []byte) (int, error) {
	n, err := s.File.Write(p)
	s.h.Write(p[:n])
	s.n += int64(n)
	return n, err
}

// Size is the number of bytes written so far.
func (s *Spool) Size() int64 { return s.n }

// Sum is the hex SHA-256 of the bytes written so far.
func (s *Spool) Sum() string { return hex.EncodeToString(s.h.Sum(nil)) }

// Finished reports whether Done or Cancel was called.
func (s *Spool) Finished() bool { return s.done }

// Done marks the spool as committed: Cancel then does nothing, and the
// file (if still there) is the driver's to remove.
func (s *Spool) Done() { s.done = true }

// Cancel closes and removes the file unless the spool was committed.
func (s *Spool) Cancel() error {
	if s.done {
		return nil
	}
	s.done = true
	s.File.Close()
	return os.Remove(s.File.Name())
}
