package registry

import (
	"context"
	"time"

	"github.com/dryad-lang/registry/internal/blob"
	"github.com/dryad-lang/registry/internal/store"
)

// SweepOrphanArchives removes stored archives that no version refers to: the
// leftovers of publishes refused by their transaction (a race the checks
// made before storing could not see) or interrupted by a crash between
// storing the archive and committing its row.
//
// An archive is removed only when two sweeps in a row, run well apart (an
// hour by default in serve), found it unreferenced: a publish in progress
// stores its archive a moment before committing the row that refers to it,
// and must never lose it to a sweep that ran in between. Archives of deleted
// versions are referenced (their rows stay) and kept.
func (s *Service) SweepOrphanArchives(ctx context.Context) (removed int, err error) {
	referenced := make(map[string]bool)
	err = s.store.AllVersions(ctx, func(_ *store.Package, v *store.Version) error {
		referenced[v.Checksum] = true
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.orphanMu.Lock()
	defer s.orphanMu.Unlock()
	candidates := make(map[string]bool)
	err = s.blobs.Walk(ctx, func(sum string, _ int64) error {
		if referenced[sum] {
			return nil
		}
		if !s.orphans[sum] {
			candidates[sum] = true
			return nil
		}
		if err := s.blobs.Delete(ctx, sum); err != nil {
			return err
		}
		removed++
		s.log.InfoContext(ctx, "removed an archive no version refers to", "checksum", sum)
		return nil
	})
	s.orphans = candidates
	return removed, err
}

// RemoveStaleTemp removes the files of the archive store's temp folder
// older than Options.StaleTempAge: what uploads cut short by a crash left
// there. It returns how many it removed.
func (s *Service) RemoveStaleTemp(ctx context.Context) (int, error) {
	age := s.opts.StaleTempAge
	if age <= 0 {
		age = time.Hour
	}
	removed, err := blob.RemoveStaleTemp(s.blobs.TempDir(), s.now().Add(-age))
	for _, f := range removed {
		s.log.InfoContext(ctx, "removed the leftover of an interrupted upload", "file", f.Name, "size", f.Size, "modified", f.ModTime)
	}
	return len(removed), err
}

// RunHousekeeping does the registry's periodic chores every interval until
// ctx ends, at once first (so at start too): it removes expired sessions,
// the temp files of interrupted uploads, and archives no version refers to
// (at the second sweep that finds them).
func (s *Service) RunHousekeeping(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.CleanSessions(ctx)
		if _, err := s.RemoveStaleTemp(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("removing the temp files of interrupted uploads", "err", err)
		}
		if n, err := s.SweepOrphanArchives(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("sweeping unreferenced archives", "err", err)
		} else if n > 0 {
			s.log.Info("removed unreferenced archives", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
