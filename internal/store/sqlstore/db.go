// Package sqlstore implements store.Store over database/sql for both SQL
// engines. The SQL is written once, with $1-style placeholders that SQLite
// and PostgreSQL both accept; what differs between the engines (row locks,
// text search, error codes, transaction options) is described by a Dialect
// that each driver supplies.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
)

// Dialect is what an engine's driver tells the shared SQL code.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// ForUpdate is appended to SELECTs that lock a row ("" where the
	// engine serialises all writers anyway).
	ForUpdate string
	// ForShare is appended to SELECTs that hold a row against ForUpdate
	// while letting other readers share it ("" as for ForUpdate).
	ForShare string
	// SkipLocked is appended to job-claiming subqueries.
	SkipLocked string
	// WriteTx and SnapshotTx are the options of read-write and snapshot
	// transactions.
	WriteTx, SnapshotTx sql.TxOptions
	// IsUnique reports a unique-constraint violation.
	IsUnique func(error) bool
	// IsRetryable reports a transient conflict after which the whole
	// transaction may run again (serialization failure, deadlock, busy).
	IsRetryable func(error) bool
	// IsUnavailable reports that the database cannot be reached.
	IsUnavailable func(error) bool
	// IsFull reports that the database's disk (or quota) is full.
	IsFull func(error) bool
	// ResetIdentity returns the statement that moves the id sequence of a
	// table past its largest id, after rows were loaded with their ids; nil
	// where the engine picks the next id from the rows themselves (SQLite).
	ResetIdentity func(table, column string) string
	// TextMatch returns a condition on the packages table aliased p that is
	// true when the package's name, keywords or description contain every
	// word (as a prefix), using the engine's text search. arg is the
	// placeholder ($n) bound to the value returned.
	TextMatch func(words []string, arg string) (cond string, value any)
	// NameContains returns a condition on the packages table aliased p that
	// is true when the normalized name contains text, through an index of
	// the engine's where it can; nil, or ok false, for the plain LIKE
	// (which PostgreSQL's trigram index serves as it is).
	NameContains func(text, arg string) (cond string, value any, ok bool)
	// KeywordMatch returns a condition on the packages table aliased p that
	// is true when the keywords hold these words in this order, through the
	// engine's text index: a filter that spares reading every package
	// before the exact comparison of a whole keyword.
	KeywordMatch func(words []string, arg string) (cond string, value any)
}

// DB is a store.Store on a database/sql connection pool.
type DB struct {
	q
	write   *sql.DB
	read    *sql.DB
	dialect *Dialect
}

// New returns a store using write for transactions and writes, and read for
// reads outside transactions (the same pool for engines with many writers;
// SQLite uses one writer connection and several readers).
func New(write, read *sql.DB, d *Dialect) *DB {
	db := &DB{write: write, read: read, dialect: d}
	db.q = q{r: read, w: write, d: d, db: db}
	return db
}

var _ store.Store = (*DB)(nil)

// Driver names the engine.
func (db *DB) Driver() string { return db.dialect.Name }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return errs.Wrap(errs.Unavailable, err, "database unreachable")
	}
	return nil
}

// Stats describes the connection pool (the writer pool for SQLite).
func (db *DB) Stats() store.PoolStats {
	s := db.write.Stats()
	if db.read != db.write {
		r := db.read.Stats()
		s.MaxOpenConnections += r.MaxOpenConnections
		s.OpenConnections += r.OpenConnections
		s.InUse += r.InUse
		s.Idle += r.Idle
		s.WaitCount += r.WaitCount
		s.WaitDuration += r.WaitDuration
	}
	return store.PoolStats{
		MaxOpen: s.MaxOpenConnections, Open: s.OpenConnections, InUse: s.InUse, Idle: s.Idle,
		WaitCount: s.WaitCount, WaitDuration: s.WaitDuration,
	}
}

// Close closes both pools.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// WriteDB is the pool used for writes (for migrations and tests).
func (db *DB) WriteDB() *sql.DB { return db.write }

const maxTxAttempts = 5

// Transact runs fn in a read-write transaction, again after a transient
// conflict, up to a few times.
func (db *DB) Transact(ctx context.Context, fn func(tx store.Queries) error) error {
	var err error
	for attempt := 1; attempt <= maxTxAttempts; attempt++ {
		err = db.transactOnce(ctx, db.write, db.dialect.WriteTx, fn)
		if err == nil || !db.dialect.IsRetryable(err) || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Duration(attempt*attempt) * 5 * time.Millisecond)
	}
	return db.mapErr(err)
}

// Snapshot runs fn in a read-only transaction over a consistent snapshot.
func (db *DB) Snapshot(ctx context.Context, fn func(tx store.Queries) error) error {
	return db.mapErr(db.transactOnce(ctx, db.read, db.dialect.SnapshotTx, fn))
}

func (db *DB) transactOnce(ctx context.Context, pool *sql.DB, opts sql.TxOptions, fn func(tx store.Queries) error) (err error) {
	tx, err := pool.BeginTx(ctx, &opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	if err := fn(q{r: tx, w: tx, d: db.dialect, db: db, inTx: true}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// mapErr gives engine errors that escape a transaction their kind.
func (db *DB) mapErr(err error) error {
	if err == nil {
		return nil
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	if db.dialect.IsFull(err) {
		return errs.NoSpace(err)
	}
	if db.dialect.IsUnavailable(err) {
		return errs.Wrap(errs.Unavailable, err, "database unavailable; try again shortly")
	}
	if db.dialect.IsUnique(err) {
		return errs.Wrap(errs.Conflict, err, "conflicts with an existing record")
	}
	return err
}

// execer is what *sql.DB and *sql.Tx have in common.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// q runs the queries, on the pools or inside one transaction.
type q struct {
	r, w execer
	d    *Dialect
	db   *DB
	inTx bool
}

// atomic runs fn as one transaction: in the current one when there is one,
// else in a new one.
func (x q) atomic(ctx context.Context, fn func(t q) error) error {
	if x.inTx {
		return fn(x)
	}
	return x.db.Transact(ctx, func(tx store.Queries) error { return fn(tx.(q)) })
}

// wrap turns engine errors into error kinds: not-found rows, unique
// violations (with the given conflict message) and unreachable databases.
func (x q) wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return errs.Errorf(errs.NotFound, "%s not found", what)
	case x.d.IsUnique(err):
		return errs.Wrap(errs.Conflict, err, what+" already exists")
	case x.d.IsUnavailable(err):
		return errs.Wrap(errs.Unavailable, err, "database unavailable; try again shortly")
	case x.d.IsRetryable(err):
		return err // let Transact retry it
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// mustAffect turns "no row changed" into errs.NotFound.
func mustAffect(res sql.Result, err error, what string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return errs.Errorf(errs.NotFound, "%s not found", what)
	}
	return nil
}

// RegistryID reads the registry identity from registry_meta.
func (db *DB) RegistryID(ctx context.Context) (string, error) {
	var id string
	err := db.write.QueryRowContext(ctx, `SELECT value FROM registry_meta WHERE key = 'registry_id'`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, db.mapErr(err)
}

// InitRegistryID inserts the identity unless a row is there, then reads
// what is: the insert or the other instance's, whichever came first.
func (db *DB) InitRegistryID(ctx context.Context, id string) (string, error) {
	if _, err := db.write.ExecContext(ctx,
		`INSERT INTO registry_meta (key, value) VALUES ('registry_id', $1) ON CONFLICT (key) DO NOTHING`, id); err != nil {
		return "", db.mapErr(err)
	}
	return db.RegistryID(ctx)
}
