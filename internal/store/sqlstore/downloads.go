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

func (x q) TrendingPackages(ctx context.Context, sinceDay string, limit int) ([]store.TrendingPackage, error) {
	// The sums come from version_downloads_day (migration 0006): only the
	// recent days are read, whatever the history's length.
	rows, err := x.r.QueryContext(ctx, `SELECT `+packageColumns+`, t.n FROM (
			SELECT v.package_id, sum(d.count) AS n FROM version_downloads d
			JOIN versions v ON v.id = d.version_id
			WHERE d.day >= $1 GROUP BY v.package_id) t
		JOIN packages p ON p.id = t.package_id
		WHERE p.deleted_at IS NULL AND p.latest <> '' AND t.n > 0
		ORDER BY t.n DESC, p.normalized_name LIMIT `+itoa(limit), sinceDay)
	if err != nil {
		return nil, x.wrap(err, "trending")
	}
	defer rows.Close()
	var out []store.TrendingPackage
	for rows.Next() {
		var t store.TrendingPackage
		p := &t.Package
		if err := rows.Scan(&p.ID, &p.Name, &p.NormalizedName, &p.Description, jsonList{&p.Keywords}, &p.Homepage,
			&p.Repository, &p.License, &p.Latest, &p.Downloads, timeCol{&p.CreatedAt}, timeCol{&p.UpdatedAt},
			nullTimeCol{&p.DeletedAt}, nullTimeCol{&p.MirrorPushedAt}, &p.MirrorError, &t.Recent); err != nil {
			return nil, x.wrap(err, "trending")
		}
		out = append(out, t)
	}
	return out, x.wrap(rows.Err(), "trending")
}
