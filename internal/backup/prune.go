package backup

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// List returns the backup files in dir (named as Create names them),
// oldest first.
func List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the backup folder: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && IsBackupName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Prune removes all but the newest keep backups in dir and returns the
// paths it removed. Only files named as Create names them are considered,
// so nothing else in the folder is ever touched.
func Prune(dir string, keep int) ([]string, error) {
	if keep < 1 {
		return nil, fmt.Errorf("keep must be at least 1, not %d", keep)
	}
	names, err := List(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for len(names) > keep {
		p := filepath.Join(dir, names[0])
		if err := os.Remove(p); err != nil {
			return removed, fmt.Errorf("removing an old backup: %w", err)
		}
		removed = append(removed, p)
		names = names[1:]
	}
	return removed, nil
}
