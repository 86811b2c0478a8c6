package gitrepo

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/dryad-lang/registry/internal/testenv"
)

// history is the test package's published history: 1.0.1 came after 2.0.0
// and extends the 1.0 line.
type history struct {
	repos   *Repos
	commits map[string]string // version -> commit
}

func publishHistory(t *testing.T, r *Repos, name string) history {
	t.Helper()
	h := history{repos: r, commits: map[string]string{}}
	h.commits["1.0.0"] = commit(t, r, name, "1.0.0", "", 0, true)
	h.commits["1.1.0"] = commit(t, r, name, "1.1.0", h.commits["1.0.0"], 1, true)
	h.commits["2.0.0"] = commit(t, r, name, "2.0.0", h.commits["1.1.0"], 2, true)
	h.commits["1.0.1"] = commit(t, r, name, "1.0.1", h.commits["1.0.0"], 3, false)
	return h
}

// serve starts the smart-HTTP handler on 127.0.0.1.
func serve(t *testing.T, r *Repos) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/git/", r.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// archiveFiles reads an archive into path -> content and path -> executable.
func archiveFiles(t testing.TB, archive []byte) (map[string]string, map[string]bool) {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	files, execs := map[string]string{}, map[string]bool{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files, execs
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[hdr.Name] = string(b)
		execs[hdr.Name] = hdr.Mode&0o111 != 0
	}
}

// checkoutFiles reads a work tree (without .git) the same way.
func checkoutFiles(t *testing.T, dir string) (map[string]string, map[string]bool) {
	t.Helper()
	files, execs := map[string]string{}, map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		execs[filepath.ToSlash(rel)] = info.Mode()&0o111 != 0
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, execs
}

func sameTree(t *testing.T, what string, archive []byte, dir string) {
	t.Helper()
	wantFiles, wantExec := archiveFiles(t, archive)
	gotFiles, gotExec := checkoutFiles(t, dir)
	if len(gotFiles) != len(wantFiles) {
		t.Errorf("%s: checkout has %d files, archive %d", what, len(gotFiles), len(wantFiles))
	}
	for p, want := range wantFiles {
		got, ok := gotFiles[p]
		switch {
		case !ok:
			t.Errorf("%s: %s missing from the checkout", what, p)
		case got != want:
			t.Errorf("%s: %s differs from the archive", what, p)
		case gotExec[p] != wantExec[p]:
			t.Errorf("%s: %s executable = %v, archive says %v", what, p, gotExec[p], wantExec[p])
		}
	}
}

func TestCloneEveryTagMatchesItsArchive(t *testing.T) {
	r := newRepos(t)
	h := publishHistory(t, r, "demo")
	url := serve(t, r) + "/git/demo.git"
	for _, proto := range []string{"0", "2"} {
		t.Run("protocol v"+proto, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "demo")
			testenv.MustGit(t, "", "-c", "protocol.version="+proto, "clone", "--quiet", url, dir)

			if got := testenv.MustGit(t, dir, "rev-parse", "HEAD"); got != h.commits["2.0.0"] {
				t.Errorf("clone checked out %s, want main = 2.0.0 = %s", got, h.commits["2.0.0"])
			}
			tags := strings.Fields(testenv.MustGit(t, dir, "tag", "--list"))
			sort.Strings(tags)
			if want := []string{"v1.0.0", "v1.0.1", "v1.1.0", "v2.0.0"}; strings.Join(tags, " ") != strings.Join(want, " ") {
				t.Fatalf("tags = %v, want %v", tags, want)
			}
			for version, id := range h.commits {
				testenv.MustGit(t, dir, "checkout", "--quiet", "v"+version)
				if got := testenv.MustGit(t, dir, "rev-parse", "HEAD"); got != id {
					t.Errorf("v%s checks out %s, want %s", version, got, id)
				}
				sameTree(t, "v"+version, canonicalArchive(t, packageFiles("demo", version)), dir)
			}
			if out := testenv.MustGit(t, dir, "fsck", "--strict", "--no-progress"); strings.Contains(out, "error") {
				t.Errorf("fsck of the clone: %s", out)
			}
		})
	}
}

