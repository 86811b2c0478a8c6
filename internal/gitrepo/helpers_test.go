package gitrepo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/testenv"
)

// tfile is one file of a test archive.
type tfile struct {
	path string
	body string
	exec bool
}

// canonicalArchive builds a .tar.gz the way the registry stores archives:
// entries sorted by path, directories listed, owner 0:0, modes 0644/0755,
// one fixed modification time.
func canonicalArchive(t testing.TB, files []tfile) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	mtime := time.Unix(315532800, 0)
	dirs := map[string]bool{}
	type entry struct {
		hdr  *tar.Header
		body string
	}
	var entries []entry
	for _, f := range files {
		for d := path.Dir(f.path); d != "."; d = path.Dir(d) {
			if !dirs[d] {
				dirs[d] = true
				entries = append(entries, entry{hdr: &tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: mtime}})
			}
		}
		mode := int64(0o644)
		if f.exec {
			mode = 0o755
		}
		entries = append(entries, entry{
			hdr:  &tar.Header{Typeflag: tar.TypeReg, Name: f.path, Mode: mode, Size: int64(len(f.body)), ModTime: mtime},
			body: f.body,
		})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].hdr.Name < entries[j].hdr.Name })
	for _, e := range entries {
		e.hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(e.hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// packageFiles returns the files of version v of a test package.
func packageFiles(name, v string) []tfile {
	return []tfile{
		{path: "oaklibs.json", body: fmt.Sprintf(`{"name":%q,"version":%q}`+"\n", name, v)},
		{path: "lib/" + name + ".dryad", body: "// " + name + " " + v + "\nfn main() {}\n"},
		{path: "bin/run", body: "#!/bin/sh\necho " + v + "\n", exec: true},
		{path: "docs/with space \"quoted\".md", body: "odd names survive\n"},
		{path: "docs/ünïcode.txt", body: strings.Repeat("x", 10000)},
	}
}

// newRepos opens repositories in a fresh temporary folder.
func newRepos(t testing.TB) *Repos {
	t.Helper()
	git := testenv.LookPath(t, "git")
	r, err := Open(filepath.Join(t.TempDir(), "git"), Options{Git: git})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// publishTime is the publish time of the n-th test version.
func publishTime(n int) time.Time {
	return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Hour)
}

// commit records a test version and returns its commit id.
func commit(t testing.TB, r *Repos, name, version, parent string, n int, latest bool) string {
	t.Helper()
	id, err := r.CommitVersion(context.Background(), Version{
		Package: name, Version: version,
		Archive:    bytes.NewReader(canonicalArchive(t, packageFiles(name, version))),
		AuthorName: "Ada Publisher", AuthorEmail: "ada@users.noreply.example",
		Time: publishTime(n), Parent: parent, Latest: latest,
	})
	if err != nil {
		t.Fatalf("CommitVersion %s %s: %v", name, version, err)
	}
	return id
}
