package registry

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/manifest"
)

// Dependent is a package whose live versions depend on another one.
type Dependent struct {
	Name    string
	Version string
	Range   string
}

// Dependents lists the packages whose live versions depend on a package,
// with the range of each one's newest such version, as they are now.
func (s *Service) Dependents(ctx context.Context, name string) ([]Dependent, error) {
	deps, err := s.store.Dependents(ctx, manifest.NormalizeName(name))
	if err != nil {
		return nil, err
	}
	out := []Dependent{}
	for _, d := range deps {
		out = append(out, Dependent{Name: d.Name, Version: d.Version, Range: d.Range})
	}
	return out, nil
}

// CanManage reports whether the principal may change a package: its
// owners, and admins signed in with their password.
func (s *Service) CanManage(ctx context.Context, p *auth.Principal, name string) (bool, error) {
	if p == nil {
		return false, nil
	}
	pk, err := s.lookupPackage(ctx, name)
	if err != nil {
		return false, err
	}
	if p.IsAdmin() {
		return true, nil
	}
	return s.store.IsOwner(ctx, pk.ID, p.UserID)
}

// PublicUser is a user's public profile: never the email address.
type PublicUser struct {
	Username string
	FullName string
	JoinedAt time.Time
	Packages []PackageSummary
}

// PublicProfile returns what anyone may see of a user: the name, when they
// joined and the live packages they own. Disabled accounts are not shown.
func (s *Service) PublicProfile(ctx context.Context, username string) (*PublicUser, error) {
	u, err := s.store.GetUserByName(ctx, strings.TrimSpace(username))
	if errors.Is(err, errs.NotFound) || (err == nil && u.Disabled) {
		return nil, errs.Errorf(errs.NotFound, "user %q not found", username)
	}
	if err != nil {
		return nil, err
	}
	pkgs, err := s.UserPackages(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	// Owned packages whose every version was yanked or deleted have no
	// latest version and nothing to show.
	live := pkgs[:0]
	for _, p := range pkgs {
		if p.Version != "" {
			live = append(live, p)
		}
	}
	return &PublicUser{Username: u.Username, FullName: u.FullName, JoinedAt: u.CreatedAt, Packages: live}, nil
}
