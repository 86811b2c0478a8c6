package fs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dryad-lang/registry/internal/blob"
	"github.com/dryad-lang/registry/internal/blob/blobtest"
	"github.com/dryad-lang/registry/internal/errs"
)

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestLayoutAndSendfile(t *testing.T) {
	root := t.TempDir()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := s.Create(context.Background())
	w.Write([]byte("abc"))
	sum, err := w.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(root, "sha256", sum[:2], sum+".tar.gz")
	if _, err := os.Stat(want); err != nil {
		t.Fatalf("blob not at %s: %v", want, err)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "tmp"))
	if len(entries) != 0 {
		t.Errorf("temp files left: %v", entries)
	}
	f, err := s.Open(context.Background(), sum)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, ok := f.(blob.OSFile); !ok {
		t.Error("fs blobs should expose their *os.File for sendfile")
	}
}

func TestCheckFailsWhenUnwritable(t *testing.T) {
	root := t.TempDir()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	// Replace the temp folder with a file: writes fail even as root.
	os.RemoveAll(s.TempDir())
	os.WriteFile(s.TempDir(), nil, 0o600)
	if err := s.Check(context.Background()); !errors.Is(err, errs.Unavailable) {
		t.Fatalf("Check = %v, want Unavailable", err)
	}
	if _, err := s.Create(context.Background()); !errors.Is(err, errs.Unavailable) {
		t.Fatalf("Create = %v, want Unavailable", err)
	}
}
