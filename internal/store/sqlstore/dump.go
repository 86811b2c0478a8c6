package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
)

// kind is how a column's values are normalised in a dump.
type kind int

const (
	kindInt kind = iota
	kindText
	kindBool
	kindTime // TIMESTAMP / TIMESTAMPTZ: RFC 3339 in UTC
	kindDay  // TEXT on SQLite, DATE on PostgreSQL: 2006-01-02
)

type dumpColumn struct {
	name string
	kind kind
}

// dumpTable describes one table of a dump. The column lists are written
// here once, so that the same names and kinds hold on both engines; columns
// the engine derives (PostgreSQL's search vector) are not part of a dump.
type dumpTable struct {
	name    string
	columns []dumpColumn
	// order is the ORDER BY of the dump: the primary key.
	order string
	// identity names the column whose sequence must move past loaded ids.
	identity string
}

func cols(spec string) []dumpColumn {
	var out []dumpColumn
	for _, f := range strings.Fields(spec) {
		name, k, _ := strings.Cut(f, ":")
		c := dumpColumn{name: name}
		switch k {
		case "i":
			c.kind = kindInt
		case "s":
			c.kind = kindText
		case "b":
			c.kind = kindBool
		case "t":
			c.kind = kindTime
		case "d":
			c.kind = kindDay
		default:
			panic("sqlstore: bad column spec " + f)
		}
		out = append(out, c)
	}
	return out
}

// dumpTables are the tables of store.DumpTables, in the same order.
var dumpTables = []dumpTable{
	{name: "users", order: "id", identity: "id", columns: cols(`id:i username:s email:s full_name:s password_hash:s
		role:s disabled:b credential_version:i created_at:t updated_at:t last_login_at:t`)},
	{name: "api_tokens", order: "id", identity: "id", columns: cols(`id:i user_id:i name:s token_hash:s scopes:s
		packages:s created_at:t last_used_at:t expires_at:t revoked_at:t`)},
	{name: "packages", order: "id", identity: "id", columns: cols(`id:i name:s normalized_name:s description:s
		keywords:s homepage:s repository:s license:s latest:s downloads:i created_at:t updated_at:t deleted_at:t
		mirror_pushed_at:t mirror_error:s`)},
	{name: "versions", order: "id", identity: "id", columns: cols(`id:i package_id:i version:s version_key:s
		manifest:s checksum:s size:i unpacked_size:i file_count:i readme:s readme_html:s yanked:b yanked_at:t
		deleted_at:t published_at:t publisher_id:i git_commit:s downloads:i`)},
	{name: "dependencies", order: "version_id, name, dev", columns: cols(`version_id:i name:s version_range:s dev:b`)},
	{name: "owners", order: "package_id, user_id", columns: cols(`package_id:i user_id:i added_at:t`)},
	{name: "version_downloads", order: "version_id, day", columns: cols(`version_id:i day:d count:i`)},
	{name: "download_batches", order: "batch_id", columns: cols(`batch_id:s applied_at:t`)},
	{name: "audit_events", order: "id", identity: "id", columns: cols(`id:i at:t actor_id:i actor:s ip:s action:s
		package:s target:s outcome:s detail:s`)},
	{name: "git_jobs", order: "id", identity: "id", columns: cols(`id:i package_id:i kind:s version:s attempts:i
		next_attempt_at:t last_error:s created_at:t`)},
	{name: "log_records", order: "idx", columns: cols(`idx:i kind:s package:s subject:s data:s`)},
	{name: "log_hashes", order: "idx", columns: cols(`idx:i hash:s`)},
	{name: "webhooks", order: "id", identity: "id", columns: cols(`id:i package_id:i url:s secret:s events:s active:b
		created_by:s created_at:t`)},
}

// wipeOrder deletes children before parents; sessions are not dumped but
// must go before users.
var wipeOrder = []string{"webhook_attempts", "webhook_deliveries", "webhooks", "log_hashes", "log_records", "sessions", "git_jobs", "audit_events", "download_batches", "version_downloads",
	"owners", "dependencies", "versions", "packages", "api_tokens", "users"}

func findTable(name string) *dumpTable {
	for i := range dumpTables {
		if dumpTables[i].name == name {
			return &dumpTables[i]
		}
	}
	return nil
}

var _ store.Dumper = (*DB)(nil)

