package sqlstore

import (
	"context"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
)

func (x q) LockLog(ctx context.Context) (int64, error) {
	var size int64
	err := x.w.QueryRowContext(ctx, `SELECT size FROM log_head WHERE id = 1 `+x.d.ForUpdate).Scan(&size)
	return size, x.wrap(err, "log head")
}

func (x q) LogSize(ctx context.Context) (int64, error) {
	var size int64
	err := x.r.QueryRowContext(ctx, `SELECT size FROM log_head WHERE id = 1`).Scan(&size)
	return size, x.wrap(err, "log head")
}

func (x q) AppendLog(ctx context.Context, r *store.LogRecord, firstHash int64, hashes [][]byte) error {
	return x.atomic(ctx, func(t q) error {
		res, err := t.w.ExecContext(ctx, `UPDATE log_head SET size = size + 1 WHERE id = 1 AND size = $1`, r.Index)
		if err := mustAffect(res, err, "log head"); errs.KindOf(err) == errs.NotFound {
			return errs.Errorf(errs.Conflict, "log record %d is not the next one: lock the log first", r.Index)
		} else if err != nil {
			return t.wrap(err, "log head")
		}
		if _, err := t.w.ExecContext(ctx, `INSERT INTO log_records (idx, kind, package, subject, data)
			VALUES ($1, $2, $3, $4, $5)`, r.Index, r.Kind, r.Package, r.Subject, string(r.Data)); err != nil {
			return t.wrap(err, "log record")
		}
		for i, h := range hashes {
			if _, err := t.w.ExecContext(ctx, `INSERT INTO log_hashes (idx, hash) VALUES ($1, $2)`,
				firstHash+int64(i), hex.EncodeToString(h)); err != nil {
				return t.wrap(err, "log hash")
			}
		}
		return nil
	})
}

func (x q) LogHashes(ctx context.Context, indexes []int64) ([][]byte, error) {
	if len(indexes) == 0 {
		return nil, nil
	}
	list := make([]string, len(indexes))
	for i, n := range indexes {
		list[i] = strconv.FormatInt(n, 10)
	}
	rows, err := x.r.QueryContext(ctx, `SELECT idx, hash FROM log_hashes WHERE idx IN (`+strings.Join(list, ", ")+`)`)
	if err != nil {
		return nil, x.wrap(err, "log hashes")
	}
	defer rows.Close()
	found := make(map[int64][]byte, len(indexes))
	for rows.Next() {
		var idx int64
		var h string
		if err := rows.Scan(&idx, &h); err != nil {
			return nil, x.wrap(err, "log hashes")
		}
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, errs.Errorf(errs.Internal, "log hash %d is not hex: %q", idx, h)
		}
		found[idx] = b
	}
	if err := rows.Err(); err != nil {
		return nil, x.wrap(err, "log hashes")
	}
	out := make([][]byte, len(indexes))
	for i, n := range indexes {
		if out[i] = found[n]; out[i] == nil {
			return nil, errs.Errorf(errs.NotFound, "log hash %d not found", n)
		}
	}
	return out, nil
}

const logRecordColumns = `idx, kind, package, subject, data`

func (x q) scanLogRecords(ctx context.Context, query string, args ...any) ([]store.LogRecord, error) {
	rows, err := x.r.QueryContext(ctx, `SELECT `+logRecordColumns+` FROM log_records `+query, args...)
	if err != nil {
		return nil, x.wrap(err, "log records")
	}
	defer rows.Close()
	var out []store.LogRecord
	for rows.Next() {
		var r store.LogRecord
		var data string
		if err := rows.Scan(&r.Index, &r.Kind, &r.Package, &r.Subject, &data); err != nil {
			return nil, x.wrap(err, "log records")
		}
		r.Data = []byte(data)
		out = append(out, r)
	}
	return out, x.wrap(rows.Err(), "log records")
}

func (x q) LogRecords(ctx context.Context, from, to int64) ([]store.LogRecord, error) {
	return x.scanLogRecords(ctx, `WHERE idx >= $1 AND idx < $2 ORDER BY idx`, from, to)
}

func (x q) FindLogRecords(ctx context.Context, pkg, subject string) ([]store.LogRecord, error) {
	return x.scanLogRecords(ctx, `WHERE package = $1 AND subject = $2 ORDER BY idx`, pkg, subject)
}
