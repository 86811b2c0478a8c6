package gitrepo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/testenv"
)

func TestVersionGraph(t *testing.T) {
	r := newRepos(t)
	h := publishHistory(t, r, "demo")
	dir := r.dir("demo")

	parents := map[string]string{"1.0.0": "", "1.1.0": "1.0.0", "2.0.0": "1.1.0", "1.0.1": "1.0.0"}
	for v, p := range parents {
		got := strings.Fields(testenv.MustGit(t, dir, "rev-list", "--parents", "-n1", h.commits[v]))[1:]
		want := []string{}
		if p != "" {
			want = []string{h.commits[p]}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("parents of %s = %v, want %v (%s)", v, got, want, p)
		}
	}
	// 1.0.1, published after 2.0.0, is not the latest: main stays on 2.0.0.
	if got, _ := r.Main(t.Context(), "demo"); got != h.commits["2.0.0"] {
		t.Errorf("main = %s, want 2.0.0 = %s", got, h.commits["2.0.0"])
	}
	tags, err := r.Tags(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if len(tags) != len(h.commits) {
		t.Errorf("Tags = %v, want %v", tags, h.commits)
	}
	for v, c := range h.commits {
		if tags[v] != c {
			t.Errorf("Tags()[%s] = %s, want %s", v, tags[v], c)
		}
	}
	// Exact objects: the fixed metadata is what makes ids reproducible.
	wantCommit := fmt.Sprintf("tree %s\nparent %s\n"+
		"author Ada Publisher <ada@users.noreply.example> 1740841200 +0000\n"+
		"committer Ada Publisher <ada@users.noreply.example> 1740841200 +0000\n\n"+
		"Release demo v1.0.1\n",
		testenv.MustGit(t, dir, "rev-parse", h.commits["1.0.1"]+"^{tree}"), h.commits["1.0.0"])
	if got := testenv.MustGit(t, dir, "cat-file", "commit", h.commits["1.0.1"]) + "\n"; got != wantCommit {
		t.Errorf("commit of 1.0.1:\n%s\nwant:\n%s", got, wantCommit)
	}
	wantTag := "object " + h.commits["1.0.1"] + "\ntype commit\ntag v1.0.1\n" +
		"tagger Ada Publisher <ada@users.noreply.example> 1740841200 +0000\n\ndemo v1.0.1\n"
	if got := testenv.MustGit(t, dir, "cat-file", "tag", "v1.0.1") + "\n"; got != wantTag {
		t.Errorf("tag v1.0.1:\n%s\nwant:\n%s", got, wantTag)
	}
	// Only main and the tags: no temporary ref was ever written.
	refs := strings.Fields(testenv.MustGit(t, dir, "for-each-ref", "--format=%(refname)"))
	if want := "refs/heads/main refs/tags/v1.0.0 refs/tags/v1.0.1 refs/tags/v1.1.0 refs/tags/v2.0.0"; strings.Join(refs, " ") != want {
		t.Errorf("refs = %v, want %s", refs, want)
	}
	if got := testenv.MustGit(t, dir, "symbolic-ref", "HEAD"); got != "refs/heads/main" {
		t.Errorf("HEAD -> %s, want refs/heads/main", got)
	}
	testenv.MustGit(t, dir, "fsck", "--strict", "--no-progress")
}

// refsOf lists every ref with its object id (tag objects included), the
// complete identity of a repository's published history.
func refsOf(t *testing.T, r *Repos, pkg string) string {
	t.Helper()
	return testenv.MustGit(t, r.dir(pkg), "for-each-ref", "--format=%(objectname) %(refname)")
}

func TestIdsAreDeterministic(t *testing.T) {
	a, b := newRepos(t), newRepos(t)
	ha, hb := publishHistory(t, a, "demo"), publishHistory(t, b, "demo")
	for v := range ha.commits {
		if ha.commits[v] != hb.commits[v] {
			t.Errorf("%s: commit %s in one root, %s in another", v, ha.commits[v], hb.commits[v])
		}
	}
	if ra, rb := refsOf(t, a, "demo"), refsOf(t, b, "demo"); ra != rb {
		t.Errorf("refs differ between roots:\n%s\n---\n%s", ra, rb)
	}

	// A rebuild from the same archives after removing the repository.
	before := refsOf(t, a, "demo")
	if err := a.Remove(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := a.Exists("demo"); ok {
		t.Fatal("repository still exists after Remove")
	}
	if _, err := a.Tags(t.Context(), "demo"); !errors.Is(err, errs.NotFound) {
		t.Errorf("Tags after Remove: %v, want NotFound", err)
	}
	publishHistory(t, a, "demo")
	if after := refsOf(t, a, "demo"); after != before {
		t.Errorf("rebuild changed the refs:\n%s\n---\n%s", before, after)
	}
	if err := a.Remove(t.Context(), "never-existed"); err != nil {
		t.Errorf("Remove of a missing repository: %v", err)
	}
	entries, _ := os.ReadDir(a.Root())
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("leftover %s in the root", e.Name())
		}
	}
}

