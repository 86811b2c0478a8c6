package blob

import (
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"time"
)

// TempFile is a file in a store's temp folder.
type TempFile struct {
	Name    string
	Size    int64
	ModTime time.Time
}

// StaleTemp lists the files of dir (a store's TempDir) last written before
// cutoff. Uploads in progress write as they go, so with a cutoff of the
// upload timeout ago these are the leftovers of uploads that a crash (kill
// -9, a power cut) stopped mid-way, which nothing else would ever remove.
func StaleTemp(dir string, cutoff time.Time) ([]TempFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []TempFile
	for _, e := range entries {
		info, err := e.Info()
		if errors.Is(err, iofs.ErrNotExist) {
			continue // finished meanwhile
		}
		if err != nil {
			return out, err
		}
		if info.Mode().IsRegular() && info.ModTime().Before(cutoff) {
			out = append(out, TempFile{Name: e.Name(), Size: info.Size(), ModTime: info.ModTime()})
		}
	}
	return out, nil
}

// RemoveStaleTemp removes the files StaleTemp lists and returns them.
func RemoveStaleTemp(dir string, cutoff time.Time) ([]TempFile, error) {
	stale, err := StaleTemp(dir, cutoff)
	var removed []TempFile
	for _, f := range stale {
		if rerr := os.Remove(filepath.Join(dir, f.Name)); rerr != nil && !errors.Is(rerr, iofs.ErrNotExist) {
			err = errors.Join(err, rerr)
			continue
		}
		removed = append(removed, f)
	}
	return removed, err
}
