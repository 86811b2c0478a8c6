package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"time"

	"github.com/dryad-lang/registry/internal/blob"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
)

// CheckIdentity makes sure that the metadata store and the archive store
// belong to the same registry, and returns its identity. A registry's
// first start writes a random identity into both; later starts compare
// them. It refuses (errs.Conflict, with what to do) a database and an
// archive store labelled for different registries, and a database with no
// identity beside an archive store that has one and holds archives (the
// SQLite file lost, DATABASE_URL naming a new or another database): the
// sweep would see every archive there as unreferenced.
func (s *Service) CheckIdentity(ctx context.Context) (string, error) {
	dbID, err := s.store.RegistryID(ctx)
	if err != nil {
		return "", err
	}
	blobID, err := s.blobs.Identity(ctx)
	if err != nil {
		return "", err
	}
	switch {
	case dbID != "" && blobID != "" && dbID != blobID:
		return "", errs.Errorf(errs.Conflict, "the database belongs to registry %s but package storage (DATA_DIR/packages, or S3_BUCKET with BLOB_STORE=s3) to registry %s: "+
			"point DATABASE_URL and DATA_DIR (or S3_BUCKET and S3_PREFIX) at the same registry's database and archives", dbID, blobID)
	case dbID == "" && blobID != "":
		if n, err := s.countArchives(ctx, 1); err != nil {
			return "", err
		} else if n > 0 {
			return "", errs.Errorf(errs.Conflict, "package storage (DATA_DIR/packages, or S3_BUCKET with BLOB_STORE=s3) holds the archives of registry %s, but the database has no registry identity: "+
				"it is a new or another registry's database. Point DATABASE_URL (or DATA_DIR/registry.db) at registry %s's database, or restore a backup into an empty DATA_DIR (and bucket)", blobID, blobID)
		}
		// Labelled storage without archives: nothing to lose, adopt it.
		if dbID, err = s.store.InitRegistryID(ctx, blobID); err != nil {
			return "", err
		}
	case dbID == "":
		var b [16]byte
		rand.Read(b[:])
		if dbID, err = s.store.InitRegistryID(ctx, hex.EncodeToString(b[:])); err != nil {
			return "", err
		}
	}
	if blobID == "" {
		if blobID, err = s.blobs.InitIdentity(ctx, dbID); err != nil {
			return "", err
		}
	}
	if blobID != dbID {
		return "", errs.Errorf(errs.Conflict, "the database belongs to registry %s but package storage to registry %s", dbID, blobID)
	}
	return dbID, nil
}

// countArchives counts the stored archives, stopping at limit (no limit
// when 0).
func (s *Service) countArchives(ctx context.Context, limit int) (int, error) {
	n := 0
	err := s.blobs.Walk(ctx, func(string, int64) error {
		n++
		if limit > 0 && n >= limit {
			return errStopWalk
		}
		return nil
	})
	if errors.Is(err, errStopWalk) {
		err = nil
	}
	return n, err
}

var errStopWalk = errors.New("stop")

// sweepLimit is how many archives one sweep removes by itself out of
// total: a tenth, and at least ten. More unreferenced archives than that
// at once is a sign of a wrong database, not of failed publishes.
func sweepLimit(total int) int { return max(10, total/10) }

