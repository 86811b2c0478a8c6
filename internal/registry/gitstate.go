package registry

import (
	"context"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
)

// GitState is what owners and admins see of a package's git repository:
// the commit main should point at, and the outcome of the last push to the
// mirror. Mirror errors may name the mirror's host, so this is not public.
type GitState struct {
	Name string
	// Latest and LatestCommit are the version main follows and its commit
	// ("" while the git step is still queued).
	Latest       string
	LatestCommit string
	// Mirrored reports whether a push to a mirror was ever attempted.
	Mirrored       bool
	MirrorPushedAt *time.Time
	MirrorError    string
}

// PackageGitState returns a package's git and mirror state to its owners
// and to admins.
func (s *Service) PackageGitState(ctx context.Context, p *auth.Principal, name string) (*GitState, error) {
	ok, err := s.CanManage(ctx, p, name)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, errs.New(errs.Unauthenticated, "log in first")
	}
	if !ok {
		return nil, errs.Errorf(errs.Forbidden, "only the owners of %q and admins see its git mirror state", name)
	}
	pk, err := s.lookupPackage(ctx, name)
	if err != nil {
		return nil, err
	}
	st := &GitState{Name: pk.Name, Latest: pk.Latest, MirrorPushedAt: pk.MirrorPushedAt, MirrorError: pk.MirrorError,
		Mirrored: pk.MirrorPushedAt != nil || pk.MirrorError != ""}
	if pk.Latest != "" {
		vs, err := s.store.ListVersions(ctx, pk.ID)
		if err != nil {
			return nil, err
		}
		for i := range vs {
			if vs[i].Version == pk.Latest {
				st.LatestCommit = vs[i].GitCommit
			}
		}
	}
	return st, nil
}
