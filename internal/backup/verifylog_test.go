package backup_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/backup"
	"github.com/dryad-lang/registry/internal/registry/registrytest"
	"github.com/dryad-lang/registry/internal/testenv"
)

// VerifyLog passes a sound log and names what was changed behind the
// registry's back.
func TestVerifyLog(t *testing.T) {
	ctx := context.Background()
	f := registrytest.New(t)
	alice := f.SignUp("alice")
	f.Publish(alice, testenv.Package{Name: "one", Version: "1.0.0"})
	f.Publish(alice, testenv.Package{Name: "one", Version: "1.1.0"})
	if _, err := f.Service.DeleteVersion(ctx, alice, "one", "1.1.0", registrytest.IP); err != nil {
		t.Fatal(err)
	}
	check := func(want ...string) {
		t.Helper()
		var got []string
		records, n, err := backup.VerifyLog(ctx, f.Store, func(p backup.Problem) { got = append(got, p.String()) })
		if err != nil || n != len(got) || records == 0 {
			t.Fatalf("VerifyLog = %d records, %d problems, %v", records, n, err)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	check()
	db := f.Store.(interface{ WriteDB() *sql.DB }).WriteDB()
	exec := func(q string) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE versions SET deleted_at = NULL WHERE version = '1.1.0'`)
	check("transparency log: one@1.1.0: deleted=false, but the log says deleted=true")
	exec(`DELETE FROM log_records WHERE idx = 2`)
	check("transparency log: record #2 is missing (the next one is #3)")
}
