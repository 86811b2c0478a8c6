package registry

import (
	"context"
	"fmt"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/manifest"
	"github.com/dryad-lang/registry/internal/store"
	"github.com/dryad-lang/registry/internal/tlog"
)

// DeleteWindow is how long after publishing an owner may delete a version
// (the rule of the npm registry); later, only admins can.
const DeleteWindow = 72 * time.Hour

// SetYanked yanks or unyanks a version. Yanked versions stay downloadable
// but are never picked by ranges nor shown as latest.
func (s *Service) SetYanked(ctx context.Context, p *auth.Principal, name, version string, yanked bool, ip string) (*Version, error) {
	action := "yank"
	if !yanked {
		action = "unyank"
	}
	if p == nil {
		return nil, errs.New(errs.Unauthenticated, "log in or send an API token to "+action+" versions")
	}
	if err := p.Require(auth.ScopeYank, name); err != nil {
		return nil, err
	}
	var doc Version
	var pk *store.Package
	var notice *pendingNotice
	err := s.store.Transact(ctx, func(tx store.Queries) error {
		var v *store.Version
		var err error
		pk, v, err = s.lockVersion(ctx, tx, name, version)
		if err != nil {
			return err
		}
		if err := s.requireOwner(ctx, tx, p, pk); err != nil {
			return err
		}
		now := s.utcNow()
		notice = nil
		if yanked && !v.Yanked {
			// Unyanking only gives ranges a version back: nobody loses one.
			if notice, err = s.planNotice(ctx, tx, pk, v, ImpactYank, p.Username, now); err != nil {
				return err
			}
		}
		if v.Yanked != yanked {
			if err := tx.SetYanked(ctx, v.ID, yanked, now); err != nil {
				return err
			}
			if err := s.logVersion(ctx, tx, tlog.Kind(action), pk, v, p.Username, now); err != nil {
				return err
			}
			ev := EventVersionYanked
			if !yanked {
				ev = EventVersionUnyanked
			}
			if err := s.queueWebhooks(ctx, tx, pk.ID, WebhookEvent{Name: ev, Package: pk.Name, Version: v.Version, Actor: p.Username, Time: now}); err != nil {
				return err
			}
		}
		if err := s.refreshLatest(ctx, tx, pk, now); err != nil {
			return err
		}
		e := actor(p, ip)
		e.At, e.Action, e.Package, e.Target, e.Outcome = now, action, pk.NormalizedName, pk.Name+"@"+v.Version, store.OutcomeSuccess
		if err := tx.AddAudit(ctx, &e); err != nil {
			return err
		}
		v.Yanked = yanked
		doc = newVersion(pk.Name, v)
		return nil
	})
	if err != nil {
		s.auditDenied(ctx, p, ip, action, name, name+"@"+version, err)
		return nil, err
	}
	s.invalidatePackage(ctx, pk.NormalizedName)
	s.gitWork()
	s.sendNotice(ctx, notice)
	s.webhookWork()
	return &doc, nil
}

