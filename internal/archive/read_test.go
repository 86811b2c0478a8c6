package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
)

func storedArchive(t *testing.T) []byte {
	out, _ := mustCanon(t, tgz(t,
		ent{Name: "oaklibs.json", Body: manifestJSON},
		ent{Name: "src/main.dryad", Body: "print(1)\n"},
		ent{Name: "bin/run", Body: "#!/bin/sh\n", Mode: 0o755},
		ent{Name: "big.bin", Body: strings.Repeat("b", 5000)},
	))
	return out
}

func TestWalk(t *testing.T) {
	data := storedArchive(t)
	var got []string
	err := Walk(t.Context(), bytes.NewReader(data), func(f File, content io.Reader) error {
		b, err := io.ReadAll(content)
		if err != nil {
			return err
		}
		if int64(len(b)) != f.Size {
			t.Errorf("%s: read %d bytes, Size %d", f.Path, len(b), f.Size)
		}
		got = append(got, f.Path+" "+f.Mode.String())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"big.bin -rw-r--r--", "bin -rwxr-xr-x", "bin/run -rwxr-xr-x", "oaklibs.json -rw-r--r--", "src -rwxr-xr-x", "src/main.dryad -rw-r--r--"}
	if !slices.Equal(got, want) {
		t.Errorf("walked %v, want %v", got, want)
	}
}

func TestWalkStops(t *testing.T) {
	data := storedArchive(t)
	n := 0
	err := Walk(t.Context(), bytes.NewReader(data), func(File, io.Reader) error {
		n++
		return fs.SkipAll
	})
	if err != nil || n != 1 {
		t.Errorf("SkipAll: err %v after %d calls", err, n)
	}
	boom := errors.New("boom")
	if err := Walk(t.Context(), bytes.NewReader(data), func(File, io.Reader) error { return boom }); err != boom {
		t.Errorf("fn's error: got %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := Walk(ctx, bytes.NewReader(data), func(File, io.Reader) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}
}

func TestWalkRefusesUnsafeEntries(t *testing.T) {
	tests := map[string][]byte{
		"not gzip":  []byte("plain"),
		"symlink":   tgz(t, ent{Name: "l", Type: tar.TypeSymlink, Link: "/etc"}),
		"dot-dot":   tgz(t, ent{Name: "../x", Body: "x"}),
		"absolute":  tgz(t, ent{Name: "/x", Body: "x"}),
		"truncated": storedArchive(t)[:100],
	}
	for name, data := range tests {
		if err := Walk(t.Context(), bytes.NewReader(data), func(File, io.Reader) error { return nil }); err == nil {
			t.Errorf("%s: walked without error", name)
		}
	}
}

func TestReadFile(t *testing.T) {
	data := storedArchive(t)
	tests := []struct {
		path     string
		max      int64
		want     string
		wantFile File
		wantKind errs.Kind // -1 for no error
	}{
		{"src/main.dryad", 100, "print(1)\n", File{Path: "src/main.dryad", Size: 9, Mode: 0o644}, -1},
		{"/src/main.dryad", 100, "print(1)\n", File{Path: "src/main.dryad", Size: 9, Mode: 0o644}, -1},
		{"bin/run", 100, "#!/bin/sh\n", File{Path: "bin/run", Size: 10, Mode: 0o755}, -1},
		{"src/", 100, "", File{Path: "src", Mode: 0o755, IsDir: true}, -1},
		{"big.bin", 1000, "", File{Path: "big.bin", Size: 5000, Mode: 0o644}, errs.TooLarge},
		{"missing.txt", 100, "", File{}, errs.NotFound},
		{"src/main", 100, "", File{}, errs.NotFound},
	}
	for _, tt := range tests {
		got, f, err := ReadFile(bytes.NewReader(data), tt.path, tt.max)
		if tt.wantKind >= 0 {
			if errs.KindOf(err) != tt.wantKind {
				t.Errorf("%s: err %v, want kind %v", tt.path, err, tt.wantKind)
			}
		} else if err != nil {
			t.Errorf("%s: %v", tt.path, err)
		}
		if string(got) != tt.want || f != tt.wantFile {
			t.Errorf("%s: got %q %+v, want %q %+v", tt.path, got, f, tt.want, tt.wantFile)
		}
	}
}
