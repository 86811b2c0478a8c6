package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migrate applies the numbered migrations (NNNN_name.sql) of dir in order,
// each in its own transaction, on one connection. A migration already
// recorded in schema_migrations is skipped; the check happens inside the
// migration's transaction so that two instances starting at once apply each
// migration exactly once (PostgreSQL callers also hold an advisory lock).
func Migrate(ctx context.Context, conn *sql.Conn, migrations fs.FS, timestampType string) (applied []string, err error) {
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at `+timestampType+` NOT NULL)`); err != nil {
		return nil, fmt.Errorf("creating schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrations, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		num, _, ok := strings.Cut(name, "_")
		version, perr := strconv.Atoi(num)
		if !ok || perr != nil {
			return applied, fmt.Errorf("migration %s: name must start with a number and _", name)
		}
		body, err := fs.ReadFile(migrations, name)
		if err != nil {
			return applied, err
		}
		did, err := applyMigration(ctx, conn, version, name, string(body))
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", name, err)
		}
		if did {
			applied = append(applied, name)
		}
	}
	return applied, nil
}

func applyMigration(ctx context.Context, conn *sql.Conn, version int, name, body string) (bool, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
		version, name, time.Now().UTC()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
