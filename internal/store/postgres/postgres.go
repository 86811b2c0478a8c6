// Package postgres is the production metadata store: PostgreSQL through a
// pgx connection pool, shared by every registry instance.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLockKey is the advisory lock held while migrating, so that two
// instances starting together do not race.
const migrationLockKey = 0x44727961645265 // "DryadRe"

// Open connects to the database at url (postgres://…), checks that it
// answers and applies the migrations.
func Open(ctx context.Context, url string) (*sqlstore.DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, errs.Errorf(errs.Invalid, "DATABASE_URL: %v", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	if cfg.MaxConns < 10 {
		cfg.MaxConns = 10
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	pingCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		pool.Close()
		return nil, errs.Wrap(errs.Unavailable, err, fmt.Sprintf("PostgreSQL at %s:%d is unreachable: %v",
			cfg.ConnConfig.Host, cfg.ConnConfig.Port, shortErr(err)))
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		pool.Close()
		return nil, err
	}
	s := sqlstore.New(db, db, &dialect)
	return s, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLockKey)); err != nil {
		return fmt.Errorf("taking the migration lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLockKey))
	sub, _ := fs.Sub(migrations, "migrations")
	_, err = sqlstore.Migrate(ctx, conn, sub, "TIMESTAMPTZ")
	return err
}

// shortErr keeps the useful end of a connection error for the one-line
// message printed at start.
func shortErr(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Message
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return opErr.Err.Error()
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

func sqlState(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

var dialect = sqlstore.Dialect{
	Name:       "postgres",
	ForUpdate:  "FOR UPDATE",
	ForShare:   "FOR SHARE",
	SkipLocked: "FOR UPDATE SKIP LOCKED",
	WriteTx:    sql.TxOptions{Isolation: sql.LevelReadCommitted},
	SnapshotTx: sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
	IsUnique:   func(err error) bool { return sqlState(err) == "23505" },
	IsRetryable: func(err error) bool {
		s := sqlState(err)
		return s == "40001" || s == "40P01"
	},
	// 53100 is disk_full.
	IsFull: func(err error) bool { return sqlState(err) == "53100" },
	IsUnavailable: func(err error) bool {
		if pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
			return true
		}
		var netErr net.Error
		if errors.As(err, &netErr) {
			return true
		}
		// A connection the pool could not open, whatever the server said
		// (the database is gone, the role refused, too many clients): the
		// database cannot be used now, which is not the request's fault.
		var connErr *pgconn.ConnectError
		if errors.As(err, &connErr) {
			return true
		}
		s := sqlState(err)
		// Class 08: connection exceptions; 57P0x: the server is shutting down.
		return strings.HasPrefix(s, "08") || strings.HasPrefix(s, "57P0") || errors.Is(err, sql.ErrConnDone)
	},
	ResetIdentity: func(table, column string) string {
		return "SELECT setval(pg_get_serial_sequence('" + table + "', '" + column + "'), " +
			"COALESCE((SELECT max(" + column + ") FROM " + table + "), 0) + 1, false)"
	},
	TextMatch: func(words []string, arg string) (string, any) {
		var terms []string
		for _, w := range words {
			terms = append(terms, w+":*")
		}
		return "p.search @@ to_tsquery('simple', " + arg + ")", strings.Join(terms, " & ")
	},
	// Keywords are the search vector's weight B.
	KeywordMatch: func(words []string, arg string) (string, any) {
		var terms []string
		for _, w := range words {
			terms = append(terms, w+":B")
		}
		return "p.search @@ to_tsquery('simple', " + arg + ")", strings.Join(terms, " <-> ")
	},
}
