package sqlstore

import (
	"context"
	"sort"
	"time"

	"github.com/dryad-lang/registry/internal/store"
)

func (x q) EnqueueGitJob(ctx context.Context, j *store.GitJob) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	if j.CreatedAt.IsZero() {
		j.CreatedAt = now
	}
	if j.NextAttemptAt.IsZero() {
		j.NextAttemptAt = j.CreatedAt
	}
	err := x.w.QueryRowContext(ctx, `INSERT INTO git_jobs (package_id, kind, version, next_attempt_at, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		j.PackageID, j.Kind, j.Version, utc(j.NextAttemptAt), utc(j.CreatedAt)).Scan(&j.ID)
	return x.wrap(err, "git job")
}

// ClaimGitJobs takes only the oldest job of each package: a package's jobs
// run in order (a version's commit needs its parent's), one at a time.
func (x q) ClaimGitJobs(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.GitJob, error) {
	rows, err := x.w.QueryContext(ctx, `
		UPDATE git_jobs SET next_attempt_at = $2
		WHERE id IN (
			SELECT j.id FROM git_jobs j
			WHERE j.id IN (SELECT min(id) FROM git_jobs GROUP BY package_id) AND j.next_attempt_at <= $1
			ORDER BY j.id LIMIT `+itoa(limit)+` `+x.d.SkipLocked+`
		) AND next_attempt_at <= $1
		RETURNING id, package_id, kind, version, attempts, next_attempt_at, last_error, created_at`,
		utc(now), utc(now.Add(lease)))
	if err != nil {
		return nil, x.wrap(err, "git jobs")
	}
	defer rows.Close()
	var out []store.GitJob
	for rows.Next() {
		var j store.GitJob
		if err := rows.Scan(&j.ID, &j.PackageID, &j.Kind, &j.Version, &j.Attempts, timeCol{&j.NextAttemptAt},
			&j.LastError, timeCol{&j.CreatedAt}); err != nil {
			return nil, x.wrap(err, "git jobs")
		}
		out = append(out, j)
	}
	// RETURNING has no order of its own.
	sort.Slice(out, func(i, k int) bool { return out[i].ID < out[k].ID })
	return out, x.wrap(rows.Err(), "git jobs")
}

func (x q) CompleteGitJob(ctx context.Context, id int64) error {
	_, err := x.w.ExecContext(ctx, `DELETE FROM git_jobs WHERE id = $1`, id)
	return x.wrap(err, "git job")
}

func (x q) FailGitJob(ctx context.Context, id int64, errText string, next time.Time) error {
	if len(errText) > 2000 {
		errText = errText[:2000]
	}
	res, err := x.w.ExecContext(ctx, `UPDATE git_jobs SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3
		WHERE id = $1`, id, errText, utc(next))
	return x.wrap(mustAffect(res, err, "git job"), "git job")
}

func (x q) CountGitJobs(ctx context.Context) (pending, failing int64, err error) {
	err = x.r.QueryRowContext(ctx, `SELECT count(*), COALESCE(sum(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0)
		FROM git_jobs`).Scan(&pending, &failing)
	return pending, failing, x.wrap(err, "git jobs")
}