func TestCommitVersionIsIdempotentAndNeverMovesTags(t *testing.T) {
	r := newRepos(t)
	c1 := commit(t, r, "demo", "1.0.0", "", 0, true)
	if again := commit(t, r, "demo", "1.0.0", "", 0, true); again != c1 {
		t.Errorf("retry gave %s, want %s", again, c1)
	}
	before := refsOf(t, r, "demo")

	// Same version, other files: the tag stays where it is.
	_, err := r.CommitVersion(t.Context(), Version{
		Package: "demo", Version: "1.0.0",
		Archive:    bytes.NewReader(canonicalArchive(t, []tfile{{path: "other", body: "x"}})),
		AuthorName: "Ada Publisher", AuthorEmail: "ada@users.noreply.example", Time: publishTime(0),
	})
	if !errors.Is(err, errs.Conflict) {
		t.Errorf("recommit with other files: %v, want Conflict", err)
	}
	if after := refsOf(t, r, "demo"); after != before {
		t.Errorf("refs changed:\n%s\n---\n%s", before, after)
	}
}

// tarEntry is a raw entry of a hand-made (possibly hostile) archive.
type tarEntry struct {
	hdr  tar.Header
	body string
}

func rawArchive(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := e.hdr
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if h.Mode == 0 && h.Typeflag != tar.TypeXGlobalHeader {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, e.body)
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func reg(name, body string) tarEntry {
	return tarEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name}, body: body}
}