// SweepOrphanArchives moves stored archives that no version refers to into
// the archive store's quarantine: the leftovers of publishes refused by
// their transaction (a race the checks made before storing could not see)
// or interrupted by a crash between storing the archive and committing its
// row. It also deletes what has been in quarantine longer than
// Options.OrphanQuarantine.
//
// An archive is removed only when two sweeps in a row, run well apart (an
// hour by default in serve), found it unreferenced: a publish in progress
// stores its archive a moment before committing the row that refers to it,
// and must never lose it to a sweep that ran in between. Archives of deleted
// versions are referenced (their rows stay) and kept. A sweep refuses to
// run when CheckIdentity fails, and to remove anything when more than
// sweepLimit archives look unreferenced: `dryad-registry sweep` does that,
// on an operator's word.
func (s *Service) SweepOrphanArchives(ctx context.Context) (removed int, err error) {
	if _, err := s.CheckIdentity(ctx); err != nil {
		return 0, err
	}
	referenced, err := s.referencedArchives(ctx)
	if err != nil {
		return 0, err
	}
	s.orphanMu.Lock()
	defer s.orphanMu.Unlock()
	candidates := make(map[string]bool)
	var confirmed []string
	total := 0
	err = s.blobs.Walk(ctx, func(sum string, _ int64) error {
		total++
		switch {
		case referenced[sum]:
		case s.orphans[sum]:
			confirmed = append(confirmed, sum)
		default:
			candidates[sum] = true
		}
		return nil
	})
	s.orphans = candidates
	if err != nil {
		return 0, err
	}
	if limit := sweepLimit(total); len(confirmed) > limit {
		// They stay marked: every later sweep refuses too, until the
		// operator looks.
		for _, sum := range confirmed {
			s.orphans[sum] = true
		}
		return 0, errs.Errorf(errs.Conflict, "%d of %d archives look unreferenced, more than the %d a sweep removes by itself: "+
			"check that DATABASE_URL and DATA_DIR belong to the same registry (dryad-registry verify lists them), then remove them with dryad-registry sweep --remove",
			len(confirmed), total, limit)
	}
	for _, sum := range confirmed {
		if err := s.blobs.Quarantine(ctx, sum); err != nil {
			return removed, err
		}
		removed++
		s.log.InfoContext(ctx, "moved an archive no version refers to into quarantine", "checksum", sum)
	}
	_, err = s.PurgeQuarantine(ctx)
	return removed, err
}

// referencedArchives is the set of checksums versions refer to, deleted
// versions included.
func (s *Service) referencedArchives(ctx context.Context) (map[string]bool, error) {
	referenced := make(map[string]bool)
	err := s.store.AllVersions(ctx, func(_ *store.Package, v *store.Version) error {
		referenced[v.Checksum] = true
		return nil
	})
	return referenced, err
}

// PurgeQuarantine deletes the archives quarantined longer than
// Options.OrphanQuarantine ago and returns how many.
func (s *Service) PurgeQuarantine(ctx context.Context) (int, error) {
	keep := s.opts.OrphanQuarantine
	if keep <= 0 {
		keep = 7 * 24 * time.Hour
	}
	n, err := s.blobs.PurgeQuarantine(ctx, s.now().Add(-keep))
	if n > 0 {
		s.log.InfoContext(ctx, "deleted archives kept in quarantine", "count", n, "kept_for", keep)
	}
	return n, err
}

// UnreferencedArchives lists the stored archives no version refers to,
// looking twice grace apart (a publish stores its archive a moment before
// committing its row); with remove it moves them into quarantine, however
// many: the operator's command behind the sweep's own bound.
func (s *Service) UnreferencedArchives(ctx context.Context, grace time.Duration, remove bool) ([]string, error) {
	if _, err := s.CheckIdentity(ctx); err != nil {
		return nil, err
	}
	look := func() (map[string]bool, error) {
		referenced, err := s.referencedArchives(ctx)
		if err != nil {
			return nil, err
		}
		out := map[string]bool{}
		err = s.blobs.Walk(ctx, func(sum string, _ int64) error {
			if !referenced[sum] {
				out[sum] = true
			}
			return nil
		})
		return out, err
	}
	first, err := look()
	if err != nil || len(first) == 0 {
		return nil, err
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(grace):
	}
	second, err := look()
	if err != nil {
		return nil, err
	}
	var out []string
	for sum := range second {
		if first[sum] {
			out = append(out, sum)
		}
	}
	slices.Sort(out)
	if remove {
		for _, sum := range out {
			if err := s.blobs.Quarantine(ctx, sum); err != nil {
				return out, err
			}
			s.log.InfoContext(ctx, "moved an archive no version refers to into quarantine", "checksum", sum, "by", "operator")
		}
	}
	return out, nil
}

// RestoreQuarantine moves every quarantined archive back into place.
func (s *Service) RestoreQuarantine(ctx context.Context) (int, error) {
	return s.blobs.RestoreQuarantine(ctx)
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
			s.log.Error("sweeping unreferenced archives", "err", err)
		} else if n > 0 {
			s.log.Info("removed unreferenced archives", "count", n)
		}
		if _, err := s.PruneWebhookDeliveries(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("pruning the webhook delivery log", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
