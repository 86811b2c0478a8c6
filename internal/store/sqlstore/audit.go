package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/store"
)

func (x q) AddAudit(ctx context.Context, e *store.AuditEvent) error {
	if e.At.IsZero() {
		e.At = time.Now().UTC().Truncate(time.Microsecond)
	}
	var actorID any
	if e.ActorID != 0 {
		actorID = e.ActorID
	}
	err := x.w.QueryRowContext(ctx, `
		INSERT INTO audit_events (at, actor_id, actor, ip, action, package, target, outcome, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		utc(e.At), actorID, e.Actor, e.IP, e.Action, e.Package, e.Target, e.Outcome, e.Detail).Scan(&e.ID)
	return x.wrap(err, "audit event")
}

func (x q) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, int, error) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + itoa(len(args))
	}
	if f.Actor != "" {
		conds = append(conds, "lower(actor) = lower("+arg(f.Actor)+")")
	}
	if f.Package != "" {
		conds = append(conds, "package = "+arg(f.Package))
	}
	if f.Action != "" {
		conds = append(conds, "action = "+arg(f.Action))
	}
	if f.Outcome != "" {
		conds = append(conds, "outcome = "+arg(f.Outcome))
	}
	if len(f.Actions) > 0 {
		var in []string
		for _, a := range f.Actions {
			in = append(in, arg(a))
		}
		conds = append(conds, "action IN ("+strings.Join(in, ", ")+")")
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	var total int
	if err := x.r.QueryRowContext(ctx, `SELECT count(*) FROM audit_events`+where, args...).Scan(&total); err != nil {
		return nil, 0, x.wrap(err, "audit events")
	}
	limit, offset := page(f.Limit, f.Offset)
	rows, err := x.r.QueryContext(ctx, `SELECT id, at, COALESCE(actor_id, 0), actor, ip, action, package, target,
		outcome, detail FROM audit_events`+where+` ORDER BY id DESC LIMIT `+itoa(limit)+` OFFSET `+itoa(offset), args...)
	if err != nil {
		return nil, 0, x.wrap(err, "audit events")
	}
	defer rows.Close()
	var out []store.AuditEvent
	for rows.Next() {
		var e store.AuditEvent
		if err := rows.Scan(&e.ID, timeCol{&e.At}, &e.ActorID, &e.Actor, &e.IP, &e.Action, &e.Package,
			&e.Target, &e.Outcome, &e.Detail); err != nil {
			return nil, 0, x.wrap(err, "audit events")
		}
		out = append(out, e)
	}
	return out, total, x.wrap(rows.Err(), "audit events")
}