func TestCommitVersionRefusesBadInput(t *testing.T) {
	r := newRepos(t)
	c1 := commit(t, r, "demo", "1.0.0", "", 0, true)
	before := refsOf(t, r, "demo")
	good := canonicalArchive(t, packageFiles("demo", "1.1.0"))
	truncated := good[:len(good)/2]

	tests := []struct {
		name   string
		edit   func(v *Version)
		kind   errs.Kind
		wantIn string
	}{
		{"uppercase name", func(v *Version) { v.Package = "Demo" }, errs.Invalid, "package name"},
		{"dotted name", func(v *Version) { v.Package = "../demo" }, errs.Invalid, "package name"},
		{"bad version", func(v *Version) { v.Version = "1.0" }, errs.Invalid, "version"},
		{"version with ref syntax", func(v *Version) { v.Version = "1.0.0..x" }, errs.Invalid, "version"},
		{"short parent", func(v *Version) { v.Parent = "abc" }, errs.Invalid, "commit id"},
		{"unknown parent", func(v *Version) { v.Parent = strings.Repeat("1", 40) }, errs.NotFound, "not in the repository"},
		{"no author", func(v *Version) { v.AuthorName = "" }, errs.Invalid, "author"},
		{"author with <", func(v *Version) { v.AuthorName = "a <b>" }, errs.Invalid, "author"},
		{"email with newline", func(v *Version) { v.AuthorEmail = "a@b\nc" }, errs.Invalid, "author"},
		{"no time", func(v *Version) { v.Time = time.Time{} }, errs.Invalid, "time"},
		{"no archive", func(v *Version) { v.Archive = nil }, errs.Invalid, "archive"},
		{"not gzip", func(v *Version) { v.Archive = strings.NewReader("plain text") }, errs.Invalid, "gzip"},
		{"truncated", func(v *Version) { v.Archive = bytes.NewReader(truncated) }, errs.Invalid, "truncated"},
		{"symlink", archive(t, tarEntry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: "link", Linkname: "/etc/passwd"}}), errs.Invalid, "not a regular file"},
		{"hard link", archive(t, reg("a", "x"), tarEntry{hdr: tar.Header{Typeflag: tar.TypeLink, Name: "b", Linkname: "a"}}), errs.Invalid, "not a regular file"},
		{"device", archive(t, tarEntry{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "dev"}}), errs.Invalid, "not a regular file"},
		{"absolute path", archive(t, reg("/etc/x", "x")), errs.Invalid, "absolute"},
		{"dot-dot", archive(t, reg("a/../../x", "x")), errs.Invalid, "clean"},
		{"leading dot-dot", archive(t, reg("../x", "x")), errs.Invalid, "relative path component"},
		{".git folder", archive(t, reg(".git/config", "x")), errs.Invalid, ".git"},
		{".GIT folder", archive(t, reg("a/.GIT/hooks/x", "x")), errs.Invalid, ".git"},
		{"backslash", archive(t, reg(`a\b`, "x")), errs.Invalid, "backslash"},
		{"control character", archive(t, reg("a\nb", "x")), errs.Invalid, "control"},
		{"duplicate file", archive(t, reg("a", "x"), reg("a", "y")), errs.Invalid, "twice"},
		{"file then folder", archive(t, reg("a", "x"), reg("a/b", "y")), errs.Invalid, "is a file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Version{
				Package: "demo", Version: "1.1.0", Archive: bytes.NewReader(good),
				AuthorName: "Ada", AuthorEmail: "ada@example.org", Time: publishTime(1), Parent: c1, Latest: true,
			}
			tt.edit(&v)
			_, err := r.CommitVersion(t.Context(), v)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("err = %v, want kind %v", err, tt.kind)
			}
			if !strings.Contains(errs.Message(err), tt.wantIn) {
				t.Errorf("message %q does not mention %q", errs.Message(err), tt.wantIn)
			}
			if after := refsOf(t, r, "demo"); after != before {
				t.Errorf("refs changed:\n%s\n---\n%s", before, after)
			}
		})
	}
	testenv.MustGit(t, r.dir("demo"), "fsck", "--strict", "--no-progress")
	if entries, _ := os.ReadDir(r.Root()); len(entries) != 1 {
		t.Errorf("root holds %d entries, want only demo.git", len(entries))
	}
}

// archive returns an edit that replaces a version's archive.
func archive(t *testing.T, entries ...tarEntry) func(v *Version) {
	b := rawArchive(t, entries...)
	return func(v *Version) { v.Archive = bytes.NewReader(b) }
}

func TestCommitVersionAcceptsArchiveVariants(t *testing.T) {
	r := newRepos(t)
	// "./" prefixes, a root "./" entry, an explicit empty folder and a pax
	// global header are all harmless; the empty folder cannot be stored.
	b := rawArchive(t,
		tarEntry{hdr: tar.Header{Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "x"}}},
		tarEntry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "./", Mode: 0o755}},
		tarEntry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "./empty/", Mode: 0o755}},
		reg("./a.txt", "a"),
		tarEntry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "./bin/x", Mode: 0o755}, body: "#!/bin/sh\n"},
	)
	c, err := r.CommitVersion(t.Context(), Version{Package: "demo", Version: "0.1.0-beta.1+build.5", Archive: bytes.NewReader(b),
		AuthorName: "Ada", AuthorEmail: "ada@example.org", Time: publishTime(0)})
	if err != nil {
		t.Fatal(err)
	}
	if got := testenv.MustGit(t, r.dir("demo"), "ls-tree", "-r", "--format=%(objectmode) %(path)", c); got != "100644 a.txt\n100755 bin/x" {
		t.Errorf("tree:\n%s", got)
	}
	// Not Latest: main is not set, and the tag is there.
	if m, _ := r.Main(t.Context(), "demo"); m != "" {
		t.Errorf("main = %s, want unset", m)
	}
	if tags, _ := r.Tags(t.Context(), "demo"); tags["0.1.0-beta.1+build.5"] != c {
		t.Errorf("tags = %v", tags)
	}
}