func TestShallowCloneOfATag(t *testing.T) {
	r := newRepos(t)
	h := publishHistory(t, r, "demo")
	url := serve(t, r) + "/git/demo.git"
	dir := filepath.Join(t.TempDir(), "demo")
	testenv.MustGit(t, "", "clone", "--quiet", "--depth", "1", "--branch", "v1.1.0", url, dir)

	if got := testenv.MustGit(t, dir, "rev-parse", "HEAD"); got != h.commits["1.1.0"] {
		t.Errorf("HEAD = %s, want 1.1.0 = %s", got, h.commits["1.1.0"])
	}
	if got := testenv.MustGit(t, dir, "rev-list", "--count", "HEAD"); got != "1" {
		t.Errorf("shallow clone has %s commits, want 1", got)
	}
	if got := testenv.MustGit(t, dir, "rev-parse", "--is-shallow-repository"); got != "true" {
		t.Errorf("is-shallow-repository = %s", got)
	}
	sameTree(t, "v1.1.0", canonicalArchive(t, packageFiles("demo", "1.1.0")), dir)
}

func TestPartialClone(t *testing.T) {
	r := newRepos(t)
	h := publishHistory(t, r, "demo")
	url := serve(t, r) + "/git/demo.git"
	dir := filepath.Join(t.TempDir(), "demo")
	// Blobs are left out, then fetched on demand by the checkouts.
	testenv.MustGit(t, "", "clone", "--quiet", "--no-checkout", "--filter=blob:none", url, dir)
	missing := 0
	for _, l := range strings.Split(testenv.MustGit(t, dir, "rev-list", "--objects", "--missing=print", "--all"), "\n") {
		if strings.HasPrefix(l, "?") {
			missing++
		}
	}
	if missing == 0 {
		t.Error("the clone holds every blob: the server ignored the filter")
	}
	testenv.MustGit(t, dir, "checkout", "--quiet", "v1.0.1")
	if got := testenv.MustGit(t, dir, "rev-parse", "HEAD"); got != h.commits["1.0.1"] {
		t.Errorf("HEAD = %s, want %s", got, h.commits["1.0.1"])
	}
	sameTree(t, "v1.0.1", canonicalArchive(t, packageFiles("demo", "1.0.1")), dir)
}

func TestFetchSeesANewVersion(t *testing.T) {
	r := newRepos(t)
	h := publishHistory(t, r, "demo")
	// Record how stock git encodes its requests.
	var mu sync.Mutex
	encodings := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPost {
			mu.Lock()
			encodings[req.Header.Get("Content-Encoding")]++
			mu.Unlock()
		}
		r.Handler().ServeHTTP(w, req)
	}))
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "demo")
	testenv.MustGit(t, "", "clone", "--quiet", srv.URL+"/git/demo", dir)
	// Local commits make the next negotiation long enough (over 1 KiB)
	// for git to gzip its request.
	for i := range 40 {
		testenv.MustGit(t, dir, "commit", "--quiet", "--allow-empty", "-m", fmt.Sprint("local ", i))
	}

	c := commit(t, r, "demo", "2.1.0", h.commits["2.0.0"], 4, true)
	testenv.MustGit(t, dir, "fetch", "--quiet", "--tags", "origin")
	if got := testenv.MustGit(t, dir, "rev-parse", "origin/main"); got != c {
		t.Errorf("origin/main = %s after fetch, want 2.1.0 = %s", got, c)
	}
	if got := testenv.MustGit(t, dir, "rev-parse", "v2.1.0^{commit}"); got != c {
		t.Errorf("v2.1.0 = %s after fetch, want %s", got, c)
	}
	if got := testenv.MustGit(t, dir, "rev-parse", "origin/main^"); got != h.commits["2.0.0"] {
		t.Errorf("parent of 2.1.0 = %s, want 2.0.0 = %s", got, h.commits["2.0.0"])
	}
	mu.Lock()
	defer mu.Unlock()
	if encodings["gzip"] == 0 {
		t.Errorf("git sent no gzip-encoded request (encodings seen: %v); the gzip path went untested", encodings)
	}
}

