package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/dryad-lang/registry/internal/blob"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
)

// Kinds of Problem.
const (
	// ProblemMissing: a version's archive is not in package storage.
	ProblemMissing = "missing"
	// ProblemDamaged: an archive's bytes do not match its version's checksum or size.
	ProblemDamaged = "damaged"
	// ProblemOrphan: an archive no version refers to.
	ProblemOrphan = "orphan"
	// ProblemStaleTemp: a file left in package storage's temp folder by an
	// upload that a crash interrupted.
	ProblemStaleTemp = "stale_temp"
)

// Problem is one disagreement between the metadata and package storage.
type Problem struct {
	Kind string
	// Package and Version name the version; empty for an orphan archive.
	Package, Version string
	Checksum         string
	Detail           string
}

func (p Problem) String() string {
	switch p.Kind {
	case ProblemMissing:
		return fmt.Sprintf("%s@%s: archive %s is missing from package storage", p.Package, p.Version, p.Checksum)
	case ProblemDamaged:
		return fmt.Sprintf("%s@%s: archive %s is damaged: %s", p.Package, p.Version, p.Checksum, p.Detail)
	case ProblemLog:
		if p.Package == "" {
			return "transparency log: " + p.Detail
		}
		return fmt.Sprintf("transparency log: %s@%s: %s", p.Package, p.Version, p.Detail)
	case ProblemStaleTemp:
		return fmt.Sprintf("temp file %s is the leftover of an interrupted upload (the registry removes such files at start and hourly)", p.Detail)
	default:
		return fmt.Sprintf("archive %s has no version: %s", p.Checksum, p.Detail)
	}
}

// VerifyResult sums up a verification.
type VerifyResult struct {
	Versions, Archives int64
	Problems           int
}

// Verify re-hashes the archive of every version (deleted versions keep
// theirs) against the checksum and size in its row, and checks that every
// stored archive belongs to a version. It calls report for each problem and
// returns an error only when it could not finish.
//
// The checksums of all versions are held in memory to find orphans (about
// a hundred bytes per version). An archive found without a version is
// looked up again at the end, so a publish committing during the run is
// not reported.
//
// Files in package storage's temp folder older than staleTempAge (the
// upload timeout) are reported too: no upload still writes them.
func Verify(ctx context.Context, st store.Store, blobs blob.Store, staleTempAge time.Duration, report func(Problem)) (VerifyResult, error) {
	var res VerifyResult
	stale, err := blob.StaleTemp(blobs.TempDir(), time.Now().Add(-staleTempAge))
	if err != nil {
		return res, fmt.Errorf("listing package storage's temp folder: %w", err)
	}
	for _, f := range stale {
		res.Problems++
		report(Problem{Kind: ProblemStaleTemp,
			Detail: fmt.Sprintf("%s, %d bytes, last written %s", filepath.Join(blobs.TempDir(), f.Name), f.Size, f.ModTime.UTC().Format(time.RFC3339))})
	}
	known := map[[sha256.Size]byte]struct{}{}
	buf := make([]byte, 256<<10)
	err = st.AllVersions(ctx, func(p *store.Package, v *store.Version) error {
		res.Versions++
		var key [sha256.Size]byte
		if b, err := hex.DecodeString(v.Checksum); err == nil && len(b) == sha256.Size {
			copy(key[:], b)
			known[key] = struct{}{}
		}
		prob := Problem{Package: p.Name, Version: v.Version, Checksum: v.Checksum}
		f, err := blobs.Open(ctx, v.Checksum)
		if errors.Is(err, errs.NotFound) {
			prob.Kind = ProblemMissing
			res.Problems++
			report(prob)
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s@%s: opening its archive: %w", p.Name, v.Version, err)
		}
		defer f.Close()
		h := sha256.New()
		n, err := io.CopyBuffer(h, f, buf)
		if err != nil {
			return fmt.Errorf("%s@%s: reading its archive: %w", p.Name, v.Version, err)
		}
		got := hex.EncodeToString(h.Sum(nil))
		switch {
		case got != v.Checksum:
			prob.Kind, prob.Detail = ProblemDamaged, "its SHA-256 is "+got
		case n != v.Size:
			prob.Kind, prob.Detail = ProblemDamaged, fmt.Sprintf("it has %d bytes, the version says %d", n, v.Size)
		default:
			return nil
		}
		res.Problems++
		report(prob)
		return nil
	})
	if err != nil {
		return res, err
	}

	type orphan struct {
		sum  string
		size int64
	}
	var orphans []orphan
	err = blobs.Walk(ctx, func(sum string, size int64) error {
		res.Archives++
		var key [sha256.Size]byte
		b, _ := hex.DecodeString(sum)
		copy(key[:], b)
		if _, ok := known[key]; !ok {
			orphans = append(orphans, orphan{sum, size})
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("listing package storage: %w", err)
	}
	if len(orphans) == 0 {
		return res, nil
	}
	// A version committed since the first pass owns its archive.
	later := map[string]bool{}
	for _, o := range orphans {
		later[o.sum] = false
	}
	err = st.AllVersions(ctx, func(_ *store.Package, v *store.Version) error {
		if _, ok := later[v.Checksum]; ok {
			later[v.Checksum] = true
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	for _, o := range orphans {
		if later[o.sum] {
			continue
		}
		res.Problems++
		report(Problem{Kind: ProblemOrphan, Checksum: o.sum, Detail: fmt.Sprintf("%d bytes in package storage that no version refers to", o.size)})
	}
	return res, nil
}
