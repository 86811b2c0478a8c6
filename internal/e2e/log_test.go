package e2e

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	sumtlog "golang.org/x/mod/sumdb/tlog"

	"github.com/dryad-lang/registry/internal/store/storetest"
	"github.com/dryad-lang/registry/internal/testenv"
	"github.com/dryad-lang/registry/internal/tlog"
)

// logVerify runs `log verify` against a registry with a state file.
func logVerify(t *testing.T, r *testRegistry, state string, extra ...string) (int, string, string) {
	t.Helper()
	return invocation{}.run(t, append([]string{"log", "verify", "--registry", r.URL, "--state", state}, extra...)...)
}

// restart stops a registry and starts it again on the same data, so that
// what was changed behind its back is read afresh (not from its cache).
func restart(t *testing.T, r *testRegistry) *testRegistry {
	t.Helper()
	r.Stop()
	return startRegistry(t, regOptions{DataDir: r.DataDir, DatabaseURL: r.Config.DatabaseURL})
}

// The log records every change; its inclusion proofs check with
// sumdb/tlog; `log verify` accepts the log as it grows, and both it and
// `verify` name each change made behind the registry's back: a checksum,
// a record rewritten, a whole log rewritten (a fork), a record deleted.
func TestTransparencyLog(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		r := startRegistry(t, regOptions{Engine: engine})
		tok := r.signUp("auditor")
		sums := map[string]string{}
		for _, p := range []pkg{{name: "alpha", version: "1.0.0"}, {name: "alpha", version: "1.1.0"}, {name: "beta", version: "0.1.0"}} {
			sums[p.name+"@"+p.version] = r.expect(201, "POST", "/api/upload", tok, p.archive(t), "Content-Type", "application/gzip").JSON(t)["checksum"].(string)
		}
		r.expect(200, "PUT", "/api/packages/alpha/versions/1.0.0/yank", tok, nil)
		state := filepath.Join(t.TempDir(), "state.json")
		if code, out, errOut := logVerify(t, r, state); code != 0 || !strings.Contains(out, "checked   3 publish records of 2 packages") {
			t.Fatalf("log verify of a sound log: exit %d\n%s%s", code, out, errOut)
		}

		// A lookup's proof checks against its checkpoint, signed by the
		// registry's key.
		key := strings.TrimSpace(string(r.expect(200, "GET", "/api/log/key", "", nil).Body))
		lk := r.expect(200, "GET", "/api/log/lookup/Alpha@1.1.0", "", nil).JSON(t)
		rec := lk["record"].(map[string]any)
		if rec["sha256"] != sums["alpha@1.1.0"] || rec["kind"] != "publish" {
			t.Errorf("lookup record %v", rec)
		}
		tree, err := tlog.OpenCheckpoint([]byte(lk["checkpoint"].(string)), key)
		if err != nil || tree.N != int64(lk["tree_size"].(float64)) || tree.Hash.String() != lk["tree_hash"] {
			t.Fatalf("lookup checkpoint %v (%v), answer %v", tree, err, lk)
		}
		var proof []sumtlog.Hash
		for _, s := range lk["proof"].([]any) {
			h, err := sumtlog.ParseHash(s.(string))
			if err != nil {
				t.Fatal(err)
			}
			proof = append(proof, h)
		}
		index := int64(rec["index"].(float64))
		if err := sumtlog.CheckRecord(proof, tree.N, tree.Hash, index, sumtlog.RecordHash([]byte(rec["data"].(string)))); err != nil {
			t.Errorf("inclusion proof of alpha@1.1.0: %v", err)
		}
		page := string(r.expect(200, "GET", "/packages/alpha/1.1.0", "", nil).Body)
		if !strings.Contains(page, fmt.Sprintf("record #%d", index)) {
			t.Errorf("the package page does not show the log record #%d", index)
		}
		if page := string(r.expect(200, "GET", "/log", "", nil).Body); !strings.Contains(page, strings.ReplaceAll(key, "+", "&#43;")) {
			t.Errorf("the log page does not show the key %s", key)
		}

		// The log grows; the next audit checks it extends the last.
		r.expect(201, "POST", "/api/upload", tok, pkg{name: "gamma", version: "2.0.0"}.archive(t), "Content-Type", "application/gzip")
		if code, out, errOut := logVerify(t, r, state); code != 0 || !strings.Contains(out, "previous  ") {
			t.Fatalf("log verify after growth: exit %d\n%s%s", code, out, errOut)
		}
		if out := mustCommand(t, r.target(), "verify"); !strings.Contains(out, "log records checked") {
			t.Fatalf("verify of a sound registry:\n%s", out)
		}

		db := openStore(t, r.Config).WriteDB()
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(t.Context(), q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		var betaIndex int64
		if err := db.QueryRowContext(t.Context(), `SELECT idx FROM log_records WHERE kind = 'publish' AND package = 'beta'`).Scan(&betaIndex); err != nil {
			t.Fatal(err)
		}
		forged := strings.Repeat("f", 64)

		// 1. A version's checksum changed.
		exec(`UPDATE versions SET checksum = $1 WHERE version = '0.1.0'`, forged)
		r = restart(t, r)
		code, out, errOut := opsCommand(t, r.target(), "verify")
		if want := fmt.Sprintf("transparency log: beta@0.1.0: publish record #%d says sha256 %s, the version says %s", betaIndex, sums["beta@0.1.0"], forged); code != 1 || !strings.Contains(out, want) {
			t.Errorf("verify after a checksum changed: exit %d, want %q\n%s%s", code, want, out, errOut)
		}
		code, out, errOut = logVerify(t, r, state)
		if want := fmt.Sprintf("beta@0.1.0: the log's record #%d says sha256 %s, the registry serves %s", betaIndex, sums["beta@0.1.0"], forged); code != 1 || !strings.Contains(out, want) {
			t.Errorf("log verify after a checksum changed: exit %d, want %q\n%s%s", code, want, out, errOut)
		}

		// 2. The publish record rewritten to match, its hashes left.
		var data string
		if err := db.QueryRowContext(t.Context(), `SELECT data FROM log_records WHERE idx = $1`, betaIndex).Scan(&data); err != nil {
			t.Fatal(err)
		}
		exec(`UPDATE log_records SET data = $1 WHERE idx = $2`, strings.Replace(data, sums["beta@0.1.0"], forged, 1), betaIndex)
		code, out, errOut = opsCommand(t, r.target(), "verify")
		if want := fmt.Sprintf("stored hash #%d is not the one of the records", sumtlog.StoredHashIndex(0, betaIndex)); code != 1 || !strings.Contains(out, want) {
			t.Errorf("verify after a record changed: exit %d, want %q\n%s%s", code, want, out, errOut)
		}
		code, out, errOut = logVerify(t, r, state)
		if want := fmt.Sprintf("(first at record #%d)", betaIndex); code != 1 || !strings.Contains(out, "but its signed checkpoint says") || !strings.Contains(out, want) {
			t.Errorf("log verify after a record changed: exit %d, want %q\n%s%s", code, want, out, errOut)
		}

		// 3. The whole tree recomputed over the rewritten record: sound in
		// itself, but a fork of the tree the auditor saw.
		rows, err := db.QueryContext(t.Context(), `SELECT data FROM log_records ORDER BY idx`)
		if err != nil {
			t.Fatal(err)
		}
		var records [][]byte
		for rows.Next() {
			var d string
			rows.Scan(&d)
			records = append(records, []byte(d))
		}
		rows.Close()
		mem, err := tlog.Build(records)
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range mem {
			exec(`UPDATE log_hashes SET hash = $1 WHERE idx = $2`, hex.EncodeToString(h[:]), i)
		}
		if code, out, errOut := opsCommand(t, r.target(), "verify"); code != 1 || strings.Contains(out, "transparency log") {
			t.Errorf("verify of a rewritten log (the archive's checksum is still wrong, the log consistent): exit %d\n%s%s", code, out, errOut)
		}
		code, out, errOut = logVerify(t, r, state)
		if code != 1 || !strings.Contains(out, "the log was rewritten") || strings.Contains(out, "signed checkpoint says") {
			t.Errorf("log verify of a forked log: exit %d\n%s%s", code, out, errOut)
		}
		// A fresh auditor sees a consistent log that agrees with what the
		// registry serves: only the state of an earlier audit tells.
		if code, out, _ := logVerify(t, r, filepath.Join(t.TempDir(), "fresh.json")); code != 0 {
			t.Errorf("a fresh auditor refuses a consistent log:\n%s", out)
		}

		// 4. A record deleted.
		exec(`DELETE FROM log_records WHERE idx = 1`)
		code, out, errOut = opsCommand(t, r.target(), "verify")
		if code != 1 || !strings.Contains(out, "record #1 is missing (the next one is #2)") {
			t.Errorf("verify after a record was deleted: exit %d\n%s%s", code, out, errOut)
		}
		if code, out, errOut := logVerify(t, r, state); code != 1 || !strings.Contains(out+errOut, "tile/8/data/000") {
			t.Errorf("log verify after a record was deleted: exit %d\n%s%s", code, out, errOut)
		}
	})
}

