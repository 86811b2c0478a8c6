package registry_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"

	sumtlog "golang.org/x/mod/sumdb/tlog"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
	"github.com/dryad-lang/registry/internal/store/storetest"
	"github.com/dryad-lang/registry/internal/tlog"
)

// logLines returns the kind, package and subject of every record.
func logLines(t *testing.T, f *registrytest.Fixture) []string {
	t.Helper()
	size, err := f.Store.LogSize(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for n := range size {
		e, err := f.Service.LogRecord(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s %s %s", e.Record.Kind, e.Record.Package, e.Record.Subject(), e.Record.Actor))
	}
	return out
}

// tileReader serves a registry's tiles to sumdb/tlog.
type tileReader struct {
	f *registrytest.Fixture
}

func (r tileReader) Height() int { return tlog.TileHeight }

func (r tileReader) ReadTiles(tiles []sumtlog.Tile) ([][]byte, error) {
	var out [][]byte
	for _, t := range tiles {
		data, err := r.f.Service.LogTile(context.Background(), t.Path())
		if err != nil {
			return nil, err
		}
		out = append(out, data)
	}
	return out, nil
}

func (r tileReader) SaveTiles([]sumtlog.Tile, [][]byte) {}

func TestLogRecordsEveryChange(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	f.SignUp("bob")
	pub := f.Publish(alice, pkg("left_pad", "1.0.0"))
	f.Publish(alice, pkg("left_pad", "1.1.0"))
	_, err := f.Service.SetYanked(ctx, alice, "left-pad", "1.0.0", true, ip)
	checkErr(t, "yank", err, success, "")
	_, err = f.Service.SetYanked(ctx, alice, "left-pad", "1.0.0", true, ip)
	checkErr(t, "yank again", err, success, "")
	_, err = f.Service.SetYanked(ctx, alice, "left-pad", "1.0.0", false, ip)
	checkErr(t, "unyank", err, success, "")
	_, err = f.Service.AddOwners(ctx, alice, "left-pad", []string{"bob"}, ip)
	checkErr(t, "add owner", err, success, "")
	_, err = f.Service.AddOwners(ctx, alice, "left-pad", []string{"bob"}, ip)
	checkErr(t, "add owner again", err, success, "")
	_, err = f.Service.RemoveOwners(ctx, alice, "left-pad", []string{"bob"}, ip)
	checkErr(t, "remove owner", err, success, "")
	_, err = f.Service.DeleteVersion(ctx, alice, "left-pad", "1.1.0", ip)
	checkErr(t, "delete", err, success, "")
	// A refused change leaves no record.
	_, err = f.Service.SetYanked(ctx, f.Login("bob"), "left-pad", "1.0.0", true, ip)
	checkErr(t, "yank by a stranger", err, errs.Forbidden, "")

	want := []string{
		"owner-add left-pad alice alice",
		"publish left-pad 1.0.0 alice",
		"publish left-pad 1.1.0 alice",
		"yank left-pad 1.0.0 alice",
		"unyank left-pad 1.0.0 alice",
		"owner-add left-pad bob alice",
		"owner-remove left-pad bob alice",
		"delete left-pad 1.1.0 alice",
	}
	if got := logLines(t, f); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	storetest.CheckLog(t, f.Store, int64(len(want)))

	// The checkpoint is signed by the key the registry shows, and the
	// lookup's proof checks against it with sumdb/tlog.
	cp, tree, err := f.Service.LogCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	opened, err := tlog.OpenCheckpoint(cp, f.Service.LogKey())
	if err != nil || opened != tree || tree.N != int64(len(want)) {
		t.Fatalf("checkpoint %v (%v), want %v", opened, err, tree)
	}
	lp, err := f.Service.LogLookup(ctx, "LEFT_PAD", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if lp.Publish.Index != 1 || lp.Publish.Record.SHA256 != pub.Checksum || len(lp.Later) != 2 {
		t.Errorf("lookup = %+v", lp)
	}
	if err := sumtlog.CheckRecord(lp.Proof, lp.Tree.N, lp.Tree.Hash, lp.Publish.Index, sumtlog.RecordHash(lp.Publish.Data)); err != nil {
		t.Errorf("inclusion proof: %v", err)
	}
	if _, err := tlog.OpenCheckpoint(lp.Checkpoint, f.Service.LogKey()); err != nil {
		t.Error(err)
	}
	// Deleted versions keep their records; unknown ones have none.
	if lp, err := f.Service.LogLookup(ctx, "left-pad", "1.1.0"); err != nil || len(lp.Later) != 1 {
		t.Errorf("lookup of a deleted version = %+v, %v", lp, err)
	}
	_, err = f.Service.LogLookup(ctx, "left-pad", "9.0.0")
	checkErr(t, "lookup of an unknown version", err, errs.NotFound, "")

	// The tiles the registry serves verify against the checkpoint.
	hr := sumtlog.TileHashReader(tree, tileReader{f})
	for n := range tree.N {
		rec, err := f.Service.LogRecord(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		proof, err := sumtlog.ProveRecord(tree.N, n, hr)
		if err != nil {
			t.Fatal(err)
		}
		if err := sumtlog.CheckRecord(proof, tree.N, tree.Hash, n, sumtlog.RecordHash(rec.Data)); err != nil {
			t.Errorf("record %d: %v", n, err)
		}
	}
	data, err := f.Service.LogTile(ctx, fmt.Sprintf("tile/8/data/000.p/%d", tree.N))
	if err != nil || len(tlog.SplitRecords(data)) != int(tree.N) {
		t.Errorf("data tile: %d records, %v", len(tlog.SplitRecords(data)), err)
	}
	_, err = f.Service.LogRecord(ctx, tree.N)
	checkErr(t, "record past the end", err, errs.NotFound, "")
}

// A registry with versions from before it kept a log records them all
// once, and only once.
func TestInitLog(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	f.Publish(alice, pkg("old", "1.0.0"))
	f.Publish(alice, pkg("old", "1.1.0"))
	_, err := f.Service.SetYanked(ctx, alice, "old", "1.1.0", true, ip)
	checkErr(t, "yank", err, success, "")
	// Forget the log, as a database from before it would have none.
	wipe := `DELETE FROM log_records; DELETE FROM log_hashes; UPDATE log_head SET size = 0`
	for _, q := range strings.Split(wipe, "; ") {
		if _, err := f.Store.(interface{ WriteDB() *sql.DB }).WriteDB().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	n, err := f.Service.InitLog(ctx)
	if err != nil || n != 2 {
		t.Fatalf("InitLog = %d, %v; want 2 versions", n, err)
	}
	want := "publish old 1.0.0 alice\npublish old 1.1.0 alice\nyank old 1.1.0 "
	if got := strings.Join(logLines(t, f), "\n"); got != want {
		t.Errorf("log after InitLog:\n%s\nwant:\n%s", got, want)
	}
	if n, err := f.Service.InitLog(ctx); err != nil || n != 0 {
		t.Errorf("second InitLog = %d, %v", n, err)
	}
	storetest.CheckLog(t, f.Store, 3)
}

// Publishes racing on both engines (several connections, as several
// instances) give one log: every publish recorded once, no gaps.
func TestConcurrentPublishesLog(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			var opts []registrytest.Option
			if engine == "postgres" {
				opts = append(opts, registrytest.Postgres(t))
			}
			f := registrytest.New(t, opts...)
			alice := f.SignUp("alice")
			const n = 12
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := f.TryPublish(alice, pkg(fmt.Sprintf("p%d", i%3), fmt.Sprintf("1.0.%d", i))); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			// n publishes and one first owner per package.
			storetest.CheckLog(t, f.Store, n+3)
		})
	}
}
