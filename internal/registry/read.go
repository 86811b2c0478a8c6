package registry

import (
	"context"
	"errors"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/manifest"
	"github.com/dryad-lang/registry/internal/store"
)

// MetadataTTL bounds how long what is cached of a package lives without an
// invalidation: download counts refresh at least this often.
const MetadataTTL = 10 * time.Minute

// generationTTL bounds the life of a package's cache generation.
const generationTTL = 24 * time.Hour

// lookupPackage finds a live package by any spelling of its name: 404 for
// an invalid or unknown name, 410 for a deleted package.
func (s *Service) lookupPackage(ctx context.Context, name string) (*store.Package, error) {
	p, err := s.anyPackage(ctx, name)
	if err != nil {
		return nil, err
	}
	if p.DeletedAt != nil {
		return nil, errs.Errorf(errs.Gone, "package %q was deleted", p.Name)
	}
	return p, nil
}

// anyPackage finds a package, deleted or not, by any spelling of its name.
func (s *Service) anyPackage(ctx context.Context, name string) (*store.Package, error) {
	if manifest.ValidateName(manifest.NormalizeName(name)) != nil && manifest.ValidateName(name) != nil {
		return nil, errs.Errorf(errs.NotFound, "package %q not found", name)
	}
	p, err := s.store.GetPackage(ctx, manifest.NormalizeName(name))
	if errors.Is(err, errs.NotFound) {
		return nil, errs.Errorf(errs.NotFound, "package %q not found", name)
	}
	return p, err
}

// PackageScope is the cache scope of a package, under any spelling of its
// name: what is cached under it (the registry's reads, the edges'
// renderings of them) is dropped, on every instance, by any change to the
// package.
func (s *Service) PackageScope(ctx context.Context, name string) string {
	return s.gens.Key(ctx, manifest.NormalizeName(name))
}

// invalidatePackage forgets every cached rendering of a package after a
// change, on every instance sharing the cache.
func (s *Service) invalidatePackage(ctx context.Context, norm string) {
	s.totals.forget()
	if err := s.gens.Invalidate(ctx, norm); err != nil {
		s.log.WarnContext(ctx, "invalidating cache", "package", norm, "err", err)
	}
}

// Package returns a live package with its versions, owners and download
// counts: 404 for an unknown name, 410 for a deleted package.
func (s *Service) Package(ctx context.Context, name string) (*Package, error) {
	p, err := s.lookupPackage(ctx, name)
	if err != nil {
		return nil, err
	}
	vs, err := s.store.ListVersions(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	owners, err := s.store.ListOwners(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	since := s.utcNow().AddDate(0, 0, -29).Format(time.DateOnly)
	last30, err := s.store.PackageDownloadsSince(ctx, p.ID, since)
	if err != nil {
		return nil, err
	}
	newestFirst(vs)
	out := &Package{
		Name: p.Name, Description: p.Description, Keywords: p.Keywords, Homepage: p.Homepage,
		Repository: p.Repository, License: p.License, Latest: p.Latest, Owners: []string{},
		Versions: []Version{}, Downloads: p.Downloads, DownloadsLast30Days: last30,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, deleted: map[string]string{},
	}
	if out.Keywords == nil {
		out.Keywords = []string{}
	}
	for _, o := range owners {
		out.Owners = append(out.Owners, o.Username)
	}
	for i := range vs {
		v := &vs[i]
		if v.DeletedAt != nil {
			out.deleted[v.Key] = v.Version
			continue
		}
		out.Versions = append(out.Versions, newVersion(p.Name, v))
	}
	return out, nil
}

// Version describes one version: 404 if unknown, 410 if deleted.
func (s *Service) Version(ctx context.Context, name, version string) (*Version, error) {
	p, v, err := s.findVersion(ctx, name, version)
	if err != nil {
		return nil, err
	}
	out := newVersion(p.Name, v)
	return &out, nil
}

// anyVersion finds a version of p, deleted or not.
func (s *Service) anyVersion(ctx context.Context, p *store.Package, version string) (*store.Version, error) {
	sv, err := manifest.ParseVersion(version)
	if err != nil {
		return nil, errs.Errorf(errs.NotFound, "%s has no version %q", p.Name, version)
	}
	v, err := s.store.GetVersion(ctx, p.ID, manifest.Key(sv))
	if errors.Is(err, errs.NotFound) {
		return nil, errs.Errorf(errs.NotFound, "%s has no version %q", p.Name, version)
	}
	return v, err
}

// findVersion finds a version of a live package: 404 if unknown, 410 if
// deleted.
func (s *Service) findVersion(ctx context.Context, name, version string) (*store.Package, *store.Version, error) {
	p, err := s.lookupPackage(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.anyVersion(ctx, p, version)
	if err != nil {
		return nil, nil, err
	}
	if v.DeletedAt != nil {
		return nil, nil, errs.Errorf(errs.Gone, "%s@%s was deleted", p.Name, v.Version)
	}
	return p, v, nil
}

// Resolve returns the best live version satisfying an npm-style range.
func (s *Service) Resolve(ctx context.Context, name, rng string) (*Version, error) {
	r, err := manifest.ParseRange(rng)
	if err != nil {
		return nil, err
	}
	p, err := s.lookupPackage(ctx, name)
	if err != nil {
		return nil, err
	}
	vs, err := s.store.ListVersions(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	best := bestMatch(vs, r)
	if best == nil {
		avail := liveVersionList(vs, 10)
		if len(avail) == 0 {
			return nil, errs.Errorf(errs.NotFound, "%s has no installable version", p.Name)
		}
		return nil, errs.Errorf(errs.NotFound, "no version of %s satisfies %q (available: %v)", p.Name, rng, avail)
	}
	out := newVersion(p.Name, best)
	return &out, nil
}
