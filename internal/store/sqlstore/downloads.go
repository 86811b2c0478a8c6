package sqlstore

import (
	"context"
	"time"

	"github.com/dryad-lang/registry/internal/store"
)

func (x q) AddDownloads(ctx context.Context, batchID string, counts []store.DownloadCount) error {
	return x.atomic(ctx, func(t q) error {
		res, err := t.w.ExecContext(ctx, `INSERT INTO download_batches (batch_id, applied_at) VALUES ($1, $2)
			ON CONFLICT (batch_id) DO NOTHING`, batchID, utc(time.Now()))
		if err != nil {
			return t.wrap(err, "download batch")
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // applied before: nothing to do
		}
		for _, c := range counts {
			if c.Count <= 0 {
				continue
			}
			if _, err := t.w.ExecContext(ctx, `INSERT INTO version_downloads (version_id, day, count)
				VALUES ($1, $2, $3)
				ON CONFLICT (version_id, day) DO UPDATE SET count = version_downloads.count + excluded.count`,
				c.VersionID, c.Day, c.Count); err != nil {
				return t.wrap(err, "downloads")
			}
			if _, err := t.w.ExecContext(ctx, `UPDATE versions SET downloads = downloads + $2 WHERE id = $1`,
				c.VersionID, c.Count); err != nil {
				return t.wrap(err, "downloads")
			}
			if _, err := t.w.ExecContext(ctx, `UPDATE packages SET downloads = downloads + $2
				WHERE id = (SELECT package_id FROM versions WHERE id = $1)`, c.VersionID, c.Count); err != nil {
				return t.wrap(err, "downloads")
			}
		}
		return nil
	})
}

func (x q) VersionDownloads(ctx context.Context, packageID int64, sinceDay string) (map[int64][]store.DailyDownloads, error) {
	rows, err := x.r.QueryContext(ctx, `SELECT d.version_id, CAST(d.day AS TEXT), d.count FROM version_downloads d
		JOIN versions v ON v.id = d.version_id
		WHERE v.package_id = $1 AND d.day >= $2 ORDER BY d.version_id, d.day`, packageID, sinceDay)
	if err != nil {
		return nil, x.wrap(err, "downloads")
	}
	defer rows.Close()
	out := make(map[int64][]store.DailyDownloads)
	for rows.Next() {
		var id int64
		var d store.DailyDownloads
		if err := rows.Scan(&id, &d.Day, &d.Count); err != nil {
			return nil, x.wrap(err, "downloads")
		}
		out[id] = append(out[id], d)
	}
	return out, x.wrap(rows.Err(), "downloads")
}

func (x q) PackageDownloadsSince(ctx context.Context, packageID int64, sinceDay string) (int64, error) {
	var n int64
	err := x.r.QueryRowContext(ctx, `SELECT COALESCE(sum(d.count), 0) FROM version_downloads d
		JOIN versions v ON v.id = d.version_id WHERE v.package_id = $1 AND d.day >= $2`, packageID, sinceDay).Scan(&n)
	return n, x.wrap(err, "downloads")
}