// DeleteVersion deletes one version. Owners may do so within DeleteWindow
// of publishing and only when no other package's live versions depend on
// it; admins are not bound by either rule. The row stays (marked deleted)
// so the number is never reused; the archive stays for git rebuilds.
func (s *Service) DeleteVersion(ctx context.Context, p *auth.Principal, name, version, ip string) (*Version, error) {
	if p == nil {
		return nil, errs.New(errs.Unauthenticated, "log in or send an API token to delete versions")
	}
	if err := p.Require(auth.ScopePublish, name); err != nil {
		return nil, err
	}
	var pk *store.Package
	var doc Version
	var notice *pendingNotice
	err := s.store.Transact(ctx, func(tx store.Queries) error {
		var v *store.Version
		var err error
		pk, v, err = s.lockVersion(ctx, tx, name, version)
		if err != nil {
			return err
		}
		if err := s.requireOwner(ctx, tx, p, pk); err != nil {
			return err
		}
		now := s.utcNow()
		if !p.IsAdmin() {
			if age := now.Sub(v.PublishedAt); age > DeleteWindow {
				return errs.Errorf(errs.Conflict, "%s@%s was published %s ago; versions can be deleted only within 72 hours of publishing. Yank it instead (it stays downloadable for existing lockfiles), or ask an admin",
					pk.Name, v.Version, age.Round(time.Hour))
			}
			vs, err := tx.ListVersions(ctx, pk.ID)
			if err != nil {
				return err
			}
			if err := s.checkNoDependents(ctx, tx, pk, vs, v); err != nil {
				return err
			}
		}
		if notice, err = s.planNotice(ctx, tx, pk, v, ImpactDelete, p.Username, now); err != nil {
			return err
		}
		if err := tx.MarkVersionDeleted(ctx, v.ID, now); err != nil {
			return err
		}
		if err := s.logVersion(ctx, tx, tlog.Delete, pk, v, p.Username, now); err != nil {
			return err
		}
		if err := s.queueWebhooks(ctx, tx, pk.ID, WebhookEvent{Name: EventVersionDeleted, Package: pk.Name, Version: v.Version, Actor: p.Username, Time: now}); err != nil {
			return err
		}
		doc = newVersion(pk.Name, v)
		if err := s.refreshLatest(ctx, tx, pk, now); err != nil {
			return err
		}
		e := actor(p, ip)
		e.At, e.Action, e.Package, e.Target, e.Outcome = now, "delete", pk.NormalizedName, pk.Name+"@"+v.Version, store.OutcomeSuccess
		if p.IsAdmin() {
			e.Detail = "by an admin"
		}
		if err := tx.AddAudit(ctx, &e); err != nil {
			return err
		}
		return tx.EnqueueGitJob(ctx, &store.GitJob{PackageID: pk.ID, Kind: store.GitDeleteTag, Version: v.Version})
	})
	if err != nil {
		s.auditDenied(ctx, p, ip, "delete", name, name+"@"+version, err)
		return nil, err
	}
	s.invalidatePackage(ctx, pk.NormalizedName)
	s.gitWork()
	s.sendNotice(ctx, notice)
	s.webhookWork()
	return &doc, nil
}

// DeletePackage deletes every version of a package and hides it, under the
// same rules as DeleteVersion for each version. The name stays with its
// owners: only they can publish it again.
func (s *Service) DeletePackage(ctx context.Context, p *auth.Principal, name, ip string) (canonical string, err error) {
	if p == nil {
		return "", errs.New(errs.Unauthenticated, "log in or send an API token to delete packages")
	}
	if err := p.Require(auth.ScopePublish, name); err != nil {
		return "", err
	}
	var pk *store.Package
	var keys []string
	var notice *pendingNotice
	err = s.store.Transact(ctx, func(tx store.Queries) error {
		var err error
		pk, err = tx.LockPackage(ctx, manifest.NormalizeName(name))
		if err != nil {
			return err
		}
		if pk.DeletedAt != nil {
			return errs.Errorf(errs.Gone, "package %q was already deleted", pk.Name)
		}
		if err := s.requireOwner(ctx, tx, p, pk); err != nil {
			return err
		}
		vs, err := tx.ListVersions(ctx, pk.ID)
		if err != nil {
			return err
		}
		now := s.utcNow()
		if !p.IsAdmin() {
			for i := range vs {
				v := &vs[i]
				if v.DeletedAt == nil && now.Sub(v.PublishedAt) > DeleteWindow {
					return errs.Errorf(errs.Conflict, "%s@%s was published more than 72 hours ago; a package can be deleted only while all its versions are younger. Yank its versions instead, or ask an admin",
						pk.Name, v.Version)
				}
			}
			deps, err := tx.Dependents(ctx, pk.NormalizedName)
			if err != nil {
				return err
			}
			if len(deps) > 0 {
				return errs.Errorf(errs.Conflict, "%s cannot be deleted: %s@%s depends on it (%q); deleting it would break their installs",
					pk.Name, deps[0].Name, deps[0].Version, deps[0].Range)
			}
		}
		if notice, err = s.planNotice(ctx, tx, pk, nil, ImpactDelete, p.Username, now); err != nil {
			return err
		}
		keys = nil
		for i := range vs {
			v := &vs[i]
			if v.DeletedAt != nil {
				continue
			}
			if err := tx.MarkVersionDeleted(ctx, v.ID, now); err != nil {
				return err
			}
			if err := s.logVersion(ctx, tx, tlog.Delete, pk, v, p.Username, now); err != nil {
				return err
			}
			keys = append(keys, v.Key)
			if err := tx.EnqueueGitJob(ctx, &store.GitJob{PackageID: pk.ID, Kind: store.GitDeleteTag, Version: v.Version}); err != nil {
				return err
			}
		}
		pk.Latest = ""
		pk.UpdatedAt = now
		pk.DeletedAt = &now
		if err := tx.UpdatePackage(ctx, pk); err != nil {
			return err
		}
		// One event for the whole package rather than one per version.
		if err := s.queueWebhooks(ctx, tx, pk.ID, WebhookEvent{Name: EventPackageDeleted, Package: pk.Name, Actor: p.Username, Time: now,
			Data: map[string]any{"versions": fmt.Sprint(len(keys))}}); err != nil {
			return err
		}
		e := actor(p, ip)
		e.At, e.Action, e.Package, e.Target, e.Outcome = now, "delete", pk.NormalizedName, pk.Name, store.OutcomeSuccess
		e.Detail = fmt.Sprintf("%d versions", len(keys))
		return tx.AddAudit(ctx, &e)
	})
	if err != nil {
		s.auditDenied(ctx, p, ip, "delete", name, name, err)
		return "", err
	}
	s.invalidatePackage(ctx, pk.NormalizedName)
	s.gitWork()
	s.sendNotice(ctx, notice)
	s.webhookWork()
	return pk.Name, nil
}

