package postgres

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/store"
	"github.com/dryad-lang/registry/internal/store/sqlite"
	"github.com/dryad-lang/registry/internal/store/storetest"
	"github.com/dryad-lang/registry/internal/testenv"
)

func TestConformance(t *testing.T) {
	testenv.PostgresURL(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(context.Background(), testenv.NewPostgresDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// Two instances starting at once against an empty database both succeed and
// the schema is created once.
func TestConcurrentMigrations(t *testing.T) {
	url := testenv.NewPostgresDatabase(t)
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), url)
			if err == nil {
				s.Close()
			}
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestUnreachable(t *testing.T) {
	_, err := Open(context.Background(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if !errors.Is(err, errs.Unavailable) {
		t.Fatalf("err = %v, want Unavailable", err)
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("message should name the server: %v", err)
	}
}

// A dump of SQLite loads into PostgreSQL and back with identical reads: the
// documented way to move a registry to PostgreSQL.
func TestDumpAcrossEngines(t *testing.T) {
	testenv.PostgresURL(t)
	openPG := func(t *testing.T) store.Store {
		s, err := Open(context.Background(), testenv.NewPostgresDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	openSQLite := func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "registry.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	t.Run("SQLiteToPostgreSQL", func(t *testing.T) { storetest.Transfer(t, openSQLite, openPG) })
	t.Run("PostgreSQLToSQLite", func(t *testing.T) { storetest.Transfer(t, openPG, openSQLite) })
}

// Every table is in dumps.
func TestDumpCoversTables(t *testing.T) {
	s, err := Open(context.Background(), testenv.NewPostgresDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.WriteDB().Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	storetest.DumpCovers(t, tables)
}

// Two handles on one database (two registry instances) append to one log
// without gaps or forks: the log head row serialises them.
func TestConcurrentLogTwoHandles(t *testing.T) {
	url := testenv.NewPostgresDatabase(t)
	storetest.LogAcrossHandles(t, func(t *testing.T) store.Store {
		s, err := Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestDatabaseDropped: once the registry's database is gone, every query
// is Unavailable (503), whether it meets a connection the server ended or
// a new one the server refuses ("database does not exist").
func TestDatabaseDropped(t *testing.T) {
	url := testenv.NewPostgresDatabase(t)
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Totals(context.Background()); err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(context.Background(), testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	name := url[strings.LastIndex(url, "/")+1:]
	if i := strings.IndexByte(name, '?'); i >= 0 {
		name = name[:i]
	}
	if _, err := admin.Exec(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := s.Totals(context.Background()); !errors.Is(err, errs.Unavailable) {
			t.Errorf("query %d with the database dropped: %v, want Unavailable", i+1, err)
		}
	}
}
