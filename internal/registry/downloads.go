package registry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/blob"
	"github.com/dryad-lang/registry/internal/cache"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/manifest"
	"github.com/dryad-lang/registry/internal/store"
)

// ArchiveRef identifies a stored version archive.
type ArchiveRef struct {
	Package   string
	Version   string
	PackageID int64
	VersionID int64
	Checksum  string
	Size      int64
	Yanked    bool
}

// versionRefTTL bounds how long a version lookup is cached; a version's
// checksum never changes, and a delete invalidates the entry at once.
const versionRefTTL = time.Hour

// LookupArchive finds a version's archive for download: 404 if unknown,
// 410 if deleted. Yanked versions stay downloadable (lockfiles need them).
func (s *Service) LookupArchive(ctx context.Context, name, version string) (*ArchiveRef, error) {
	norm := manifest.NormalizeName(name)
	sv, err := manifest.ParseVersion(version)
	if err != nil {
		return nil, errs.Errorf(errs.NotFound, "%s has no version %q", name, version)
	}
	refs := cache.ReadThrough[*ArchiveRef]{Cache: s.cache, Name: "ver", TTL: versionRefTTL, Codec: refCodec}
	return refs.Get(ctx, s.gens.Key(ctx, norm)+"/"+manifest.Key(sv), func(ctx context.Context) (*ArchiveRef, error) {
		p, v, err := s.findVersion(ctx, name, version)
		if err != nil {
			return nil, err
		}
		return &ArchiveRef{Package: p.Name, Version: v.Version, PackageID: p.ID, VersionID: v.ID, Checksum: v.Checksum, Size: v.Size, Yanked: v.Yanked}, nil
	})
}

// OpenArchive opens the stored archive of a version found by LookupArchive.
func (s *Service) OpenArchive(ctx context.Context, ref *ArchiveRef) (blob.File, error) {
	f, err := s.blobs.Open(ctx, ref.Checksum)
	if errors.Is(err, errs.NotFound) {
		// The row exists but its archive does not: storage was damaged.
		s.log.ErrorContext(ctx, "archive missing for a published version", "package", ref.Package, "version", ref.Version, "checksum", ref.Checksum)
		return nil, errs.Errorf(errs.Unavailable, "the archive of %s@%s is temporarily unavailable", ref.Package, ref.Version)
	}
	return f, err
}

// downloadURLTTL is how long a redirected download's URL stays valid:
// long enough for a slow client to follow the redirect, short enough that
// a leaked URL soon stops working.
const downloadURLTTL = 5 * time.Minute

// ArchiveURL returns where a client fetches a version's archive when
// downloads are redirected to the archive store, and "" when the registry
// serves them itself.
func (s *Service) ArchiveURL(ctx context.Context, ref *ArchiveRef) (string, error) {
	p, ok := s.blobs.(blob.Presigner)
	if !s.opts.RedirectDownloads || !ok {
		return "", nil
	}
	return p.PresignGet(ctx, ref.Checksum, ref.Package+"-"+ref.Version+".tar.gz", downloadURLTTL)
}

// CountDownload records one download; it is buffered, not written to the
// database per download.
func (s *Service) CountDownload(ctx context.Context, ref *ArchiveRef) {
	s.obs.Downloaded()
	// The key names the package too, so a flush knows which cached
	// documents to refresh without a lookup.
	key := strconv.FormatInt(ref.PackageID, 10) + ":" + strconv.FormatInt(ref.VersionID, 10) + ":" + s.utcNow().Format(time.DateOnly)
	if err := s.counters.Add(ctx, key, 1); err != nil {
		s.log.WarnContext(ctx, "counting a download", "err", err)
	}
}

// FlushDownloads writes the buffered download counts to the database. One
// instance at a time does it (a lease), and each batch is applied once.
func (s *Service) FlushDownloads(ctx context.Context) error {
	return s.flushDownloads(ctx, false)
}