// Dump streams every table of the dump inside tx, a Snapshot transaction.
func (db *DB) Dump(ctx context.Context, tx store.Queries, fn func(table string, columns []string, row []any) error) error {
	t, ok := tx.(q)
	if !ok || !t.inTx || t.db != db {
		return errors.New("sqlstore: Dump needs a transaction of this store's Snapshot")
	}
	for i := range dumpTables {
		if err := t.dumpTable(ctx, &dumpTables[i], fn); err != nil {
			return err
		}
	}
	return nil
}

func (x q) dumpTable(ctx context.Context, tb *dumpTable, fn func(string, []string, []any) error) error {
	names := make([]string, len(tb.columns))
	exprs := make([]string, len(tb.columns))
	for i, c := range tb.columns {
		names[i] = c.name
		exprs[i] = c.name
		if c.kind == kindDay {
			exprs[i] = "CAST(" + c.name + " AS TEXT)"
		}
	}
	if err := x.checkColumns(ctx, tb); err != nil {
		return err
	}
	if err := fn(tb.name, names, nil); err != nil {
		return err
	}
	rows, err := x.r.QueryContext(ctx, `SELECT `+strings.Join(exprs, ", ")+` FROM `+tb.name+` ORDER BY `+tb.order)
	if err != nil {
		return x.wrap(err, "dump of "+tb.name)
	}
	defer rows.Close()
	raw := make([]any, len(tb.columns))
	ptrs := make([]any, len(tb.columns))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	row := make([]any, len(tb.columns))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return x.wrap(err, "dump of "+tb.name)
		}
		for i, c := range tb.columns {
			v, err := dumpValue(c.kind, raw[i])
			if err != nil {
				return fmt.Errorf("dump of %s.%s: %w", tb.name, c.name, err)
			}
			row[i] = v
		}
		if err := fn(tb.name, names, row); err != nil {
			return err
		}
	}
	return x.wrap(rows.Err(), "dump of "+tb.name)
}

// derivedColumns are computed by the engine from the others, and rebuilt
// when rows are inserted: PostgreSQL's search vector.
var derivedColumns = map[string]bool{"packages.search": true}

// checkColumns refuses to dump a table that has a column the dump does not
// know, so that a migration adding one cannot make backups silently lose it.
func (x q) checkColumns(ctx context.Context, tb *dumpTable) error {
	rows, err := x.r.QueryContext(ctx, `SELECT * FROM `+tb.name+` WHERE 1 = 0`)
	if err != nil {
		return x.wrap(err, "dump of "+tb.name)
	}
	actual, err := rows.Columns()
	rows.Close()
	if err != nil {
		return x.wrap(err, "dump of "+tb.name)
	}
	for _, a := range actual {
		known := derivedColumns[tb.name+"."+a]
		for _, c := range tb.columns {
			known = known || c.name == a
		}
		if !known {
			return fmt.Errorf("sqlstore: column %s.%s is not part of dumps; add it to dumpTables", tb.name, a)
		}
	}
	return nil
}

// dumpValue normalises a value as the engine returned it.
func dumpValue(k kind, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch k {
	case kindInt:
		switch n := v.(type) {
		case int64:
			return n, nil
		case int32:
			return int64(n), nil
		case int:
			return int64(n), nil
		}
	case kindText, kindDay:
		switch s := v.(type) {
		case string:
			return s, nil
		case []byte:
			return string(s), nil
		case time.Time:
			return s.UTC().Format(time.DateOnly), nil
		}
	case kindBool:
		switch b := v.(type) {
		case bool:
			return b, nil
		case int64:
			return b != 0, nil
		}
	case kindTime:
		var t time.Time
		if err := (timeCol{&t}).Scan(v); err != nil {
			return nil, err
		}
		return t.Format(time.RFC3339Nano), nil
	}
	return nil, fmt.Errorf("unexpected %T value", v)
}

