package registry

import (
	"context"
	"errors"
	"sort"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/tlog"
)

// feedScan bounds how many log records RecentVersions reads looking for
// publishes, so that a log full of yanks and owner changes costs a
// bounded number of queries.
const feedScan = 2000

// RecentVersions returns up to limit versions published most recently in
// the whole registry, newest first, for the registry's feed. They are read
// from the transparency log, which records every publish in order; versions
// deleted since, and versions of deleted packages, are left out.
func (s *Service) RecentVersions(ctx context.Context, limit int) ([]Version, error) {
	size, err := s.store.LogSize(ctx)
	if err != nil {
		return nil, err
	}
	packages := map[string]*Package{}
	out := []Version{}
	const page = 200
	for to := size; to > 0 && to > size-feedScan && len(out) < limit; to -= page {
		recs, err := s.store.LogRecords(ctx, max(0, to-page), to)
		if err != nil {
			return nil, err
		}
		for i := len(recs) - 1; i >= 0 && len(out) < limit; i-- {
			if recs[i].Kind != string(tlog.Publish) {
				continue
			}
			p, ok := packages[recs[i].Package]
			if !ok {
				p, err = s.Package(ctx, recs[i].Package)
				if err != nil && !errors.Is(err, errs.NotFound) && !errors.Is(err, errs.Gone) {
					return nil, err
				}
				packages[recs[i].Package] = p
			}
			if p == nil {
				continue
			}
			if v, err := p.Find(recs[i].Subject); err == nil {
				out = append(out, *v)
			}
		}
	}
	return out, nil
}

// PackageFeed returns a live package with its versions ordered by publish
// time, newest first (Package orders them by precedence), for the
// package's feed.
func (s *Service) PackageFeed(ctx context.Context, name string) (*Package, error) {
	p, err := s.Package(ctx, name)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(p.Versions, func(i, j int) bool { return p.Versions[i].PublishedAt.After(p.Versions[j].PublishedAt) })
	return p, nil
}