// Two registries on one PostgreSQL publishing at once keep one log: every
// publish recorded once, no gaps, the same checkpoint from both, and an
// audit through either passes.
func TestTransparencyLogTwoInstances(t *testing.T) {
	testenv.PostgresURL(t)
	a := startRegistry(t, regOptions{Engine: "postgres"})
	b := startRegistry(t, regOptions{DatabaseURL: a.Config.DatabaseURL, DataDir: a.DataDir})
	tok := a.signUp("twin")
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := a
			if i%2 == 1 {
				r = b
			}
			r.expect(201, "POST", "/api/upload", tok, pkg{name: fmt.Sprintf("twin%d", i%4), version: fmt.Sprintf("1.0.%d", i)}.archive(t), "Content-Type", "application/gzip")
		}()
	}
	wg.Wait()
	cpA := string(a.expect(200, "GET", "/api/log/checkpoint", "", nil).Body)
	cpB := string(b.expect(200, "GET", "/api/log/checkpoint", "", nil).Body)
	if cpA != cpB {
		t.Fatalf("the instances serve different checkpoints:\n%s\n%s", cpA, cpB)
	}
	key := strings.TrimSpace(string(a.expect(200, "GET", "/api/log/key", "", nil).Body))
	tree, err := tlog.OpenCheckpoint([]byte(cpA), key)
	if err != nil || tree.N != n+4 { // n publishes and the first owner of 4 packages
		t.Fatalf("checkpoint %v, %v; want %d records", tree, err, n+4)
	}
	storetest.CheckLog(t, openStore(t, a.Config), n+4)
	state := filepath.Join(t.TempDir(), "state.json")
	for _, r := range []*testRegistry{a, b} {
		if code, out, errOut := logVerify(t, r, state, "--key", key); code != 0 {
			t.Errorf("log verify through %s: exit %d\n%s%s", r.URL, code, out, errOut)
		}
	}
}
