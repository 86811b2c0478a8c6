package testenv

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strings"
	"testing"
	"time"
)

// Package is a package for tests: a manifest made from Name, Version and
// Fields, and files. Archive writes it as the .tar.gz an author uploads.
type Package struct {
	Name, Version string
	// Fields are added to (or replace) the manifest's fields; the
	// defaults are a description and empty dependencies.
	Fields map[string]any
	// Files are path → content, beside oaklibs.json and a
	// lib/{name}.dryad the package always has. A path ending in "*" is
	// executable (the star is dropped); "oaklibs.json" replaces the
	// manifest made from the fields.
	Files map[string]string
	// Prefix puts every entry inside one top-level folder, as archives
	// made with "tar czf x.tar.gz folder/" have them.
	Prefix string
}

// Manifest is the package's oaklibs.json.
func (p Package) Manifest() []byte {
	m := map[string]any{"name": p.Name, "version": p.Version, "description": "the " + p.Name + " package", "dependencies": map[string]string{}}
	for k, v := range p.Fields {
		m[k] = v
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	return b
}

// FileMap is every file of the package, path → content (executables
// marked with a trailing "*").
func (p Package) FileMap() map[string]string {
	files := map[string]string{"oaklibs.json": string(p.Manifest()), "lib/" + p.Name + ".dryad": "export fn hello() { print(\"" + p.Name + "\") }\n"}
	for k, v := range p.Files {
		files[k] = v
	}
	return files
}

// Archive writes the package as a gzip-compressed tar.
func (p Package) Archive(t testing.TB) []byte {
	t.Helper()
	return TarGz(t, p.Prefix, p.FileMap())
}

// TarGz writes files (path → content; a path ending in "*" is executable)
// as a gzip-compressed tar under prefix (none when ""), the way an author's
// tools might and the registry's canonical form does not: entries in
// reverse path order, no folder entries but the prefix's, owner someone
// (1000:1000), modes 0664 and 0775, the current time. What the registry
// serves from it is therefore never the same bytes.
func TarGz(t testing.TB, prefix string, files map[string]string) []byte {
	t.Helper()
	var entries []Entry
	now := time.Now()
	if prefix != "" {
		prefix = strings.TrimSuffix(prefix, "/") + "/"
		entries = append(entries, Entry{Name: prefix, Type: tar.TypeDir, Mode: 0o775, ModTime: now})
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(paths)))
	for _, p := range paths {
		name, mode := p, int64(0o664)
		if strings.HasSuffix(name, "*") {
			name, mode = strings.TrimSuffix(name, "*"), 0o775
		}
		entries = append(entries, Entry{Name: prefix + name, Body: files[p], Mode: mode,
			Uid: 1000, Gid: 1000, Uname: "someone", ModTime: now})
	}
	return Gzip(t, Tar(t, entries...))
}

// Entry is one entry of a hand-made tar, for archives of every shape,
// hostile ones included. The zero Type is a regular file.
type Entry struct {
	Name     string
	Body     string
	Type     byte
	Mode     int64 // 0644 for files, 0755 for folders when zero
	Link     string
	PAX      map[string]string
	Format   tar.Format
	Uid, Gid int
	Uname    string
	ModTime  time.Time // EntryTime when zero
}

// EntryTime is the modification time of entries that do not set one.
var EntryTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// Tar writes the entries, in the order given, with archive/tar.
func Tar(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.Mode
		if mode == 0 {
			mode = 0o644
			if typ == tar.TypeDir {
				mode = 0o755
			}
		}
		mt := e.ModTime
		if mt.IsZero() {
			mt = EntryTime
		}
		h := &tar.Header{
			Name: e.Name, Typeflag: typ, Mode: mode, Linkname: e.Link,
			PAXRecords: e.PAX, Format: e.Format, ModTime: mt,
			Uid: e.Uid, Gid: e.Gid, Uname: e.Uname,
		}
		if typ == tar.TypeReg {
			h.Size = int64(len(e.Body))
		}
		if typ == tar.TypeXGlobalHeader {
			h = &tar.Header{Name: e.Name, Typeflag: typ, PAXRecords: e.PAX}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("writing test header %q: %v", e.Name, err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.Body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Gzip compresses data as one gzip member.
func Gzip(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Untar reads a .tar.gz into path → content: regular files with their
// content (executables marked with a trailing "*"), folders as "<dir>"
// under their path without the slash. A malformed archive fails the test.
func Untar(t testing.TB, b []byte) map[string]string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	tr := tar.NewReader(zr)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("not tar: %v", err)
		}
		if h.Typeflag == tar.TypeDir {
			out[strings.TrimSuffix(h.Name, "/")] = "<dir>"
			continue
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("reading %s: %v", h.Name, err)
		}
		name := h.Name
		if h.Mode&0o111 != 0 {
			name += "*"
		}
		out[name] = string(body)
	}
}