// checkNoDependents refuses to delete v while a live version of another
// package depends on this package with a range v satisfies and no other
// live version does.
func (s *Service) checkNoDependents(ctx context.Context, q store.Queries, pk *store.Package, vs []store.Version, v *store.Version) error {
	deps, err := q.Dependents(ctx, pk.NormalizedName)
	if err != nil {
		return err
	}
	var others []store.Version
	for i := range vs {
		if vs[i].ID != v.ID {
			others = append(others, vs[i])
		}
	}
	for _, d := range deps {
		r, err := manifest.ParseRange(d.Range)
		if err != nil || !r.Check(semverOf(v)) {
			continue
		}
		if bestMatch(others, r) == nil {
			return errs.Errorf(errs.Conflict, "%s@%s cannot be deleted: %s@%s depends on it (%q) and no other version satisfies that range",
				pk.Name, v.Version, d.Name, d.Version, d.Range)
		}
	}
	return nil
}

// lockVersion locks a live package and finds one of its versions.
func (s *Service) lockVersion(ctx context.Context, tx store.Queries, name, version string) (*store.Package, *store.Version, error) {
	pk, err := tx.LockPackage(ctx, manifest.NormalizeName(name))
	if err != nil {
		return nil, nil, errs.Errorf(errs.NotFound, "package %q not found", name)
	}
	if pk.DeletedAt != nil {
		return nil, nil, errs.Errorf(errs.Gone, "package %q was deleted", pk.Name)
	}
	sv, err := manifest.ParseVersion(version)
	if err != nil {
		return nil, nil, errs.Errorf(errs.NotFound, "%s has no version %q", pk.Name, version)
	}
	v, err := tx.GetVersion(ctx, pk.ID, manifest.Key(sv))
	if err != nil {
		return nil, nil, errs.Errorf(errs.NotFound, "%s has no version %q", pk.Name, version)
	}
	if v.DeletedAt != nil {
		return nil, nil, errs.Errorf(errs.Gone, "%s@%s was deleted", pk.Name, v.Version)
	}
	return pk, v, nil
}

// refreshLatest recomputes the package's latest version and descriptive
// fields after a change, and queues the git branch update when it moved.
func (s *Service) refreshLatest(ctx context.Context, tx store.Queries, pk *store.Package, now time.Time) error {
	vs, err := tx.ListVersions(ctx, pk.ID)
	if err != nil {
		return err
	}
	latest := ""
	l := latestOf(vs)
	if l != nil {
		latest = l.Version
		if m, err := manifest.Parse(l.Manifest); err == nil {
			applyManifest(pk, m)
		}
	}
	moved := latest != pk.Latest
	pk.Latest = latest
	pk.UpdatedAt = now
	if err := tx.UpdatePackage(ctx, pk); err != nil {
		return err
	}
	// Also when no latest is left (every version yanked): the git worker
	// then points main at the highest version that is not deleted, which a
	// rebuild can reproduce.
	if moved {
		return tx.EnqueueGitJob(ctx, &store.GitJob{PackageID: pk.ID, Kind: store.GitSetMain, Version: latest})
	}
	return nil
}

// auditDenied records refused attempts (403) at state changes.
func (s *Service) auditDenied(ctx context.Context, p *auth.Principal, ip, action, pkg, target string, err error) {
	if errs.KindOf(err) != errs.Forbidden {
		return
	}
	e := actor(p, ip)
	e.Action, e.Package, e.Target, e.Outcome, e.Detail = action, normalize(pkg), target, store.OutcomeDenied, errs.Message(err)
	s.audit(ctx, &e)
}
