package registry

import (
	"context"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
)

// HistoryEvent is a public event of a package's life: who published,
// yanked, deleted or changed owners, and when (never from where).
type HistoryEvent struct {
	At     time.Time
	Action string
	Actor  string
	Target string
}

// HistoryPage is a page of a package's history under its canonical name.
type HistoryPage struct {
	Name   string
	Events []HistoryEvent
	Total  int
}

// publicActions are the audit actions a package's history shows.
var publicActions = []string{"publish", "yank", "unyank", "delete", "owner_add", "owner_remove"}

// History lists a package's public events, newest first.
func (s *Service) History(ctx context.Context, name string, limit, offset int) (*HistoryPage, error) {
	p, err := s.store.GetPackage(ctx, normalize(name))
	if err != nil {
		return nil, errs.Errorf(errs.NotFound, "package %q not found", name)
	}
	evs, total, err := s.store.ListAudit(ctx, store.AuditFilter{Package: p.NormalizedName, Actions: publicActions, Outcome: store.OutcomeSuccess, Limit: limit, Offset: offset})
	if err != nil {
		return nil, err
	}
	out := &HistoryPage{Name: p.Name, Events: []HistoryEvent{}, Total: total}
	for _, e := range evs {
		out.Events = append(out.Events, HistoryEvent{At: e.At.UTC(), Action: e.Action, Actor: e.Actor, Target: e.Target})
	}
	return out, nil
}