func TestSetMainAndDeleteTag(t *testing.T) {
	r := newRepos(t)
	h := publishHistory(t, r, "demo")
	ctx := t.Context()
	url := serve(t, r) + "/git/demo.git"

	// The latest version (2.0.0) is yanked: main moves backwards.
	if err := r.SetMain(ctx, "demo", h.commits["1.1.0"]); err != nil {
		t.Fatal(err)
	}
	// 1.0.1 is deleted: its tag goes; retrying is harmless.
	for range 2 {
		if err := r.DeleteTag(ctx, "demo", "1.0.1"); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "clone")
	testenv.MustGit(t, "", "clone", "--quiet", url, dir)
	if got := testenv.MustGit(t, dir, "rev-parse", "HEAD"); got != h.commits["1.1.0"] {
		t.Errorf("fresh clone is at %s, want 1.1.0 = %s", got, h.commits["1.1.0"])
	}
	if got := testenv.MustGit(t, dir, "tag", "--list"); got != "v1.0.0\nv1.1.0\nv2.0.0" {
		t.Errorf("tags in a fresh clone:\n%s", got)
	}
	sameTree(t, "main", canonicalArchive(t, packageFiles("demo", "1.1.0")), dir)

	tests := []struct {
		name string
		err  error
		kind errs.Kind
	}{
		{"unknown commit", r.SetMain(ctx, "demo", strings.Repeat("2", 40)), errs.NotFound},
		{"malformed commit", r.SetMain(ctx, "demo", "HEAD"), errs.Invalid},
		{"no repository", r.SetMain(ctx, "other", h.commits["1.0.0"]), errs.NotFound},
		{"bad name", r.SetMain(ctx, "../demo", h.commits["1.0.0"]), errs.Invalid},
		{"delete bad version", r.DeleteTag(ctx, "demo", "v1.0.0"), errs.Invalid},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.kind) {
			t.Errorf("%s: %v, want kind %v", tt.name, tt.err, tt.kind)
		}
	}
	if err := r.DeleteTag(ctx, "other", "1.0.0"); err != nil {
		t.Errorf("DeleteTag without a repository: %v", err)
	}
	if m, _ := r.Main(ctx, "demo"); m != h.commits["1.1.0"] {
		t.Errorf("failed calls moved main to %s", m)
	}
}

// cancelAfter cancels a context once n bytes have been read through it, as
// a publish interrupted halfway would.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
		time.Sleep(10 * time.Millisecond) // let the kill land before more data flows
	}
	n, err := c.r.Read(p[:min(len(p), 4096)])
	c.n -= n
	return n, err
}

func TestInterruptedCommitLeavesTheRepositoryIntact(t *testing.T) {
	r := newRepos(t)
	c1 := commit(t, r, "demo", "1.0.0", "", 0, true)
	before := refsOf(t, r, "demo")
	files := make([]tfile, 200)
	for i := range files {
		files[i] = tfile{path: fmt.Sprintf("f/%03d.txt", i), body: strings.Repeat(fmt.Sprint(i), 5000)}
	}
	big := canonicalArchive(t, files)

	ctx, cancel := context.WithCancel(t.Context())
	_, err := r.CommitVersion(ctx, Version{Package: "demo", Version: "1.1.0",
		Archive:    &cancelAfter{r: bytes.NewReader(big), n: len(big) / 3, cancel: cancel},
		AuthorName: "Ada", AuthorEmail: "ada@example.org", Time: publishTime(1), Parent: c1, Latest: true})
	if err == nil {
		t.Fatal("CommitVersion succeeded although its context was cancelled")
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errs.Unavailable) {
		t.Errorf("err = %v, want an Unavailable error caused by the cancellation", err)
	}
	if after := refsOf(t, r, "demo"); after != before {
		t.Errorf("refs changed:\n%s\n---\n%s", before, after)
	}
	testenv.MustGit(t, r.dir("demo"), "fsck", "--strict", "--no-progress")

	// The retry completes.
	c2, err := r.CommitVersion(t.Context(), Version{Package: "demo", Version: "1.1.0",
		Archive:    bytes.NewReader(big),
		AuthorName: "Ada", AuthorEmail: "ada@example.org", Time: publishTime(1), Parent: c1, Latest: true})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := r.Main(t.Context(), "demo"); m != c2 {
		t.Errorf("main = %s, want %s", m, c2)
	}
}

