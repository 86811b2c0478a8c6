package storetest

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
)

// dumped is one table of a dump, as JSON text (the form backups keep).
type dumped struct {
	Table   string
	Columns []string
	Rows    []string
}

// fill gives a store at least one record of every kind, with the values
// that are easy to get wrong between engines: null and set times,
// sub-second times, booleans, lists, large integers, days, Unicode.
func fill(t *testing.T, s store.Store) {
	alice := newUser(t, s, "alice")
	bob := newUser(t, s, "Bob_ß")
	bob.Disabled = true
	bob.Role = store.RoleAdmin
	bob.CredentialVersion = 3
	must(t, s.UpdateUser(ctx, bob))
	must(t, s.TouchLogin(ctx, alice.ID, t0))
	exp := t0.Add(48 * time.Hour)
	must(t, s.CreateToken(ctx, &store.Token{UserID: alice.ID, Name: "ci", Hash: "h-ci", Scopes: []string{"publish", "yank"}, Packages: []string{"web-*"}, ExpiresAt: &exp}))
	tk := &store.Token{UserID: bob.ID, Name: "old", Hash: "h-old", Scopes: []string{"owners"}}
	must(t, s.CreateToken(ctx, tk))
	must(t, s.RevokeToken(ctx, bob.ID, tk.ID, t0))
	must(t, s.CreateSession(ctx, &store.Session{IDHash: "sess", UserID: alice.ID, CredentialVersion: 1, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))

	core := newPackage(t, s, "core_utils", alice)
	core.Keywords = []string{"strings", "text"}
	core.Latest = "1.1.0"
	core.Description = "Core utilities — fast"
	must(t, s.UpdatePackage(ctx, core))
	must(t, s.AddOwner(ctx, core.ID, bob.ID, t0.Add(time.Second)))
	v1 := newVersion(t, s, core, alice, "1.0.0")
	v2 := newVersion(t, s, core, bob, "1.1.0+build.5", store.Dependency{Name: "web", Range: "^2.0.0", Dev: true})
	must(t, s.SetYanked(ctx, v1.ID, true, t0.Add(time.Minute)))
	must(t, s.SetGitCommit(ctx, v2.ID, strings.Repeat("ab", 20)))
	web := newPackage(t, s, "web", bob)
	w1 := newVersion(t, s, web, bob, "2.0.0", store.Dependency{Name: "core-utils", Range: "^1.0.0"})
	must(t, s.MarkVersionDeleted(ctx, w1.ID, t0.Add(time.Hour)))
	gone := t0.Add(2 * time.Hour)
	web.DeletedAt = &gone
	must(t, s.UpdatePackage(ctx, web))
	must(t, s.SetMirrorState(ctx, web.ID, &gone, "push refused"))

	must(t, s.AddDownloads(ctx, "batch-1", []store.DownloadCount{{VersionID: v1.ID, Day: "2026-03-13", Count: 5}, {VersionID: v2.ID, Day: "2026-03-14", Count: 1 << 40}}))
	must(t, s.AddAudit(ctx, &store.AuditEvent{At: t0, ActorID: alice.ID, Actor: "alice", IP: "192.0.2.1", Action: "publish", Package: "core-utils", Target: "core_utils@1.0.0", Outcome: store.OutcomeSuccess}))
	must(t, s.AddAudit(ctx, &store.AuditEvent{At: t0, Actor: "", Action: "login", Outcome: store.OutcomeFailure, Detail: "line\nbreak \"quoted\""}))
	j := &store.GitJob{PackageID: core.ID, Kind: store.GitCommit, Version: "1.1.0+build.5", CreatedAt: t0, NextAttemptAt: t0}
	must(t, s.EnqueueGitJob(ctx, j))
	must(t, s.FailGitJob(ctx, j.ID, "git: boom", t0.Add(time.Minute)))
	// A package's hook and a registry-wide one (no package: a NULL).
	must(t, s.CreateWebhook(ctx, &store.Webhook{PackageID: core.ID, URL: "https://ci.example/hook", Secret: "s", Events: []string{"version.yanked"}, Active: true, CreatedBy: "alice", CreatedAt: t0}))
	must(t, s.CreateWebhook(ctx, &store.Webhook{URL: "http://10.0.0.1/all", Secret: "t", Active: false, CreatedAt: t0}))
	for _, v := range []string{"1.0.0", "1.1.0"} {
		must(t, s.Transact(ctx, func(tx store.Queries) error {
			_, err := appendLog(tx, "core-utils", v)
			return err
		}))
	}
}

// dumpAll dumps a store inside a snapshot, each row encoded as JSON.
func dumpAll(t *testing.T, s store.Store) []dumped {
	t.Helper()
	d, ok := s.(store.Dumper)
	if !ok {
		t.Fatalf("%T does not implement store.Dumper", s)
	}
	var out []dumped
	err := s.Snapshot(ctx, func(tx store.Queries) error {
		return d.Dump(ctx, tx, func(table string, columns []string, row []any) error {
			if row == nil {
				out = append(out, dumped{Table: table, Columns: append([]string(nil), columns...)})
				return nil
			}
			last := &out[len(out)-1]
			if last.Table != table {
				return fmt.Errorf("row of %s before its announcement", table)
			}
			for i, v := range row {
				switch v.(type) {
				case nil, int64, bool, string:
				default:
					return fmt.Errorf("%s.%s: value of type %T, want nil, int64, bool or string", table, columns[i], v)
				}
			}
			b, err := json.Marshal(row)
			if err != nil {
				return err
			}
			last.Rows = append(last.Rows, string(b))
			return nil
		})
	})
	must(t, err)
	return out
}

// loadAll loads a dump the way a restore does: JSON decoded with numbers
// kept exact.
func loadAll(s store.Store, dump []dumped, opts store.LoadOptions) error {
	return s.(store.Dumper).Load(ctx, opts, func(insert store.InsertFunc) error {
		for _, tb := range dump {
			for _, r := range tb.Rows {
				dec := json.NewDecoder(bytes.NewReader([]byte(r)))
				dec.UseNumber()
				var row []any
				if err := dec.Decode(&row); err != nil {
					return err
				}
				if err := insert(tb.Table, tb.Columns, row); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Transfer checks that what one store dumps loads into another (of another
// engine, possibly) and reads back identically; open functions return new,
// empty, migrated stores.
func Transfer(t *testing.T, from, to func(t *testing.T) store.Store) {
	src := from(t)
	fill(t, src)
	dump := dumpAll(t, src)
	dst := to(t)
	must(t, loadAll(dst, dump, store.LoadOptions{}))
	again := dumpAll(t, dst)
	if !reflect.DeepEqual(dump, again) {
		t.Fatalf("dump after load differs:\nbefore %v\nafter  %v", dump, again)
	}
	compareReads(t, src, dst)
}

func testDumpLoad(t *testing.T, src store.Store, open func(t *testing.T) store.Store) {
	fill(t, src)
	dump := dumpAll(t, src)
	var tables []string
	for _, d := range dump {
		tables = append(tables, d.Table)
		if len(d.Rows) == 0 {
			t.Errorf("table %s dumped no rows; fill should cover every table", d.Table)
		}
	}
	if !reflect.DeepEqual(tables, store.DumpTables()) {
		t.Errorf("dumped tables %v, want %v", tables, store.DumpTables())
	}
	// Timestamps are RFC 3339 in UTC, days are dates.
	for _, d := range dump {
		if d.Table == "users" && !strings.Contains(d.Rows[0], `"2026-03-14T15:09:26.535897Z"`) {
			t.Errorf("users row does not hold the login time in RFC 3339 UTC: %s", d.Rows[0])
		}
		if d.Table == "version_downloads" && !strings.Contains(d.Rows[0], `"2026-03-13"`) {
			t.Errorf("version_downloads row does not hold its day: %s", d.Rows[0])
		}
	}

	dst := open(t)
	must(t, loadAll(dst, dump, store.LoadOptions{}))
	if again := dumpAll(t, dst); !reflect.DeepEqual(dump, again) {
		t.Fatalf("dump after load differs:\nbefore %v\nafter  %v", dump, again)
	}
	compareReads(t, src, dst)

	// New records after a load get fresh ids, past the loaded ones.
	u := newUser(t, dst, "after_load")
	if u.ID <= 2 {
		t.Errorf("user created after load got id %d, which the loaded users hold", u.ID)
	}
	p := newPackage(t, dst, "fresh", u)
	if p.ID <= 2 {
		t.Errorf("package created after load got id %d", p.ID)
	}
	newVersion(t, dst, p, u, "0.1.0")
	must(t, dst.AddAudit(ctx, &store.AuditEvent{Action: "x", Outcome: store.OutcomeSuccess}))
	must(t, dst.EnqueueGitJob(ctx, &store.GitJob{PackageID: p.ID, Kind: store.GitCommit}))
	must(t, dst.CreateToken(ctx, &store.Token{UserID: u.ID, Name: "n", Hash: "h-new"}))

	// A store that holds records is refused, and left as it was.
	err := loadAll(dst, dump, store.LoadOptions{})
	wantKind(t, err, errs.Conflict)
	if _, err := dst.GetUserByName(ctx, "after_load"); err != nil {
		t.Errorf("refused load changed the store: %v", err)
	}
	// Replace empties it first, sessions included.
	must(t, loadAll(dst, dump, store.LoadOptions{Replace: true}))
	if again := dumpAll(t, dst); !reflect.DeepEqual(dump, again) {
		t.Fatalf("dump after replacing load differs")
	}
	if _, err := dst.GetSession(ctx, "sess"); !errors.Is(err, errs.NotFound) {
		t.Errorf("session survived a replacing load (or the wrong error): %v", err)
	}

	// A failing load leaves nothing behind.
	empty := open(t)
	bad := append([]dumped(nil), dump...)
	bad = append(bad, dumped{Table: "git_jobs", Columns: []string{"id", "no_such_column"}, Rows: []string{`[99, 1]`}})
	wantKind(t, loadAll(empty, bad, store.LoadOptions{}), errs.Invalid)
	wantKind(t, loadAll(empty, []dumped{{Table: "secrets", Columns: []string{"id"}, Rows: []string{`[1]`}}}, store.LoadOptions{}), errs.Invalid)
	wantKind(t, loadAll(empty, []dumped{{Table: "users", Columns: []string{"id", "created_at"}, Rows: []string{`[1, "yesterday"]`}}}, store.LoadOptions{}), errs.Invalid)
	if n, err := empty.CountUsers(ctx); err != nil || n != 0 {
		t.Errorf("failed loads left %d users (%v)", n, err)
	}
	if again := dumpAll(t, empty); len(again) != len(dump) {
		t.Errorf("dump of an empty store has %d tables", len(again))
	} else {
		for _, d := range again {
			if len(d.Rows) != 0 {
				t.Errorf("failed load left rows in %s", d.Table)
			}
		}
	}
}

// testUnknownColumn: a column that dumps do not know stops the dump, so a
// migration that adds one cannot make backups silently lose it.
func testUnknownColumn(t *testing.T, s store.Store) {
	db, ok := s.(interface{ WriteDB() *sql.DB })
	if !ok {
		t.Skipf("%T gives no access to its database", s)
	}
	if _, err := db.WriteDB().ExecContext(ctx, `ALTER TABLE owners ADD COLUMN nickname TEXT`); err != nil {
		t.Fatal(err)
	}
	err := s.Snapshot(ctx, func(tx store.Queries) error {
		return s.(store.Dumper).Dump(ctx, tx, func(string, []string, []any) error { return nil })
	})
	if err == nil || !strings.Contains(err.Error(), "owners.nickname") {
		t.Errorf("dump with an unknown column: %v", err)
	}
}

// compareReads checks that the store's own reads give the same answers.
func compareReads(t *testing.T, a, b store.Store) {
	t.Helper()
	same := func(what string, x, y any) {
		t.Helper()
		if !reflect.DeepEqual(x, y) {
			t.Errorf("%s differs after load:\n source %+v\n target %+v", what, x, y)
		}
	}
	for _, name := range []string{"alice", "bob_ß"} {
		ua, err := a.GetUserByName(ctx, name)
		must(t, err)
		ub, err := b.GetUserByName(ctx, name)
		must(t, err)
		same("user "+name, ua, ub)
		ta, err := a.ListTokens(ctx, ua.ID)
		must(t, err)
		tb, err := b.ListTokens(ctx, ub.ID)
		must(t, err)
		same("tokens of "+name, ta, tb)
	}
	tk, err := b.GetTokenByHash(ctx, "h-ci")
	must(t, err)
	if tk.ExpiresAt == nil || strings.Join(tk.Scopes, ",") != "publish,yank" {
		t.Errorf("token after load: %+v", tk)
	}
	for _, name := range []string{"core-utils", "web"} {
		pa, err := a.GetPackage(ctx, name)
		must(t, err)
		pb, err := b.GetPackage(ctx, name)
		must(t, err)
		same("package "+name, pa, pb)
		va, err := a.ListVersions(ctx, pa.ID)
		must(t, err)
		vb, err := b.ListVersions(ctx, pb.ID)
		must(t, err)
		same("versions of "+name, va, vb)
		oa, err := a.ListOwners(ctx, pa.ID)
		must(t, err)
		ob, err := b.ListOwners(ctx, pb.ID)
		must(t, err)
		same("owners of "+name, oa, ob)
		da, err := a.VersionDownloads(ctx, pa.ID, "2000-01-01")
		must(t, err)
		db, err := b.VersionDownloads(ctx, pb.ID, "2000-01-01")
		must(t, err)
		same("downloads of "+name, da, db)
	}
	aa, na, err := a.ListAudit(ctx, store.AuditFilter{})
	must(t, err)
	ab, nb, err := b.ListAudit(ctx, store.AuditFilter{})
	must(t, err)
	same("audit", aa, ab)
	same("audit total", na, nb)
	pa, fa, err := a.CountGitJobs(ctx)
	must(t, err)
	pb, fb, err := b.CountGitJobs(ctx)
	must(t, err)
	same("git jobs", [2]int64{pa, fa}, [2]int64{pb, fb})
	xa, err := a.Totals(ctx)
	must(t, err)
	xb, err := b.Totals(ctx)
	must(t, err)
	same("totals", xa, xb)
	CheckLog(t, b, 2)
	la, err := a.LogRecords(ctx, 0, 2)
	must(t, err)
	lb, err := b.LogRecords(ctx, 0, 2)
	must(t, err)
	same("log records", la, lb)
	// Text search works on loaded packages (SQLite's index is rebuilt).
	sr, err := b.SearchPackages(ctx, store.SearchQuery{Text: "strings utilities", Sort: store.SortRelevance})
	must(t, err)
	if sr.Total != 1 || sr.Packages[0].Name != "core_utils" {
		t.Errorf("search after load = %+v", sr)
	}
	// Batches already applied are still refused.
	must(t, b.AddDownloads(ctx, "batch-1", []store.DownloadCount{{VersionID: 1, Day: "2026-03-13", Count: 1}}))
	db, err := b.VersionDownloads(ctx, 1, "2000-01-01")
	must(t, err)
	da, err := a.VersionDownloads(ctx, 1, "2000-01-01")
	must(t, err)
	same("downloads after replaying a batch", da, db)
}

// DumpCovers checks that a store's tables (as its engine lists them) are
// the dumped ones, web sessions and the migration ledger: a table added by
// a migration must be added to dumps, or to this list with the reason.
func DumpCovers(t *testing.T, tables []string) {
	t.Helper()
	// log_head is the log's size, which a load derives from log_records.
	// webhook_deliveries and webhook_attempts are the webhook delivery
	// queue and log: a restored registry (often at another address) must
	// not replay old notifications to receivers, and the log is history
	// of the old one (store.DumpTables says so too).
	want := map[string]bool{"sessions": true, "schema_migrations": true, "registry_meta": true, "log_head": true,
		"webhook_deliveries": true, "webhook_attempts": true}
	for _, n := range store.DumpTables() {
		want[n] = true
	}
	for _, n := range tables {
		if !want[n] {
			t.Errorf("table %s is not part of dumps (backups would lose it)", n)
		}
		delete(want, n)
	}
	for n := range want {
		t.Errorf("dumped table %s does not exist", n)
	}
}