// flushDownloads is FlushDownloads; final (the instance is stopping) drains
// even when another holder keeps the lease. The counts this instance held in
// memory while Redis was down would otherwise be lost, and counts in Redis
// would wait for the lease (up to a minute when a timed-out request took
// it). Draining without the lease is safe: each batch is claimed by one
// drainer and applied once by its ID; the lease only spares the instances
// needless concurrent drains.
func (s *Service) flushDownloads(ctx context.Context, final bool) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	// Counts this process buffers go to the shared backend whoever holds
	// the lease, so that the holder's drain finds them.
	if p, ok := s.counters.(cache.Pusher); ok {
		if err := p.Push(ctx); err != nil {
			s.log.WarnContext(ctx, "pushing buffered download counts", "err", err)
		}
	}
	unlock, ok, err := s.locker.TryLock(ctx, "flush-downloads", time.Minute)
	switch {
	case ok:
		defer unlock()
	case final:
		s.log.InfoContext(ctx, "download flush lease held elsewhere; flushing before stopping all the same", "err", err)
	case err != nil:
		return err
	default:
		return nil
	}
	touched := map[int64]bool{}
	err = s.counters.Drain(ctx, func(batchID string, counts map[string]int64) error {
		var batch []store.DownloadCount
		for k, n := range counts {
			f := strings.Split(k, ":")
			var pid, vid int64
			var err1, err2 error
			if len(f) == 3 {
				pid, err1 = strconv.ParseInt(f[0], 10, 64)
				vid, err2 = strconv.ParseInt(f[1], 10, 64)
			}
			if len(f) != 3 || err1 != nil || err2 != nil {
				s.log.Warn("dropping a malformed download counter", "key", k)
				continue
			}
			batch = append(batch, store.DownloadCount{VersionID: vid, Day: f[2], Count: n})
			touched[pid] = true
		}
		if len(batch) == 0 {
			return nil
		}
		return s.store.AddDownloads(ctx, batchID, batch)
	})
	if err != nil {
		return fmt.Errorf("flushing download counts: %w", err)
	}
	if len(touched) > 0 {
		s.invalidateDownloadedPackages(ctx, touched)
	}
	return nil
}

// invalidateDownloadedPackages refreshes the cached documents whose
// download counts changed.
func (s *Service) invalidateDownloadedPackages(ctx context.Context, packageIDs map[int64]bool) {
	for id := range packageIDs {
		if p, err := s.store.GetPackageByID(ctx, id); err == nil {
			s.invalidatePackage(ctx, p.NormalizedName)
		}
	}
}

// RunDownloadFlusher flushes download counts every interval until ctx ends,
// and once more at the end.
func (s *Service) RunDownloadFlusher(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if err := s.flushDownloads(final, true); err != nil {
				s.log.Error("final download flush", "err", err)
			}
			cancel()
			return
		case <-t.C:
			if err := s.FlushDownloads(ctx); err != nil {
				s.log.Warn("download flush", "err", err)
			}
		}
	}
}

// refCodec writes archive references as lines of text: they are read on
// every download, and this is cheaper to decode than JSON.
var refCodec = cache.Codec[*ArchiveRef]{
	Encode: func(r *ArchiveRef) ([]byte, error) { return encodeRef(r), nil },
	Decode: func(b []byte) (*ArchiveRef, error) {
		if r, ok := decodeRef(b); ok {
			return r, nil
		}
		return nil, errs.New(errs.Internal, "malformed archive reference")
	},
}

func encodeRef(r *ArchiveRef) []byte {
	y := "0"
	if r.Yanked {
		y = "1"
	}
	return []byte(strings.Join([]string{r.Package, r.Version, strconv.FormatInt(r.PackageID, 10),
		strconv.FormatInt(r.VersionID, 10), r.Checksum, strconv.FormatInt(r.Size, 10), y}, "\n"))
}

func decodeRef(b []byte) (*ArchiveRef, bool) {
	f := strings.Split(string(b), "\n")
	if len(f) != 7 {
		return nil, false
	}
	pid, err1 := strconv.ParseInt(f[2], 10, 64)
	vid, err2 := strconv.ParseInt(f[3], 10, 64)
	size, err3 := strconv.ParseInt(f[5], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || !blob.ValidSum(f[4]) {
		return nil, false
	}
	return &ArchiveRef{Package: f[0], Version: f[1], PackageID: pid, VersionID: vid, Checksum: f[4], Size: size, Yanked: f[6] == "1"}, true
}
