package registry

import (
	"context"

	"github.com/dryad-lang/registry/internal/store"
)

// RecordGitCommit stores the git commit of a version (written by the git
// worker once the version's commit exists) and drops the package's cached
// documents, which show it.
func (s *Service) RecordGitCommit(ctx context.Context, pk *store.Package, versionID int64, commit string) error {
	if err := s.store.SetGitCommit(ctx, versionID, commit); err != nil {
		return err
	}
	s.invalidatePackage(ctx, pk.NormalizedName)
	return nil
}
