package sqlstore

import (
	"context"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
)

const packageColumns = `p.id, p.name, p.normalized_name, p.description, p.keywords, p.homepage, p.repository,
	p.license, p.latest, p.downloads, p.created_at, p.updated_at, p.deleted_at, p.mirror_pushed_at, p.mirror_error`

func scanPackage(row interface{ Scan(...any) error }) (*store.Package, error) {
	var p store.Package
	err := row.Scan(&p.ID, &p.Name, &p.NormalizedName, &p.Description, jsonList{&p.Keywords}, &p.Homepage,
		&p.Repository, &p.License, &p.Latest, &p.Downloads, timeCol{&p.CreatedAt}, timeCol{&p.UpdatedAt},
		nullTimeCol{&p.DeletedAt}, nullTimeCol{&p.MirrorPushedAt}, &p.MirrorError)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func (x q) CreatePackage(ctx context.Context, p *store.Package) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	if p.CreatedAt.IsZero() {
		p.CreatedAt = now
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = p.CreatedAt
	}
	err := x.w.QueryRowContext(ctx, `
		INSERT INTO packages (name, normalized_name, description, keywords, homepage, repository, license,
			latest, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		p.Name, p.NormalizedName, p.Description, listArg(p.Keywords), p.Homepage, p.Repository, p.License,
		p.Latest, utc(p.CreatedAt), utc(p.UpdatedAt)).Scan(&p.ID)
	if err != nil && x.d.IsUnique(err) {
		return errs.Errorf(errs.Conflict, "package name %q is taken", p.Name)
	}
	return x.wrap(err, "package")
}

func (x q) GetPackage(ctx context.Context, normalizedName string) (*store.Package, error) {
	p, err := scanPackage(x.r.QueryRowContext(ctx,
		`SELECT `+packageColumns+` FROM packages p WHERE p.normalized_name = $1`, normalizedName))
	return p, x.wrap(err, "package "+quote(normalizedName))
}

func (x q) GetPackageByID(ctx context.Context, id int64) (*store.Package, error) {
	p, err := scanPackage(x.r.QueryRowContext(ctx, `SELECT `+packageColumns+` FROM packages p WHERE p.id = $1`, id))
	return p, x.wrap(err, "package")
}

func (x q) LockPackage(ctx context.Context, normalizedName string) (*store.Package, error) {
	p, err := scanPackage(x.w.QueryRowContext(ctx,
		`SELECT `+packageColumns+` FROM packages p WHERE p.normalized_name = $1 `+x.d.ForUpdate, normalizedName))
	return p, x.wrap(err, "package "+quote(normalizedName))
}

func (x q) LockPackageShared(ctx context.Context, normalizedName string) (*store.Package, error) {
	p, err := scanPackage(x.w.QueryRowContext(ctx,
		`SELECT `+packageColumns+` FROM packages p WHERE p.normalized_name = $1 `+x.d.ForShare, normalizedName))
	return p, x.wrap(err, "package "+quote(normalizedName))
}

func (x q) UpdatePackage(ctx context.Context, p *store.Package) error {
	res, err := x.w.ExecContext(ctx, `
		UPDATE packages SET description = $2, keywords = $3, homepage = $4, repository = $5, license = $6,
			latest = $7, updated_at = $8, deleted_at = $9
		WHERE id = $1`,
		p.ID, p.Description, listArg(p.Keywords), p.Homepage, p.Repository, p.License, p.Latest,
		utc(p.UpdatedAt), nullTime(p.DeletedAt))
	return x.wrap(mustAffect(res, err, "package"), "package")
}

func (x q) SetMirrorState(ctx context.Context, packageID int64, pushedAt *time.Time, lastError string) error {
	res, err := x.w.ExecContext(ctx, `
		UPDATE packages SET mirror_pushed_at = COALESCE($2, mirror_pushed_at), mirror_error = $3 WHERE id = $1`,
		packageID, nullTime(pushedAt), lastError)
	return x.wrap(mustAffect(res, err, "package"), "package")
}

func (x q) ListUserPackages(ctx context.Context, userID int64) ([]store.Package, error) {
	return x.listPackages(ctx, `SELECT `+packageColumns+` FROM packages p
		JOIN owners o ON o.package_id = p.id WHERE o.user_id = $1 ORDER BY p.normalized_name`, userID)
}

func (x q) listPackages(ctx context.Context, query string, args ...any) ([]store.Package, error) {
	rows, err := x.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, x.wrap(err, "packages")
	}
	defer rows.Close()
	var out []store.Package
	for rows.Next() {
		p, err := scanPackage(rows)
		if err != nil {
			return nil, x.wrap(err, "packages")
		}
		out = append(out, *p)
	}
	return out, x.wrap(rows.Err(), "packages")
}

func (x q) Dependents(ctx context.Context, normalizedName string) ([]store.Dependent, error) {
	// One row per dependent package: its newest live version's range. The
	// newest versions are found in one pass over the dependency's rows
	// (dependencies_name), grouped by package: a subquery per row would
	// read every dependent's versions again for each of them, which took
	// minutes for a package with 10 000 dependents.
	rows, err := x.r.QueryContext(ctx, `
		SELECT p.name, v.version, d.version_range
		FROM (SELECT v.package_id, max(v.id) AS version_id
		      FROM dependencies d JOIN versions v ON v.id = d.version_id
		      WHERE d.name = $1 AND d.dev = FALSE AND v.deleted_at IS NULL
		      GROUP BY v.package_id) newest
		JOIN versions v ON v.id = newest.version_id
		JOIN dependencies d ON d.version_id = v.id AND d.name = $1 AND d.dev = FALSE
		JOIN packages p ON p.id = newest.package_id
		WHERE p.deleted_at IS NULL
		ORDER BY p.normalized_name`, normalizedName)
	if err != nil {
		return nil, x.wrap(err, "dependents")
	}
	defer rows.Close()
	var out []store.Dependent
	for rows.Next() {
		var d store.Dependent
		if err := rows.Scan(&d.Name, &d.Version, &d.Range); err != nil {
			return nil, x.wrap(err, "dependents")
		}
		out = append(out, d)
	}
	return out, x.wrap(rows.Err(), "dependents")
}

func (x q) DependentVersions(ctx context.Context, normalizedName string) ([]store.DependentVersion, error) {
	rows, err := x.r.QueryContext(ctx, `
		SELECT p.id, p.name, v.version, d.version_range
		FROM dependencies d
		JOIN versions v ON v.id = d.version_id
		JOIN packages p ON p.id = v.package_id
		WHERE d.name = $1 AND d.dev = FALSE AND v.deleted_at IS NULL AND v.yanked = FALSE
		  AND p.deleted_at IS NULL AND p.normalized_name <> $1
		ORDER BY p.normalized_name, v.id`, normalizedName)
	if err != nil {
		return nil, x.wrap(err, "dependent versions")
	}
	defer rows.Close()
	var out []store.DependentVersion
	for rows.Next() {
		var d store.DependentVersion
		if err := rows.Scan(&d.PackageID, &d.Package, &d.Version, &d.Range); err != nil {
			return nil, x.wrap(err, "dependent versions")
		}
		out = append(out, d)
	}
	return out, x.wrap(rows.Err(), "dependent versions")
}

func (x q) Totals(ctx context.Context) (*store.Totals, error) {
	var t store.Totals
	err := x.r.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM packages WHERE deleted_at IS NULL AND latest <> ''),
		(SELECT count(*) FROM versions WHERE deleted_at IS NULL),
		(SELECT count(*) FROM users),
		(SELECT COALESCE(sum(downloads), 0) FROM packages)`).
		Scan(&t.Packages, &t.Versions, &t.Users, &t.Downloads)
	return &t, x.wrap(err, "totals")
}
