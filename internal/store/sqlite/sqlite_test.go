package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/dryad-lang/registry/internal/store"
	"github.com/dryad-lang/registry/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "registry.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestReopenKeepsDataAndSkipsMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "registry.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, &store.User{Username: "keep", Email: "keep@example.org", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetUserByName(ctx, "keep"); err != nil {
		t.Fatal(err)
	}
}

// Every table is in dumps (the text indexes are rebuilt from packages).
func TestDumpCoversTables(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.WriteDB().Query(`SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE 'packages\_fts%' ESCAPE '\' AND name NOT LIKE 'package\_names%' ESCAPE '\'`)
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

// Two handles on one database file (two processes on one DATA_DIR) append
// to one log without gaps or forks.
func TestConcurrentLogTwoHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "registry.db")
	storetest.LogAcrossHandles(t, func(t *testing.T) store.Store {
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