// Load loads rows into the store in one transaction.
func (db *DB) Load(ctx context.Context, opts store.LoadOptions, fn func(insert store.InsertFunc) error) (err error) {
	tx, err := db.write.BeginTx(ctx, &db.dialect.WriteTx)
	if err != nil {
		return db.mapErr(fmt.Errorf("begin: %w", err))
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if opts.Replace {
		for _, name := range wipeOrder {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+name); err != nil {
				return db.mapErr(fmt.Errorf("emptying %s: %w", name, err))
			}
		}
	} else {
		var full []string
		for _, name := range wipeOrder {
			var n int
			err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM `+name+` LIMIT 1) AS x`).Scan(&n)
			if err != nil {
				return db.mapErr(fmt.Errorf("checking %s: %w", name, err))
			}
			if n > 0 {
				full = append(full, name)
			}
		}
		if len(full) > 0 {
			return errs.Errorf(errs.Conflict, "the database is not empty (records in %s)", strings.Join(full, ", "))
		}
	}

	type prepared struct {
		kinds []kind
		stmt  *sql.Stmt
	}
	stmts := map[string]*prepared{}
	defer func() {
		for _, p := range stmts {
			p.stmt.Close()
		}
	}()
	counts := map[string]int64{}
	insert := func(table string, columns []string, row []any) error {
		key := table + "\x00" + strings.Join(columns, "\x00")
		p := stmts[key]
		if p == nil {
			tb := findTable(table)
			if tb == nil {
				return errs.Errorf(errs.Invalid, "unknown table %q", table)
			}
			kinds := make([]kind, len(columns))
			seen := map[string]bool{}
			marks := make([]string, len(columns))
			for i, name := range columns {
				found := false
				for _, c := range tb.columns {
					if c.name == name {
						kinds[i], found = c.kind, true
					}
				}
				if !found || seen[name] {
					return errs.Errorf(errs.Invalid, "table %s: unknown or repeated column %q", table, name)
				}
				seen[name] = true
				marks[i] = fmt.Sprintf("$%d", i+1)
			}
			stmt, err := tx.PrepareContext(ctx, `INSERT INTO `+table+` (`+strings.Join(columns, ", ")+`) VALUES (`+strings.Join(marks, ", ")+`)`)
			if err != nil {
				return db.mapErr(fmt.Errorf("loading %s: %w", table, err))
			}
			p = &prepared{kinds: kinds, stmt: stmt}
			stmts[key] = p
		}
		if len(row) != len(columns) {
			return errs.Errorf(errs.Invalid, "table %s row %d: %d values for %d columns", table, counts[table]+1, len(row), len(columns))
		}
		args := make([]any, len(row))
		for i, v := range row {
			a, err := loadValue(p.kinds[i], v)
			if err != nil {
				return errs.Errorf(errs.Invalid, "table %s row %d column %s: %v", table, counts[table]+1, columns[i], err)
			}
			args[i] = a
		}
		counts[table]++
		if _, err := p.stmt.ExecContext(ctx, args...); err != nil {
			return db.mapErr(fmt.Errorf("loading %s row %d: %w", table, counts[table], err))
		}
		return nil
	}
	if err := fn(insert); err != nil {
		return err
	}
	// The log's size follows its records (emptied, or loaded).
	if _, err := tx.ExecContext(ctx, `UPDATE log_head SET size = (SELECT count(*) FROM log_records) WHERE id = 1`); err != nil {
		return db.mapErr(fmt.Errorf("setting the log size: %w", err))
	}
	if db.dialect.ResetIdentity != nil {
		for _, tb := range dumpTables {
			if tb.identity == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, db.dialect.ResetIdentity(tb.name, tb.identity)); err != nil {
				return db.mapErr(fmt.Errorf("moving the id sequence of %s: %w", tb.name, err))
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return db.mapErr(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// loadValue turns a dumped value into a query argument of the column's kind.
func loadValue(k kind, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch k {
	case kindInt:
		switch n := v.(type) {
		case int64:
			return n, nil
		case int:
			return int64(n), nil
		case json.Number:
			i, err := n.Int64()
			if err != nil {
				return nil, fmt.Errorf("want an integer, got %s", n)
			}
			return i, nil
		case float64:
			if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
				return int64(n), nil
			}
		}
		return nil, fmt.Errorf("want an integer, got %v", v)
	case kindText:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, fmt.Errorf("want text, got %T", v)
	case kindBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, fmt.Errorf("want true or false, got %v", v)
	case kindTime:
		switch t := v.(type) {
		case time.Time:
			return utc(t), nil
		case string:
			p, err := time.Parse(time.RFC3339Nano, t)
			if err != nil {
				return nil, fmt.Errorf("want an RFC 3339 time, got %q", t)
			}
			return utc(p), nil
		}
		return nil, fmt.Errorf("want an RFC 3339 time, got %T", v)
	case kindDay:
		if s, ok := v.(string); ok {
			if _, err := time.Parse(time.DateOnly, s); err == nil {
				return s, nil
			}
		}
		return nil, fmt.Errorf("want a day (2006-01-02), got %v", v)
	}
	return nil, fmt.Errorf("unknown column kind")
}
