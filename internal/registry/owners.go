package registry

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/manifest"
	"github.com/dryad-lang/registry/internal/store"
	"github.com/dryad-lang/registry/internal/tlog"
)

// Owner describes an owner of a package.
type Owner struct {
	Username string
	AddedAt  time.Time
}

// OwnerList is a package's owners under its canonical name.
type OwnerList struct {
	Name   string
	Owners []Owner
}

// Owners lists a package's owners.
func (s *Service) Owners(ctx context.Context, name string) (*OwnerList, error) {
	p, err := s.lookupPackage(ctx, name)
	if err != nil {
		return nil, err
	}
	os, err := s.store.ListOwners(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	out := &OwnerList{Name: p.Name, Owners: []Owner{}}
	for _, o := range os {
		out.Owners = append(out.Owners, Owner{Username: o.Username, AddedAt: o.AddedAt.UTC()})
	}
	return out, nil
}

// AddOwners makes users co-owners of a package. Owners (and admins) may.
func (s *Service) AddOwners(ctx context.Context, p *auth.Principal, name string, usernames []string, ip string) (*OwnerList, error) {
	return s.changeOwners(ctx, p, name, usernames, true, ip)
}

// RemoveOwners removes co-owners. A package always keeps at least one
// owner; an admin may transfer a package by adding the new owner first.
func (s *Service) RemoveOwners(ctx context.Context, p *auth.Principal, name string, usernames []string, ip string) (*OwnerList, error) {
	return s.changeOwners(ctx, p, name, usernames, false, ip)
}

func (s *Service) changeOwners(ctx context.Context, p *auth.Principal, name string, usernames []string, add bool, ip string) (*OwnerList, error) {
	action := "owner_add"
	if !add {
		action = "owner_remove"
	}
	if p == nil {
		return nil, errs.New(errs.Unauthenticated, "log in or send an API token to change owners")
	}
	if err := p.Require(auth.ScopeOwners, name); err != nil {
		return nil, err
	}
	if len(usernames) == 0 || len(usernames) > 50 {
		return nil, errs.New(errs.Invalid, `send {"users": ["name", ...]} with 1 to 50 usernames`)
	}
	var pk *store.Package
	err := s.store.Transact(ctx, func(tx store.Queries) error {
		var err error
		pk, err = tx.LockPackage(ctx, manifest.NormalizeName(name))
		if errors.Is(err, errs.NotFound) {
			return errs.Errorf(errs.NotFound, "package %q not found", name)
		}
		if err != nil {
			return err
		}
		if err := s.requireOwner(ctx, tx, p, pk); err != nil {
			return err
		}
		// A deleted package's name stays with its last owners: nobody
		// joins or leaves them any more.
		if pk.DeletedAt != nil {
			return errs.Errorf(errs.Gone, "package %q was deleted; its owners can no longer change", pk.Name)
		}
		now := s.utcNow()
		for _, un := range usernames {
			u, err := tx.GetUserByName(ctx, strings.TrimSpace(un))
			if errors.Is(err, errs.NotFound) {
				return errs.OnField(errs.Errorf(errs.Unprocessable, "user %q not found", un), "users")
			}
			if err != nil {
				return err
			}
			kind := tlog.OwnerRemove
			if add {
				if u.Disabled {
					return errs.OnField(errs.Errorf(errs.Unprocessable, "user %q is disabled and cannot own packages", u.Username), "users")
				}
				// Only a change is logged: adding an owner again is not one.
				if owner, err := tx.IsOwner(ctx, pk.ID, u.ID); err != nil {
					return err
				} else if owner {
					kind = ""
				} else if err := tx.AddOwner(ctx, pk.ID, u.ID, now); err != nil {
					return err
				} else {
					kind = tlog.OwnerAdd
				}
			} else if err := tx.RemoveOwner(ctx, pk.ID, u.ID); errors.Is(err, errs.NotFound) {
				return errs.Errorf(errs.Unprocessable, "user %q is not an owner of %s", u.Username, pk.Name)
			} else if err != nil {
				return err
			}
			if kind != "" {
				if err := s.logOwner(ctx, tx, kind, pk, u.Username, p.Username, now); err != nil {
					return err
				}
				ev := EventOwnerAdded
				if !add {
					ev = EventOwnerRemoved
				}
				if err := s.queueWebhooks(ctx, tx, pk.ID, WebhookEvent{Name: ev, Package: pk.Name, Actor: p.Username, Time: now,
					Data: map[string]any{"owner": u.Username}}); err != nil {
					return err
				}
			}
			e := actor(p, ip)
			e.At, e.Action, e.Package, e.Target, e.Outcome = now, action, pk.NormalizedName, u.Username, store.OutcomeSuccess
			if err := tx.AddAudit(ctx, &e); err != nil {
				return err
			}
		}
		owners, err := tx.ListOwners(ctx, pk.ID)
		if err != nil {
			return err
		}
		if len(owners) == 0 {
			return errs.Errorf(errs.Conflict, "%s must keep at least one owner; add the new owner before removing the last one", pk.Name)
		}
		return nil
	})
	if err != nil {
		s.auditDenied(ctx, p, ip, action, name, strings.Join(usernames, ","), err)
		return nil, err
	}
	s.invalidatePackage(ctx, pk.NormalizedName)
	s.webhookWork()
	return s.Owners(ctx, pk.Name)
}
