// Package sqlite is the embedded metadata store: a SQLite database file
// (pure Go, no cgo) in WAL mode with one writer connection and a pool of
// readers, so reads never wait for a publish.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/dryad-lang/registry/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Open opens (creating if needed) the database file at path and applies the
// migrations.
func Open(ctx context.Context, path string) (*sqlstore.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("creating database folder: %w", err)
	}
	write, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, err
	}
	// One writer: SQLite allows one at a time anyway, and a single
	// connection turns lock contention into a queue in database/sql.
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		write.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0)*2)
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)

	db := sqlstore.New(write, read, &dialect)
	if err := migrate(ctx, write); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func dsn(path string, readOnly bool) string {
	v := url.Values{}
	v.Add("_pragma", "busy_timeout(10000)")
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "foreign_keys(1)")
	// FULL: a commit is on disk before the publish is answered.
	v.Add("_pragma", "synchronous(FULL)")
	v.Set("_time_format", "sqlite")
	if readOnly {
		v.Add("_pragma", "query_only(1)")
	} else {
		// Take the write lock at BEGIN, so a transaction never fails
		// half-way when upgrading from a read lock.
		v.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + v.Encode()
}

func migrate(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("opening SQLite database: %w", err)
	}
	defer conn.Close()
	sub, _ := fs.Sub(migrations, "migrations")
	if _, err := sqlstore.Migrate(ctx, conn, sub, "TIMESTAMP"); err != nil {
		return err
	}
	return nil
}

func code(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

var dialect = sqlstore.Dialect{
	Name:       "sqlite",
	WriteTx:    sql.TxOptions{},
	SnapshotTx: sql.TxOptions{},
	IsUnique: func(err error) bool {
		c := code(err)
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
	IsRetryable: func(err error) bool {
		c := code(err) & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	},
	IsFull: func(err error) bool { return code(err)&0xff == sqlite3.SQLITE_FULL },
	IsUnavailable: func(err error) bool {
		switch code(err) & 0xff {
		case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CORRUPT:
			return true
		}
		return errors.Is(err, sql.ErrConnDone) || errors.Is(err, context.DeadlineExceeded)
	},
	TextMatch: func(words []string, arg string) (string, any) {
		var terms []string
		for _, w := range words {
			terms = append(terms, `"`+w+`"*`)
		}
		return "p.id IN (SELECT rowid FROM packages_fts WHERE packages_fts MATCH " + arg + ")", strings.Join(terms, " ")
	},
	KeywordMatch: func(words []string, arg string) (string, any) {
		return "p.id IN (SELECT rowid FROM packages_fts WHERE packages_fts MATCH " + arg + ")",
			`keywords : "` + strings.Join(words, " ") + `"`
	},
	// The trigram index (package_names) finds names containing a text of
	// three characters or more; a shorter one, or one with characters no
	// name has, reads the table.
	NameContains: func(text, arg string) (string, any, bool) {
		if len(text) < 3 || strings.ContainsFunc(text, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.')
		}) {
			return "", nil, false
		}
		return "p.id IN (SELECT rowid FROM package_names WHERE package_names MATCH " + arg + ")", `"` + text + `"`, true
	},
}

// busyTimeout documents the wait for the write lock set in dsn.
const busyTimeout = 10 * time.Second