func TestPushIsRefusedWithAMessage(t *testing.T) {
	r := newRepos(t)
	publishHistory(t, r, "demo")
	base := serve(t, r)
	dir := filepath.Join(t.TempDir(), "demo")
	testenv.MustGit(t, "", "clone", "--quiet", base+"/git/demo.git", dir)
	if err := os.WriteFile(filepath.Join(dir, "extra.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.MustGit(t, dir, "add", "extra.txt")
	testenv.MustGit(t, dir, "commit", "--quiet", "-m", "change")

	for _, args := range [][]string{
		{"push", "origin", "HEAD:main"},
		{"push", "origin", "HEAD:refs/tags/v9.9.9"},
		{"push", base + "/git/unknown.git", "HEAD:main"},
	} {
		out, err := testenv.Git(t, dir, args...)
		if err == nil {
			t.Fatalf("git %v succeeded:\n%s", args, out)
		}
		for _, want := range []string{"403", "read-only", "publish a new version through the registry API"} {
			if !strings.Contains(out, want) {
				t.Errorf("git %v output lacks %q:\n%s", args, want, out)
			}
		}
	}
	// Nothing changed on the server.
	if got, _ := r.Tags(t.Context(), "demo"); len(got) != 4 {
		t.Errorf("tags after refused pushes: %v", got)
	}
}

// rawRequest sends a request line exactly as given, so that no client
// cleans the path first, and returns the status code.
func rawRequest(t *testing.T, base, method, target string) int {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", method, target)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestHandlerRoutes(t *testing.T) {
	r := newRepos(t)
	publishHistory(t, r, "demo")
	// Real repositories under names the registry never accepts: a request
	// for them must be refused by the name check, not by the filesystem.
	for _, odd := range []string{"Demo.git", "de.mo.git", ".tmp-demo.git"} {
		testenv.MustGit(t, "", "init", "--quiet", "--bare", filepath.Join(r.Root(), odd))
	}
	// Serve the handler alone: a ServeMux would clean some paths first.
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()

	const refs = "/info/refs?service=git-upload-pack"
	tests := []struct {
		method, target string
		want           int
	}{
		{"GET", "/git/demo.git" + refs, 200},
		{"GET", "/git/demo" + refs, 200},
		{"HEAD", "/git/demo.git" + refs, 200},
		{"GET", "/git/unknown.git" + refs, 404},
		{"GET", "/git/../demo.git" + refs, 404},
		{"GET", "/git/%2e%2e/demo.git" + refs, 404},
		{"GET", "/git/%2E%2E%2Fdemo.git" + refs, 404},
		{"GET", "/git/demo.git/../demo.git" + refs, 404},
		{"GET", "/git//demo.git" + refs, 404},
		{"GET", "/git/Demo.git" + refs, 404},
		{"GET", "/git/de.mo.git" + refs, 404},
		{"GET", "/git/.tmp-demo.git" + refs, 404},
		{"GET", "/git/demo.git/info/refs", 404}, // dumb protocol
		{"GET", "/git/demo.git/info/refs?service=git-upload-archive", 404},
		{"GET", "/git/demo.git/HEAD", 404},
		{"GET", "/git/demo.git/config", 404},
		{"GET", "/git/demo.git/objects/info/packs", 404},
		{"GET", "/git/demo.git/dryad.lock", 404},
		{"GET", "/demo.git" + refs, 404},
		{"GET", "/git/demo.git/git-upload-pack", 405},
		{"POST", "/git/demo.git" + refs, 405},
		{"GET", "/git/demo.git/info/refs?service=git-receive-pack", 403},
		{"POST", "/git/demo.git/git-receive-pack", 403},
		{"GET", "/git/unknown.git/info/refs?service=git-receive-pack", 403},
	}
	for _, tt := range tests {
		if got := rawRequest(t, srv.URL, tt.method, tt.target); got != tt.want {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.target, got, tt.want)
		}
	}
}

// uploadPackRequest is a protocol v0 fetch of one commit, with haves
// unknown "have" lines: a negotiation git might compress.
func uploadPackRequest(commit string, haves int) []byte {
	pkt := func(s string) string { return fmt.Sprintf("%04x%s", len(s)+4, s) }
	var b strings.Builder
	b.WriteString(pkt("want " + commit + " no-progress\n"))
	b.WriteString("0000")
	for i := range haves {
		b.WriteString(pkt(fmt.Sprintf("have %040x\n", i+1)))
	}
	b.WriteString(pkt("done\n"))
	return []byte(b.String())
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	gz.Write(b)
	gz.Close()
	return buf.Bytes()
}

func TestUploadPackRequestBodies(t *testing.T) {
	r := newRepos(t)
	r.maxBody = 64 << 10
	h := publishHistory(t, r, "demo")
	url := serve(t, r) + "/git/demo.git/git-upload-pack"
	want := uploadPackRequest(h.commits["1.1.0"], 0)
	// 1000 haves fit the 64 KiB limit; 2000 do not, but compress well below it.
	fits, past := uploadPackRequest(h.commits["1.1.0"], 1000), uploadPackRequest(h.commits["1.1.0"], 2000)

	tests := []struct {
		name     string
		body     []byte
		encoding string
		wantPack bool
		wantCode int
	}{
		{"plain", want, "", true, 200},
		{"gzip", gzipped(t, want), "gzip", true, 200},
		{"not really gzip", want, "gzip", false, 400},
		{"unknown encoding", want, "br", false, 400},
		{"too large", bytes.Repeat([]byte("0"), 65<<10), "", false, 413},
		{"gzip within the limit", gzipped(t, fits), "gzip", true, 200},
		{"gzip expanding past the limit", gzipped(t, past), "gzip", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", url, bytes.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/x-git-upload-pack-request")
			if tt.encoding != "" {
				req.Header.Set("Content-Encoding", tt.encoding)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				if tt.wantPack {
					t.Fatal(err)
				}
				return // the server may cut the connection
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tt.wantCode != 0 && resp.StatusCode != tt.wantCode {
				t.Errorf("status %d, want %d (%s)", resp.StatusCode, tt.wantCode, body)
			}
			if got := bytes.Contains(body, []byte("PACK")); got != tt.wantPack {
				t.Errorf("response holds a pack: %v, want %v (%d bytes, status %d)", got, tt.wantPack, len(body), resp.StatusCode)
			}
		})
	}
}

