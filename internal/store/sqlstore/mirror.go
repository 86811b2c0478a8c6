package sqlstore

import (
	"context"

	"github.com/dryad-lang/registry/internal/store"
)

func (x q) MirrorSummary(ctx context.Context, limit int) (*store.MirrorSummary, error) {
	var s store.MirrorSummary
	err := x.r.QueryRowContext(ctx, `
		SELECT count(mirror_pushed_at), max(mirror_pushed_at),
			COALESCE(sum(CASE WHEN mirror_error <> '' THEN 1 ELSE 0 END), 0)
		FROM packages`).Scan(&s.Pushed, nullTimeCol{&s.LastPushedAt}, &s.Failing)
	if err != nil {
		return nil, x.wrap(err, "mirror state")
	}
	if s.Failing == 0 || limit <= 0 {
		return &s, nil
	}
	rows, err := x.r.QueryContext(ctx, `SELECT name, mirror_error FROM packages
		WHERE mirror_error <> '' ORDER BY normalized_name LIMIT `+itoa(limit))
	if err != nil {
		return nil, x.wrap(err, "mirror state")
	}
	defer rows.Close()
	for rows.Next() {
		var f store.MirrorFailure
		if err := rows.Scan(&f.Package, &f.Error); err != nil {
			return nil, x.wrap(err, "mirror state")
		}
		s.Failures = append(s.Failures, f)
	}
	return &s, x.wrap(rows.Err(), "mirror state")
}
