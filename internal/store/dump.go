package store

import "context"

// Dumper is implemented by stores that can export their whole content and
// load it back, table by table, in a form that does not depend on the
// engine: a dump of SQLite loads into PostgreSQL and back. Backups use it.
//
// Values are normalised to a few Go types whatever the engine stores:
// nil, int64, bool and string, with timestamps as RFC 3339 strings in UTC
// (to the nanosecond the engine keeps) and days as 2006-01-02.
type Dumper interface {
	// Dump calls fn for every row of every table of DumpTables, in that
	// order, rows in primary-key order. Before a table's rows (even when it
	// has none) fn is called once with a nil row, announcing the table and
	// its columns. tx must be the transaction of a Snapshot, so the dump is
	// one consistent state. Rows are streamed: fn must not run queries on
	// tx, and must not keep row, which is reused.
	Dump(ctx context.Context, tx Queries, fn func(table string, columns []string, row []any) error) error
	// Load runs fn in one write transaction; fn inserts rows with the insert
	// function it is given, with their ids, in DumpTables order (each row's
	// references must already be loaded). Values may be the types Dump
	// produces, or int/float64/json.Number for integers and time.Time for
	// timestamps. Unknown tables or columns are errs.Invalid. When fn returns,
	// identity sequences are moved past the loaded ids and the transaction
	// commits; an error from fn or an insert rolls everything back.
	//
	// A store that holds any record is refused with errs.Conflict, unless
	// opts.Replace is set: then every record (web sessions included) is
	// deleted first, in the same transaction.
	Load(ctx context.Context, opts LoadOptions, fn func(insert InsertFunc) error) error
}

// InsertFunc inserts one row of a table during Load.
type InsertFunc func(table string, columns []string, row []any) error

// LoadOptions configure Dumper.Load.
type LoadOptions struct {
	// Replace deletes everything the store holds before loading.
	Replace bool
}

// DumpTables lists the tables a dump holds, in the order they load
// (referenced tables first). Web sessions are not among them: they are
// short-lived logins, deliberately not carried into another registry. Nor
// are webhook deliveries and their attempts: the hooks are carried, but a
// restored registry must not replay old notifications to the receivers,
// and the delivery log is the old registry's history.
func DumpTables() []string {
	return []string{
		"users", "api_tokens", "packages", "versions", "dependencies", "owners",
		"version_downloads", "download_batches", "audit_events", "git_jobs",
		"log_records", "log_hashes", "webhooks",
	}
}