func TestUnwritableRootThenWritable(t *testing.T) {
	// Tests run as root, for whom permission bits do not stop writes. A
	// root folder whose parent is a regular file cannot be created or
	// written by anyone, which is what a read-only or missing disk looks
	// like to the registry.
	parent := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(parent, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(filepath.Join(parent, "git"), Options{Git: testenv.LookPath(t, "git")})
	if err != nil {
		t.Fatalf("Open must succeed while the folder is unwritable: %v", err)
	}
	ctx := t.Context()
	v := func() Version {
		return Version{Package: "demo", Version: "1.0.0",
			Archive:    bytes.NewReader(canonicalArchive(t, packageFiles("demo", "1.0.0"))),
			AuthorName: "Ada Publisher", AuthorEmail: "ada@users.noreply.example", Time: publishTime(0), Latest: true}
	}
	if err := r.Check(ctx); !errors.Is(err, errs.Unavailable) {
		t.Errorf("Check = %v, want Unavailable", err)
	}
	if _, err := r.CommitVersion(ctx, v()); !errors.Is(err, errs.Unavailable) {
		t.Fatalf("CommitVersion = %v, want Unavailable", err)
	}
	if _, err := r.Tags(ctx, "demo"); !errors.Is(err, errs.NotFound) {
		t.Errorf("Tags = %v, want NotFound", err)
	}

	// The disk comes back.
	if err := os.Remove(parent); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := r.Check(ctx); err != nil {
		t.Errorf("Check = %v once writable", err)
	}
	c, err := r.CommitVersion(ctx, v())
	if err != nil {
		t.Fatal(err)
	}
	// The same commit as in a root that was always writable.
	if want := commit(t, newRepos(t), "demo", "1.0.0", "", 0, true); c != want {
		t.Errorf("commit %s, want %s", c, want)
	}
}

func TestConcurrentWritersInOneProcess(t *testing.T) {
	root := filepath.Join(t.TempDir(), "git")
	git := testenv.LookPath(t, "git")
	const n = 8
	var wg sync.WaitGroup
	ids := make([]string, n)
	errors := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each writer has its own Repos, as separate instances would.
			r, err := Open(root, Options{Git: git})
			if err != nil {
				errors[i] = err
				return
			}
			ids[i], errors[i] = r.CommitVersion(t.Context(), concurrentVersion(t, i))
		}()
	}
	wg.Wait()
	for i, err := range errors {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	r, _ := Open(root, Options{Git: git})
	checkConcurrentResult(t, r, n, ids)
}

func concurrentVersion(t testing.TB, i int) Version {
	v := fmt.Sprintf("1.%d.0", i)
	return Version{Package: "demo", Version: v,
		Archive:    bytes.NewReader(canonicalArchive(t, packageFiles("demo", v))),
		AuthorName: "Ada", AuthorEmail: "ada@example.org", Time: publishTime(i), Latest: true}
}

