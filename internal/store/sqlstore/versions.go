package sqlstore

import (
	"context"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
)

const versionColumns = `v.id, v.package_id, v.version, v.version_key, v.manifest, v.checksum, v.size,
	v.unpacked_size, v.file_count, v.readme, v.readme_html, v.yanked, v.yanked_at, v.deleted_at,
	v.published_at, v.publisher_id, COALESCE(u.username, ''), v.git_commit, v.downloads`

const versionFrom = ` FROM versions v LEFT JOIN users u ON u.id = v.publisher_id`

func scanVersion(row interface{ Scan(...any) error }) (*store.Version, error) {
	var v store.Version
	err := row.Scan(&v.ID, &v.PackageID, &v.Version, &v.Key, bytesCol{&v.Manifest}, &v.Checksum, &v.Size,
		&v.UnpackedSize, &v.FileCount, &v.Readme, &v.ReadmeHTML, &v.Yanked, nullTimeCol{&v.YankedAt},
		nullTimeCol{&v.DeletedAt}, timeCol{&v.PublishedAt}, &v.PublisherID, &v.Publisher, &v.GitCommit, &v.Downloads)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func (x q) CreateVersion(ctx context.Context, v *store.Version) error {
	if v.PublishedAt.IsZero() {
		v.PublishedAt = time.Now().UTC().Truncate(time.Microsecond)
	}
	return x.atomic(ctx, func(t q) error {
		err := t.w.QueryRowContext(ctx, `
			INSERT INTO versions (package_id, version, version_key, manifest, checksum, size, unpacked_size,
				file_count, readme, readme_html, yanked, published_at, publisher_id, git_commit)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
			v.PackageID, v.Version, v.Key, string(v.Manifest), v.Checksum, v.Size, v.UnpackedSize,
			v.FileCount, v.Readme, v.ReadmeHTML, v.Yanked, utc(v.PublishedAt), v.PublisherID, v.GitCommit).Scan(&v.ID)
		if err != nil && t.d.IsUnique(err) {
			return errs.Errorf(errs.Conflict, "version %s already exists", v.Version)
		}
		if err != nil {
			return t.wrap(err, "version")
		}
		for _, d := range v.Dependencies {
			if _, err := t.w.ExecContext(ctx, `INSERT INTO dependencies (version_id, name, version_range, dev)
				VALUES ($1, $2, $3, $4)`, v.ID, d.Name, d.Range, d.Dev); err != nil {
				return t.wrap(err, "dependency "+quote(d.Name))
			}
		}
		return nil
	})
}

func (x q) ListVersions(ctx context.Context, packageID int64) ([]store.Version, error) {
	rows, err := x.r.QueryContext(ctx, `SELECT `+versionColumns+versionFrom+` WHERE v.package_id = $1 ORDER BY v.id`, packageID)
	if err != nil {
		return nil, x.wrap(err, "versions")
	}
	var out []store.Version
	index := make(map[int64]int)
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			rows.Close()
			return nil, x.wrap(err, "versions")
		}
		index[v.ID] = len(out)
		out = append(out, *v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, x.wrap(err, "versions")
	}
	if len(out) == 0 {
		return out, nil
	}
	deps, err := x.r.QueryContext(ctx, `SELECT d.version_id, d.name, d.version_range, d.dev FROM dependencies d
		JOIN versions v ON v.id = d.version_id WHERE v.package_id = $1 ORDER BY d.version_id, d.dev, d.name`, packageID)
	if err != nil {
		return nil, x.wrap(err, "dependencies")
	}
	defer deps.Close()
	for deps.Next() {
		var id int64
		var d store.Dependency
		if err := deps.Scan(&id, &d.Name, &d.Range, &d.Dev); err != nil {
			return nil, x.wrap(err, "dependencies")
		}
		if i, ok := index[id]; ok {
			out[i].Dependencies = append(out[i].Dependencies, d)
		}
	}
	return out, x.wrap(deps.Err(), "dependencies")
}

func (x q) GetVersion(ctx context.Context, packageID int64, key string) (*store.Version, error) {
	v, err := scanVersion(x.r.QueryRowContext(ctx, `SELECT `+versionColumns+versionFrom+
		` WHERE v.package_id = $1 AND v.version_key = $2`, packageID, key))
	if err != nil {
		return nil, x.wrap(err, "version "+key)
	}
	rows, err := x.r.QueryContext(ctx, `SELECT name, version_range, dev FROM dependencies
		WHERE version_id = $1 ORDER BY dev, name`, v.ID)
	if err != nil {
		return nil, x.wrap(err, "dependencies")
	}
	defer rows.Close()
	for rows.Next() {
		var d store.Dependency
		if err := rows.Scan(&d.Name, &d.Range, &d.Dev); err != nil {
			return nil, x.wrap(err, "dependencies")
		}
		v.Dependencies = append(v.Dependencies, d)
	}
	return v, x.wrap(rows.Err(), "dependencies")
}

func (x q) SetYanked(ctx context.Context, versionID int64, yanked bool, at time.Time) error {
	var yankedAt any
	if yanked {
		yankedAt = utc(at)
	}
	res, err := x.w.ExecContext(ctx, `UPDATE versions SET yanked = $2, yanked_at = $3 WHERE id = $1`,
		versionID, yanked, yankedAt)
	return x.wrap(mustAffect(res, err, "version"), "version")
}

func (x q) MarkVersionDeleted(ctx context.Context, versionID int64, at time.Time) error {
	res, err := x.w.ExecContext(ctx, `UPDATE versions SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL`,
		versionID, utc(at))
	return x.wrap(mustAffect(res, err, "version"), "version")
}

func (x q) SetGitCommit(ctx context.Context, versionID int64, commit string) error {
	res, err := x.w.ExecContext(ctx, `UPDATE versions SET git_commit = $2 WHERE id = $1`, versionID, commit)
	return x.wrap(mustAffect(res, err, "version"), "version")
}

func (x q) AllVersions(ctx context.Context, fn func(pkg *store.Package, v *store.Version) error) error {
	rows, err := x.r.QueryContext(ctx, `SELECT `+versionColumns+`, `+packageColumns+versionFrom+
		` JOIN packages p ON p.id = v.package_id ORDER BY v.id`)
	if err != nil {
		return x.wrap(err, "versions")
	}
	defer rows.Close()
	for rows.Next() {
		var v store.Version
		var p store.Package
		err := rows.Scan(&v.ID, &v.PackageID, &v.Version, &v.Key, bytesCol{&v.Manifest}, &v.Checksum, &v.Size,
			&v.UnpackedSize, &v.FileCount, &v.Readme, &v.ReadmeHTML, &v.Yanked, nullTimeCol{&v.YankedAt},
			nullTimeCol{&v.DeletedAt}, timeCol{&v.PublishedAt}, &v.PublisherID, &v.Publisher, &v.GitCommit, &v.Downloads,
			&p.ID, &p.Name, &p.NormalizedName, &p.Description, jsonList{&p.Keywords}, &p.Homepage,
			&p.Repository, &p.License, &p.Latest, &p.Downloads, timeCol{&p.CreatedAt}, timeCol{&p.UpdatedAt},
			nullTimeCol{&p.DeletedAt}, nullTimeCol{&p.MirrorPushedAt}, &p.MirrorError)
		if err != nil {
			return x.wrap(err, "versions")
		}
		if err := fn(&p, &v); err != nil {
			return err
		}
	}
	return x.wrap(rows.Err(), "versions")
}
