package registry

import (
	"context"
	"time"

	"github.com/dryad-lang/registry/internal/store"
)

// Notifier tells the owners of other packages about a change that affects
// them. The registry calls Notify after the change committed; Notify must
// return promptly (deliver in the background) and deals with its own
// failures, since the change it reports has happened whatever they are.
type Notifier interface {
	Notify(ctx context.Context, n Notice)
}

// Notifiers tells every one of its notifiers: the wiring composes the
// configured ones (e-mail, webhooks) into the registry's one.
type Notifiers []Notifier

// Notify tells each notifier in turn; each returns promptly.
func (ns Notifiers) Notify(ctx context.Context, n Notice) {
	for _, x := range ns {
		x.Notify(ctx, n)
	}
}

// Notice is a yank or delete that changed how other packages' ranges
// resolve.
type Notice struct {
	// Event is EventDependentsAffected.
	Event string
	// Action, Package and Version are the change ("" Version: the whole
	// package was deleted); Actor is who made it, At when.
	Action  ImpactAction
	Package string
	Version string
	Actor   string
	At      time.Time
	// Affected are the dependent packages whose resolutions moved, each
	// with its owners and versions.
	Affected []AffectedPackage
}

// AffectedPackage is one dependent package named by a Notice.
type AffectedPackage struct {
	Name string
	// Owners are those to tell: the package's owners whose accounts are
	// enabled.
	Owners []Recipient
	// Versions are the package's versions whose resolution moved; their
	// Owners field lists every owner's username.
	Versions []ImpactEntry
}

// Recipient is an owner to notify.
type Recipient struct {
	Username string
	Email    string
}

// pendingNotice is a change whose notice is sent once it committed.
type pendingNotice struct {
	action       ImpactAction
	pkg, version string
	actor        string
	at           time.Time
	rows         []affected
}

// planNotice computes, inside the change's transaction and before the
// change, what a yank or delete of target (every version when nil) moves,
// and queues the dependents.affected webhook event of each affected
// package in that transaction (so it is sent if and only if the change
// commits). The notice itself goes to the Notifier once the change
// committed (sendNotice).
func (s *Service) planNotice(ctx context.Context, tx store.Queries, pk *store.Package, target *store.Version, action ImpactAction, actor string, at time.Time) (*pendingNotice, error) {
	vs, err := tx.ListVersions(ctx, pk.ID)
	if err != nil {
		return nil, err
	}
	rows, err := s.impactRows(ctx, tx, pk, vs, target, action)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	n := &pendingNotice{action: action, pkg: pk.Name, actor: actor, at: at, rows: rows}
	if target != nil {
		n.version = target.Version
	}
	if err := s.queueAffected(ctx, tx, n); err != nil {
		return nil, err
	}
	return n, nil
}

// queueAffected queues, in tx, one dependents.affected event for the
// hooks of each affected package: the dependency, what happened to it,
// and the package's versions whose range now resolves differently.
func (s *Service) queueAffected(ctx context.Context, tx store.Queries, n *pendingNotice) error {
	for i := 0; i < len(n.rows); {
		j := i
		var versions []map[string]any
		for ; j < len(n.rows) && n.rows[j].packageID == n.rows[i].packageID; j++ {
			e := n.rows[j].entry
			var to any
			if e.To != "" {
				to = e.To
			}
			versions = append(versions, map[string]any{"version": e.Version, "range": e.Range, "from": e.From, "to": to})
		}
		var depVersion any
		if n.version != "" {
			depVersion = n.version
		}
		first := n.rows[i].entry
		ev := WebhookEvent{Name: EventDependentsAffected, Package: first.Package, Actor: n.actor, Time: n.at,
			Data: map[string]any{"dependency": n.pkg, "dependency_version": depVersion, "action": string(n.action), "versions": versions}}
		if err := s.queueWebhooks(ctx, tx, n.rows[i].packageID, ev); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// sendNotice looks up the affected packages' owners and hands the notice
// to the notifier. The change is committed: a failure here is logged, not
// returned.
func (s *Service) sendNotice(ctx context.Context, p *pendingNotice) {
	if p == nil || s.opts.Notifier == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	owners, err := s.ownersOf(ctx, p.rows)
	if err != nil {
		s.log.ErrorContext(ctx, "reading the owners of affected dependents; they are not notified",
			"package", p.pkg, "version", p.version, "action", p.action, "err", err)
		return
	}
	n := Notice{Event: EventDependentsAffected, Action: p.action, Package: p.pkg, Version: p.version, Actor: p.actor, At: p.at}
	for i, r := range p.rows {
		if i == 0 || r.packageID != p.rows[i-1].packageID {
			a := AffectedPackage{Name: r.entry.Package}
			for _, o := range owners[r.packageID] {
				if !o.Disabled && o.Email != "" {
					a.Owners = append(a.Owners, Recipient{Username: o.Username, Email: o.Email})
				}
			}
			n.Affected = append(n.Affected, a)
		}
		e := r.entry
		e.Owners = nil
		for _, o := range owners[r.packageID] {
			e.Owners = append(e.Owners, o.Username)
		}
		last := &n.Affected[len(n.Affected)-1]
		last.Versions = append(last.Versions, e)
	}
	s.opts.Notifier.Notify(ctx, n)
}