func checkConcurrentResult(t *testing.T, r *Repos, n int, ids []string) {
	t.Helper()
	tags, err := r.Tags(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if len(tags) != n {
		t.Errorf("%d tags, want %d: %v", len(tags), n, tags)
	}
	for i, id := range ids {
		if id != "" && tags[fmt.Sprintf("1.%d.0", i)] != id {
			t.Errorf("tag of writer %d = %s, want %s", i, tags[fmt.Sprintf("1.%d.0", i)], id)
		}
	}
	main, _ := r.Main(t.Context(), "demo")
	found := false
	for _, c := range tags {
		found = found || c == main
	}
	if !found {
		t.Errorf("main = %q, not one of the tagged commits", main)
	}
	testenv.MustGit(t, r.dir("demo"), "fsck", "--strict", "--no-progress")
}

// TestConcurrentWritersInSeveralProcesses runs writers as separate
// processes (this test binary, re-executed), the case flock exists for.
func TestConcurrentWritersInSeveralProcesses(t *testing.T) {
	if root := os.Getenv("GITREPO_TEST_WRITER_ROOT"); root != "" {
		var i int
		fmt.Sscan(os.Getenv("GITREPO_TEST_WRITER"), &i)
		r, err := Open(root, Options{Git: testenv.LookPath(t, "git")})
		if err != nil {
			t.Fatal(err)
		}
		id, err := r.CommitVersion(context.Background(), concurrentVersion(t, i))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("COMMIT", id)
		return
	}
	root := filepath.Join(t.TempDir(), "git")
	const n = 4
	var wg sync.WaitGroup
	ids := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestConcurrentWritersInSeveralProcesses$", "-test.count=1")
			cmd.Env = append(os.Environ(), "GITREPO_TEST_WRITER_ROOT="+root, fmt.Sprint("GITREPO_TEST_WRITER=", i))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("writer process %d: %v\n%s", i, err, out)
				return
			}
			for _, line := range strings.Split(string(out), "\n") {
				if id, ok := strings.CutPrefix(line, "COMMIT "); ok {
					ids[i] = id
				}
			}
		}()
	}
	wg.Wait()
	r, err := Open(root, Options{Git: testenv.LookPath(t, "git")})
	if err != nil {
		t.Fatal(err)
	}
	checkConcurrentResult(t, r, n, ids)
}

func TestOpenSweepsLeftovers(t *testing.T) {
	root := filepath.Join(t.TempDir(), "git")
	old := time.Now().Add(-2 * time.Hour)
	for _, d := range []string{".trash-demo-1", ".tmp-demo-old", ".tmp-demo-new", "demo.git"} {
		if err := os.MkdirAll(filepath.Join(root, d, "objects"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(filepath.Join(root, ".tmp-demo-old"), old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(root, Options{Git: testenv.LookPath(t, "git")}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(root)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	// A recent .tmp- folder may be another instance's creation in progress.
	if got := strings.Join(names, " "); got != ".tmp-demo-new demo.git" {
		t.Errorf("after Open the root holds %s", got)
	}
}

// What a git process killed mid-write leaves (a shutdown cancels running
// jobs) never blocks later writes: ref locks and half-written packs are
// removed under the repository's lock.
func TestKilledWriterLeavesNothingInTheWay(t *testing.T) {
	r := newRepos(t)
	ctx := t.Context()
	v1 := commit(t, r, "demo", "1.0.0", "", 0, true)
	dir := r.dir("demo")
	stale := []string{
		filepath.Join(dir, "refs", "tags", "v1.1.0.lock"),
		filepath.Join(dir, "refs", "heads", "main.lock"),
		filepath.Join(dir, "packed-refs.lock"),
		filepath.Join(dir, "objects", "pack", "tmp_pack_AbCdEf"),
	}
	for _, p := range stale {
		if err := os.WriteFile(p, []byte("left by a killed git\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	v11 := commit(t, r, "demo", "1.1.0", v1, 1, true)
	if err := r.SetMain(ctx, "demo", v11); err != nil {
		t.Fatalf("SetMain after a killed writer: %v", err)
	}
	for _, p := range stale {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, lockFile)); err != nil {
		t.Errorf("the registry's own lock file went: %v", err)
	}
	if tags, err := r.Tags(ctx, "demo"); err != nil || tags["1.1.0"] == "" {
		t.Errorf("tags: %v, %v", tags, err)
	}
}