func TestProtocolV2IsSpoken(t *testing.T) {
	r := newRepos(t)
	publishHistory(t, r, "demo")
	base := serve(t, r)
	for _, tt := range []struct {
		header, want string
	}{
		{"version=2", "version 2\n"},
		{"", "# service=git-upload-pack\n"},
		{"version=2 $(id)", "# service=git-upload-pack\n"}, // not a valid value: ignored
	} {
		req, _ := http.NewRequest("GET", base+"/git/demo.git/info/refs?service=git-upload-pack", nil)
		if tt.header != "" {
			req.Header["Git-Protocol"] = []string{tt.header}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte(tt.want)) {
			t.Errorf("Git-Protocol %q: status %d, body lacks %q:\n%s", tt.header, resp.StatusCode, tt.want, body)
		}
		if got := resp.Header.Get("Content-Type"); got != "application/x-git-upload-pack-advertisement" {
			t.Errorf("Content-Type %q", got)
		}
	}
}

func TestStreamWriterStopsWhenTheRequestIsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	rec := httptest.NewRecorder()
	w := &streamWriter{ResponseWriter: rec, ctx: ctx}
	if _, err := w.Write([]byte("one")); err != nil {
		t.Fatal(err)
	}
	if !rec.Flushed {
		t.Error("a write was not flushed")
	}
	cancel()
	// net/http/cgi kills git http-backend when a write fails.
	if _, err := w.Write([]byte("two")); !errors.Is(err, context.Canceled) {
		t.Errorf("write after cancellation: %v", err)
	}
	if rec.Body.String() != "one" {
		t.Errorf("body %q", rec.Body.String())
	}
	body := &ctxReader{ReadCloser: io.NopCloser(strings.NewReader("data")), ctx: ctx}
	if _, err := body.Read(make([]byte, 4)); !errors.Is(err, context.Canceled) {
		t.Errorf("read after cancellation: %v", err)
	}
}
