package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/store"
)

func (x q) AddOwner(ctx context.Context, packageID, userID int64, at time.Time) error {
	_, err := x.w.ExecContext(ctx, `INSERT INTO owners (package_id, user_id, added_at) VALUES ($1, $2, $3)
		ON CONFLICT (package_id, user_id) DO NOTHING`, packageID, userID, utc(at))
	return x.wrap(err, "owner")
}

func (x q) RemoveOwner(ctx context.Context, packageID, userID int64) error {
	res, err := x.w.ExecContext(ctx, `DELETE FROM owners WHERE package_id = $1 AND user_id = $2`, packageID, userID)
	return x.wrap(mustAffect(res, err, "owner"), "owner")
}

func (x q) ListOwners(ctx context.Context, packageID int64) ([]store.Owner, error) {
	rows, err := x.r.QueryContext(ctx, `SELECT o.user_id, u.username, o.added_at FROM owners o
		JOIN users u ON u.id = o.user_id WHERE o.package_id = $1 ORDER BY o.added_at, u.username`, packageID)
	if err != nil {
		return nil, x.wrap(err, "owners")
	}
	defer rows.Close()
	var out []store.Owner
	for rows.Next() {
		var o store.Owner
		if err := rows.Scan(&o.UserID, &o.Username, timeCol{&o.AddedAt}); err != nil {
			return nil, x.wrap(err, "owners")
		}
		out = append(out, o)
	}
	return out, x.wrap(rows.Err(), "owners")
}

func (x q) IsOwner(ctx context.Context, packageID, userID int64) (bool, error) {
	var n int
	err := x.r.QueryRowContext(ctx, `SELECT count(*) FROM owners WHERE package_id = $1 AND user_id = $2`,
		packageID, userID).Scan(&n)
	return n > 0, x.wrap(err, "owner")
}

// ownersOfBatch bounds the ids of one OwnersOf query: the list is written
// into the statement, and a statement stays small whatever the caller asks.
const ownersOfBatch = 500

func (x q) OwnersOf(ctx context.Context, packageIDs []int64) ([]store.OwnerContact, error) {
	var out []store.OwnerContact
	for start := 0; start < len(packageIDs); start += ownersOfBatch {
		ids := packageIDs[start:min(start+ownersOfBatch, len(packageIDs))]
		// Ids are integers, so writing them into the statement is safe, and
		// it keeps one statement for both engines (no array parameters).
		list := make([]string, len(ids))
		for i, id := range ids {
			list[i] = strconv.FormatInt(id, 10)
		}
		rows, err := x.r.QueryContext(ctx, `SELECT o.package_id, o.user_id, u.username, u.email, u.disabled
			FROM owners o JOIN users u ON u.id = o.user_id
			WHERE o.package_id IN (`+strings.Join(list, ", ")+`)
			ORDER BY o.package_id, u.username`)
		if err != nil {
			return nil, x.wrap(err, "owners")
		}
		for rows.Next() {
			var c store.OwnerContact
			if err := rows.Scan(&c.PackageID, &c.UserID, &c.Username, &c.Email, &c.Disabled); err != nil {
				rows.Close()
				return nil, x.wrap(err, "owners")
			}
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, x.wrap(err, "owners")
		}
	}
	return out, nil
}
