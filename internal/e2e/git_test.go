package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/testenv"
)

// remoteRefs lists a remote's branches and tags, tags peeled to their
// commits: "refs/heads/main" and "refs/tags/v1.0.0" -> commit id. A remote
// that cannot be read has no refs.
func remoteRefs(t testing.TB, remote string) map[string]string {
	t.Helper()
	out, err := testenv.Git(t, "", "ls-remote", "--heads", "--tags", remote)
	refs := map[string]string{}
	if err != nil {
		return refs
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		id, name, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		if peeled, ok := strings.CutSuffix(name, "^{}"); ok {
			refs[peeled] = id
		} else if _, seen := refs[name]; !seen {
			refs[name] = id
		}
	}
	return refs
}

// waitRefs waits until the remote's refs are exactly want.
func waitRefs(t testing.TB, remote string, want map[string]string) {
	t.Helper()
	testenv.Eventually(t, "refs of "+remote, func() (bool, string) {
		got := remoteRefs(t, remote)
		return fmt.Sprint(got) == fmt.Sprint(want), fmt.Sprint(got)
	})
}

// gitHealth returns the git check of /api/health.
func (r *testRegistry) gitHealth() (status string, info map[string]any) {
	r.t.Helper()
	var h struct {
		Checks map[string]struct {
			Status string         `json:"status"`
			Error  string         `json:"error"`
			Info   map[string]any `json:"info"`
		} `json:"checks"`
	}
	res := r.do("GET", "/api/health", "", nil)
	if err := json.Unmarshal(res.Body, &h); err != nil {
		r.t.Fatalf("health: %v\n%s", err, res.Body)
	}
	c, ok := h.Checks["git"]
	if !ok {
		r.t.Fatalf("health has no git check:\n%s", res.Body)
	}
	return c.Status, c.Info
}

// gitCommit returns the git_commit the API shows for a version.
func (r *testRegistry) gitCommit(name, version string) string {
	r.t.Helper()
	c, _ := r.expect(200, "GET", "/api/packages/"+name+"/versions/"+version, "", nil).JSON(r.t)["git_commit"].(string)
	return c
}

// waitQueueEmpty waits until the git worker has nothing left to do. A long
// queue (hundreds of packages published at once) takes what it takes: the
// wait fails only when the queue stops shrinking for
// testenv.EventuallyTimeout, never on how long the whole takes.
func (r *testRegistry) waitQueueEmpty() {
	r.t.Helper()
	least, since := math.Inf(1), time.Now()
	for {
		_, info := r.gitHealth()
		n, _ := info["queue"].(float64)
		switch {
		case info["queue"] == float64(0):
			return
		case n < least:
			least, since = n, time.Now()
		case time.Since(since) > testenv.EventuallyTimeout:
			r.t.Fatalf("the git queue stopped shrinking at %v jobs: %v", least, info)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// archiveEntries reads a tar (gzipped or not) into path -> content, as
// testenv.Untar does (executables marked with "*"), with folders and git
// archive's pax_global_header left out (git stores no folders) and a
// leading "./" dropped.
func archiveEntries(t testing.TB, b []byte, gzipped bool) map[string]string {
	t.Helper()
	if !gzipped {
		b = testenv.Gzip(t, b)
	}
	out := map[string]string{}
	for name, body := range testenv.Untar(t, b) {
		if body != "<dir>" && name != "pax_global_header" {
			out[strings.TrimPrefix(name, "./")] = body
		}
	}
	return out
}

// TestGitServer publishes a history through the API and reads it back with
// the stock git client over HTTP from the registry itself.
func TestGitServer(t *testing.T) {
	testenv.LookPath(t, "git")
	engines(t, func(t *testing.T, engine string) {
		r := startRegistry(t, regOptions{Engine: engine})
		tok := r.signUp("alice")
		history := []pkg{
			{name: "demo", version: "1.0.0", files: map[string]string{"README.md": "# demo 1.0.0\n"}},
			// Uploaded inside a top-level folder: git holds the files at its root.
			{name: "demo", version: "1.1.0", prefix: "demo-1.1.0", files: map[string]string{"src/a b.dryad": "spaces\n", "docs/ünï.md": "ü\n"}},
			{name: "demo", version: "2.0.0", files: map[string]string{"src/new.dryad": "2\n"}},
			// A patch of the old line, published after 2.0.0.
			{name: "demo", version: "1.0.1", files: map[string]string{"README.md": "# demo 1.0.1\n"}},
		}
		published := map[string]time.Time{}
		for _, p := range history {
			res := r.publish(tok, p.archive(t))
			if res.Status != 201 {
				t.Fatalf("publish %s: %d %s", p.version, res.Status, res.Body)
			}
			at, err := time.Parse(time.RFC3339Nano, r.expect(200, "GET", "/api/packages/demo/versions/"+p.version, "", nil).JSON(t)["published_at"].(string))
			if err != nil {
				t.Fatal(err)
			}
			published[p.version] = at
		}
		remote := r.URL + "/git/demo.git"
		testenv.Eventually(t, "four tags", func() (bool, string) {
			refs := remoteRefs(t, remote)
			return len(refs) == 5, fmt.Sprint(refs)
		})
		r.waitQueueEmpty()

		// A clone lists every version's tag, and main is the latest.
		clone := filepath.Join(t.TempDir(), "demo")
		testenv.MustGit(t, "", "clone", "--quiet", remote, clone)
		if got := testenv.MustGit(t, clone, "tag", "--list"); got != "v1.0.0\nv1.0.1\nv1.1.0\nv2.0.0" {
			t.Errorf("tags:\n%s", got)
		}
		commits := map[string]string{}
		for _, p := range history {
			commits[p.version] = testenv.MustGit(t, clone, "rev-parse", "v"+p.version+"^{commit}")
			if api := r.gitCommit("demo", p.version); api != commits[p.version] {
				t.Errorf("API git_commit of %s = %q, tag at %s", p.version, api, commits[p.version])
			}
		}
		if head := testenv.MustGit(t, clone, "rev-parse", "HEAD"); head != commits["2.0.0"] {
			t.Errorf("main at %s, want 2.0.0's commit %s", head, commits["2.0.0"])
		}
		if got := testenv.MustGit(t, clone, "rev-parse", "v1.0.1^"); got != commits["1.0.0"] {
			t.Errorf("parent of 1.0.1 is %s, want 1.0.0's commit %s", got, commits["1.0.0"])
		}
		if got := testenv.MustGit(t, clone, "rev-parse", "v2.0.0^"); got != commits["1.1.0"] {
			t.Errorf("parent of 2.0.0 is %s, want 1.1.0's commit %s", got, commits["1.1.0"])
		}
		if got := testenv.MustGit(t, clone, "rev-list", "--max-parents=0", "--all"); got != commits["1.0.0"] {
			t.Errorf("root commits: %s", got)
		}

		// Each tag's tree is its version's archive, byte for byte.
		for _, p := range history {
			tag := "v" + p.version
			dl := r.expect(200, "GET", "/packages/demo/"+p.version+".tar.gz", "", nil).Body
			want := archiveEntries(t, dl, true)
			tarball := mustGitRunBytes(t, clone, "archive", "--format=tar", tag)
			if got := archiveEntries(t, tarball, false); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("tree of %s differs from its archive:\n%v\nwant:\n%v", tag, got, want)
			}
			meta := testenv.MustGit(t, clone, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%at|%ct|%s", tag)
			at := published[p.version].Unix()
			if want := fmt.Sprintf("alice <alice@users.noreply.localhost>|alice <alice@users.noreply.localhost>|%d|%d|Release demo v%s", at, at, p.version); meta != want {
				t.Errorf("commit of %s: %q, want %q", tag, meta, want)
			}
			if kind := testenv.MustGit(t, clone, "cat-file", "-t", tag); kind != "tag" {
				t.Errorf("%s is a %s, want an annotated tag", tag, kind)
			}
		}
		if ids := testenv.MustGit(t, clone, "log", "--all", "--format=%ae"); strings.Contains(ids, "example.org") {
			t.Errorf("a commit shows the publisher's private email:\n%s", ids)
		}

		// A shallow clone of one tag.
		shallow := filepath.Join(t.TempDir(), "shallow")
		testenv.MustGit(t, "", "clone", "--quiet", "--depth", "1", "--branch", "v1.1.0", remote, shallow)
		if n := testenv.MustGit(t, shallow, "rev-list", "--count", "HEAD"); n != "1" {
			t.Errorf("shallow clone has %s commits", n)
		}
		if head := testenv.MustGit(t, shallow, "rev-parse", "HEAD"); head != commits["1.1.0"] {
			t.Errorf("shallow clone at %s, want %s", head, commits["1.1.0"])
		}

		// A fetch sees a new version.
		if res := r.publish(tok, pkg{name: "demo", version: "2.1.0"}.archive(t)); res.Status != 201 {
			t.Fatalf("publish 2.1.0: %d %s", res.Status, res.Body)
		}
		testenv.Eventually(t, "v2.1.0 on main", func() (bool, string) {
			refs := remoteRefs(t, remote)
			return refs["refs/tags/v2.1.0"] != "" && refs["refs/heads/main"] == refs["refs/tags/v2.1.0"], fmt.Sprint(refs)
		})
		testenv.MustGit(t, clone, "fetch", "--quiet", "--tags", "origin")
		commits["2.1.0"] = testenv.MustGit(t, clone, "rev-parse", "v2.1.0^{commit}")
		if got := testenv.MustGit(t, clone, "rev-parse", "origin/main"); got != commits["2.1.0"] {
			t.Errorf("origin/main after fetch = %s, want %s", got, commits["2.1.0"])
		}
		if got := testenv.MustGit(t, clone, "rev-parse", "v2.1.0^"); got != commits["2.0.0"] {
			t.Errorf("parent of 2.1.0 = %s, want %s", got, commits["2.0.0"])
		}

		// Pushes are refused with a message; unknown repositories are 404.
		os.WriteFile(filepath.Join(clone, "extra.txt"), []byte("x"), 0o644)
		testenv.MustGit(t, clone, "add", "extra.txt")
		testenv.MustGit(t, clone, "commit", "--quiet", "-m", "change")
		out, err := testenv.Git(t, clone, "push", "origin", "HEAD:main")
		if err == nil {
			t.Fatalf("push succeeded:\n%s", out)
		}
		for _, want := range []string{"403", "read-only", "publish a new version"} {
			if !strings.Contains(out, want) {
				t.Errorf("push output lacks %q:\n%s", want, out)
			}
		}
		r.expect(404, "GET", "/git/nope.git/info/refs?service=git-upload-pack", "", nil)
		r.expect(404, "GET", "/git/..%2fdemo.git/info/refs?service=git-upload-pack", "", nil)
		if out, err := testenv.Git(t, "", "ls-remote", r.URL+"/git/nope.git"); err == nil || !strings.Contains(out, "not found") {
			t.Errorf("ls-remote of an unknown repository: %v\n%s", err, out)
		}

		// Yanking the latest moves main back; yanking keeps the tag.
		r.expect(200, "PUT", "/api/packages/demo/versions/2.1.0/yank", tok, nil)
		testenv.Eventually(t, "main back at 2.0.0", func() (bool, string) {
			refs := remoteRefs(t, remote)
			return refs["refs/heads/main"] == commits["2.0.0"] && refs["refs/tags/v2.1.0"] == commits["2.1.0"], fmt.Sprint(refs)
		})
		// Deleting a version rewrites the history without it: the versions
		// after it get new commits (2.0.0 descended from 1.1.0, 2.1.0 from
		// 2.0.0), the others keep theirs, and none of its objects remain.
		deleted := commits["1.1.0"]
		r.expect(200, "DELETE", "/api/packages/demo/versions/1.1.0", tok, nil)
		testenv.Eventually(t, "the history rewritten without 1.1.0", func() (bool, string) {
			refs := remoteRefs(t, remote)
			_, ok := refs["refs/tags/v1.1.0"]
			return !ok && len(refs) == 5 && refs["refs/tags/v2.0.0"] != commits["2.0.0"], fmt.Sprint(refs)
		})
		r.waitQueueEmpty()
		refs := remoteRefs(t, remote)
		for _, v := range []string{"1.0.0", "1.0.1"} {
			if refs["refs/tags/v"+v] != commits[v] {
				t.Errorf("%s moved from %s to %s though it does not descend from 1.1.0", v, commits[v], refs["refs/tags/v"+v])
			}
		}
		for _, v := range []string{"2.0.0", "2.1.0"} {
			if refs["refs/tags/v"+v] == commits[v] {
				t.Errorf("%s kept commit %s, a descendant of the deleted 1.1.0", v, commits[v])
			}
			commits[v] = refs["refs/tags/v"+v]
			if api := r.gitCommit("demo", v); api != commits[v] {
				t.Errorf("API git_commit of %s = %q after the rewrite, tag at %s", v, api, commits[v])
			}
		}
		if refs["refs/heads/main"] != commits["2.0.0"] {
			t.Errorf("main at %s, want the new 2.0.0 commit %s", refs["refs/heads/main"], commits["2.0.0"])
		}
		fresh := filepath.Join(t.TempDir(), "fresh")
		testenv.MustGit(t, "", "clone", "--quiet", remote, fresh)
		if got := testenv.MustGit(t, fresh, "rev-parse", "v2.0.0^", "v2.1.0^"); got != commits["1.0.0"]+"\n"+commits["2.0.0"] {
			t.Errorf("parents of 2.0.0 and 2.1.0: %s, want 1.0.0's %s and 2.0.0's %s", got, commits["1.0.0"], commits["2.0.0"])
		}
		if files := testenv.MustGit(t, fresh, "log", "--all", "--format=", "--name-only"); strings.Contains(files, "a b.dryad") {
			t.Errorf("a file only 1.1.0 had is still in the history:\n%s", files)
		}
		// Its commit is gone from the server, not merely unreferenced.
		if out, err := testenv.Git(t, fresh, "fetch", "--quiet", "origin", deleted); err == nil {
			t.Errorf("the deleted version's commit %s can still be fetched by id:\n%s", deleted, out)
		}
		if _, err := testenv.Git(t, filepath.Join(r.Config.GitDir, "demo.git"), "cat-file", "-e", deleted); err == nil {
			t.Errorf("the deleted version's commit %s is still in the repository", deleted)
		}
		// A version published after the delete does not descend from it.
		if res := r.publish(tok, pkg{name: "demo", version: "1.2.0"}.archive(t)); res.Status != 201 {
			t.Fatalf("publish 1.2.0: %d %s", res.Status, res.Body)
		}
		testenv.Eventually(t, "v1.2.0", func() (bool, string) {
			refs := remoteRefs(t, remote)
			commits["1.2.0"] = refs["refs/tags/v1.2.0"]
			return commits["1.2.0"] != "", fmt.Sprint(refs)
		})
		// A clone made before the rewrite holds the old tags, which git
		// does not clobber without --force.
		if out, err := testenv.Git(t, clone, "fetch", "--tags", "origin"); err == nil || !strings.Contains(out, "clobber") {
			t.Errorf("fetch into a clone made before the rewrite: %v\n%s", err, out)
		}
		testenv.MustGit(t, clone, "fetch", "--quiet", "--tags", "--force", "origin")
		if got := testenv.MustGit(t, clone, "rev-parse", "v1.2.0^", "v2.0.0^{commit}"); got != commits["1.0.1"]+"\n"+commits["2.0.0"] {
			t.Errorf("parent of 1.2.0 and 2.0.0's commit = %s, want 1.0.1's %s and %s", got, commits["1.0.1"], commits["2.0.0"])
		}
		r.waitQueueEmpty()
		if status, info := r.gitHealth(); status != "ok" || info["failing_jobs"] != float64(0) {
			t.Errorf("git health: %s %v", status, info)
		}

		// A rebuild from the stored archives gives the same repository.
		before := remoteRefs(t, remote)
		bare := filepath.Join(r.Config.GitDir, "demo.git")
		objects := testenv.MustGit(t, bare, "rev-list", "--all", "--objects")
		r.Stop()
		code, stdout, stderr := r.runCommand("git", "rebuild")
		if code != 0 {
			t.Fatalf("git rebuild: exit %d\n%s%s", code, stdout, stderr)
		}
		if !strings.Contains(stdout, "demo: 5 versions replayed, main at v2.0.0 ("+commits["2.0.0"]+"), same commits as recorded") {
			t.Errorf("git rebuild printed:\n%s", stdout)
		}
		if after := remoteRefs(t, bare); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("refs after rebuild:\n%v\nwant:\n%v", after, before)
		}
		if got := testenv.MustGit(t, bare, "rev-list", "--all", "--objects"); got != objects {
			t.Errorf("objects after rebuild differ")
		}
		testenv.MustGit(t, bare, "fsck", "--strict", "--no-progress")
		if code, _, stderr := r.runCommand("git", "rebuild", "nope"); code != 1 || !strings.Contains(stderr, `no package "nope"`) {
			t.Errorf("rebuild of an unknown package: exit %d, %s", code, stderr)
		}
	})
}

// mustGitRunBytes runs git and returns its standard output untouched.
func mustGitRunBytes(t testing.TB, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(testenv.LookPath(t, "git"), args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// TestGitPublishWhileUnwritable publishes while the git folder cannot be
// written (at start, and again later): the publish succeeds, the health
// check says why git fails, and the commit appears once the folder is back.
func TestGitPublishWhileUnwritable(t *testing.T) {
	testenv.LookPath(t, "git")
	// Tests run as root, for whom permission bits stop nothing: a folder
	// whose parent is a regular file cannot be created by anyone.
	dir := t.TempDir()
	parent := filepath.Join(dir, "disk")
	if err := os.WriteFile(parent, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitDir := filepath.Join(parent, "git")
	r := startRegistry(t, regOptions{Env: map[string]string{"GIT_DIR": gitDir}})
	tok := r.signUp("alice")
	if status, _ := r.gitHealth(); status != "failing" {
		t.Errorf("git check with an unwritable folder: %s", status)
	}
	failing := func(what string) {
		testenv.Eventually(t, what, func() (bool, string) {
			status, info := r.gitHealth()
			n, _ := info["failing_jobs"].(float64)
			return status == "failing" && n >= 1, fmt.Sprint(status, info)
		})
	}

	if res := r.publish(tok, pkg{name: "demo", version: "1.0.0"}.archive(t)); res.Status != 201 {
		t.Fatalf("publish with git unwritable: %d %s", res.Status, res.Body)
	}
	r.expect(200, "GET", "/packages/demo/1.0.0.tar.gz", "", nil)
	failing("the git job to fail")
	if c := r.gitCommit("demo", "1.0.0"); c != "" {
		t.Fatalf("a commit %s while git was unwritable", c)
	}

	// The disk comes back.
	if err := os.Remove(parent); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	remote := r.URL + "/git/demo.git"
	var first string
	testenv.Eventually(t, "the commit of 1.0.0", func() (bool, string) {
		first = r.gitCommit("demo", "1.0.0")
		refs := remoteRefs(t, remote)
		return first != "" && refs["refs/tags/v1.0.0"] == first && refs["refs/heads/main"] == first, fmt.Sprint(first, refs)
	})
	r.waitQueueEmpty()

	// The folder is replaced by a file while serving.
	away := filepath.Join(dir, "git.away")
	if err := os.Rename(gitDir, away); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gitDir, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := r.publish(tok, pkg{name: "demo", version: "1.1.0"}.archive(t)); res.Status != 201 {
		t.Fatalf("publish with git replaced by a file: %d %s", res.Status, res.Body)
	}
	failing("the second git job to fail")
	if err := os.Remove(gitDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(away, gitDir); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the commit of 1.1.0", func() (bool, string) {
		c := r.gitCommit("demo", "1.1.0")
		refs := remoteRefs(t, remote)
		return c != "" && refs["refs/tags/v1.1.0"] == c && refs["refs/heads/main"] == c, fmt.Sprint(c, refs)
	})
	if got := testenv.MustGit(t, filepath.Join(gitDir, "demo.git"), "rev-parse", "v1.1.0^"); got != first {
		t.Errorf("parent of 1.1.0 = %s, want 1.0.0's %s", got, first)
	}
	r.waitQueueEmpty()
	if status, _ := r.gitHealth(); status != "ok" {
		t.Errorf("git check once writable: %s", status)
	}
}

// TestGitMirror pushes every change to a mirror: a local bare repository,
// first missing (the failure shows in /api/health and is retried), and
// created through a replayed Gitea exchange when GITEA_URL is set.
func TestGitMirror(t *testing.T) {
	testenv.LookPath(t, "git")
	for _, gitea := range []bool{false, true} {
		t.Run(map[bool]string{false: "local", true: "gitea"}[gitea], func(t *testing.T) {
			mirrors := t.TempDir()
			mirror := filepath.Join(mirrors, "demo.git")
			env := map[string]string{"GIT_MIRROR_URL": mirrors + "/{name}.git"}
			if gitea {
				srv := replayGitea(t, "create.json")
				env["GITEA_URL"], env["GITEA_TOKEN"] = srv, giteaTestToken
				// Gitea would create the repository; here it is the
				// local bare repository the push goes to.
				testenv.MustGit(t, "", "init", "--quiet", "--bare", mirror)
			}
			r := startRegistry(t, regOptions{Env: env})
			tok := r.signUp("alice")
			remote := r.URL + "/git/demo.git"
			desc := map[string]any{"description": "A demo package"}
			if res := r.publish(tok, pkg{name: "demo", version: "1.0.0", fields: desc}.archive(t)); res.Status != 201 {
				t.Fatalf("publish: %d %s", res.Status, res.Body)
			}

			if !gitea {
				// No repository on the mirror yet: the push fails, and
				// the health report says so.
				testenv.Eventually(t, "the mirror failure in /api/health", func() (bool, string) {
					_, info := r.gitHealth()
					m, _ := info["mirror"].(map[string]any)
					failing, _ := m["failing"].([]any)
					last, _ := m["last_error"].(string)
					return len(failing) == 1 && failing[0] == "demo" && strings.Contains(last, "demo.git"), fmt.Sprint(info)
				})
				// The failing push is retried behind later work: a version
				// published meanwhile still reaches the local repository.
				if res := r.publish(tok, pkg{name: "demo", version: "1.0.1", fields: desc}.archive(t)); res.Status != 201 {
					t.Fatalf("publish: %d %s", res.Status, res.Body)
				}
				r.signUp("root")
				ensureAdmin(t, r, "root")
				admin := r.login("root")
				st := r.expect(200, "GET", "/api/admin/packages/demo", admin, nil).JSON(t)
				if st["mirrored"] != true || !strings.Contains(st["mirror_error"].(string), "demo.git") {
					t.Errorf("admin view of a failing mirror: %v", st)
				}
				r.expect(403, "GET", "/api/admin/packages/demo", tok, nil)
				testenv.Eventually(t, "1.0.1 committed while the mirror fails", func() (bool, string) {
					refs := remoteRefs(t, remote)
					return refs["refs/heads/main"] != "" && refs["refs/heads/main"] == refs["refs/tags/v1.0.1"], fmt.Sprint(refs)
				})
				testenv.MustGit(t, "", "init", "--quiet", "--bare", mirror)
			}
			testenv.Eventually(t, "the mirror to catch up", func() (bool, string) {
				local := remoteRefs(t, remote)
				got := remoteRefs(t, mirror)
				return len(local) >= 2 && fmt.Sprint(got) == fmt.Sprint(local), fmt.Sprint(got, local)
			})

			// A new version, then main moving back when it is yanked.
			if res := r.publish(tok, pkg{name: "demo", version: "1.1.0", fields: desc}.archive(t)); res.Status != 201 {
				t.Fatalf("publish: %d %s", res.Status, res.Body)
			}
			v11 := ""
			testenv.Eventually(t, "1.1.0 on the mirror", func() (bool, string) {
				v11 = r.gitCommit("demo", "1.1.0")
				got := remoteRefs(t, mirror)
				return v11 != "" && got["refs/tags/v1.1.0"] == v11 && got["refs/heads/main"] == v11, fmt.Sprint(got)
			})
			r.expect(200, "PUT", "/api/packages/demo/versions/1.1.0/yank", tok, nil)
			latest := r.expect(200, "GET", "/api/packages/demo", "", nil).JSON(t)["latest"].(string)
			back := r.gitCommit("demo", latest)
			testenv.Eventually(t, "main back at "+latest+" on the mirror", func() (bool, string) {
				got := remoteRefs(t, mirror)
				return back != "" && got["refs/heads/main"] == back && got["refs/tags/v1.1.0"] == v11, fmt.Sprint(got)
			})
			testenv.MustGit(t, mirror, "fsck", "--strict", "--no-progress")
			r.waitQueueEmpty()
			_, info := r.gitHealth()
			m, _ := info["mirror"].(map[string]any)
			if m["packages"] != float64(1) || m["last_pushed"] == nil || m["failing"] != nil || m["url"] != mirrors+"/{name}.git" {
				t.Errorf("mirror health once pushed: %v", info)
			}

			// Deleting a version rewrites the mirror's history as well: the
			// tags of the versions descending from it are forced to their
			// new commits.
			r.expect(200, "DELETE", "/api/packages/demo/versions/1.0.0", tok, nil)
			testenv.Eventually(t, "the rewritten history on the mirror", func() (bool, string) {
				local := remoteRefs(t, remote)
				got := remoteRefs(t, mirror)
				_, kept := got["refs/tags/v1.0.0"]
				return !kept && len(local) >= 2 && got["refs/tags/v1.1.0"] != v11 && fmt.Sprint(got) == fmt.Sprint(local), fmt.Sprint(got, local)
			})
			testenv.MustGit(t, mirror, "fsck", "--strict", "--no-progress")
			// Deleting the package empties it: no tag, and main (which hosts
			// refuse to delete) at a commit without files.
			r.expect(200, "DELETE", "/api/packages/demo", tok, nil)
			testenv.Eventually(t, "the mirror emptied", func() (bool, string) {
				got := remoteRefs(t, mirror)
				return len(got) == 1 && got["refs/heads/main"] != "" && testenv.MustGit(t, mirror, "ls-tree", "main") == "", fmt.Sprint(got)
			})
			if msg := testenv.MustGit(t, mirror, "log", "--format=%s", "main"); msg != "Every version of demo was deleted from the registry" {
				t.Errorf("main of the emptied mirror: %q", msg)
			}
		})
	}
}

// giteaTestToken is the token of the recorded Gitea exchanges.
const giteaTestToken = "0123456789abcdef0123456789abcdef01234567"

// replayGitea serves a recorded Gitea exchange from internal/gitrepo's
// test data: each request must match the next recorded one (method, path,
// headers, JSON body) and gets its recorded answer; every recorded request
// must have been made by the end of the test. It returns the server's URL.
func replayGitea(t *testing.T, file string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "internal", "gitrepo", "testdata", "gitea", file))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Exchanges []struct {
			Request struct {
				Method, Path string
				Headers      map[string]string
				Body         json.RawMessage
			}
			Response struct {
				Status  int
				Headers map[string]string
				Body    json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	next := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if next >= len(rec.Exchanges) {
			t.Errorf("unrecorded request %s %s", req.Method, req.URL.Path)
			w.WriteHeader(http.StatusTeapot)
			return
		}
		ex := rec.Exchanges[next]
		next++
		if req.Method != ex.Request.Method || req.URL.Path != ex.Request.Path {
			t.Errorf("request %d: %s %s, recorded %s %s", next, req.Method, req.URL.Path, ex.Request.Method, ex.Request.Path)
		}
		for k, v := range ex.Request.Headers {
			if got := req.Header.Get(k); got != v {
				t.Errorf("request %d: %s: %q, recorded %q", next, k, got, v)
			}
		}
		if len(ex.Request.Body) > 0 {
			body, _ := io.ReadAll(req.Body)
			var got, want any
			json.Unmarshal(body, &got)
			json.Unmarshal(ex.Request.Body, &want)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("request %d body %s, recorded %s", next, body, ex.Request.Body)
			}
		}
		for k, v := range ex.Response.Headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(ex.Response.Status)
		w.Write(ex.Response.Body)
	}))
	t.Cleanup(func() {
		srv.Close()
		mu.Lock()
		defer mu.Unlock()
		if next != len(rec.Exchanges) {
			t.Errorf("%s: %d of %d recorded requests were made", file, next, len(rec.Exchanges))
		}
	})
	return srv.URL
}

// TestGitMirrorSettingsStopTheStart checks that mistakes in the mirror
// settings stop the start with exit status 2 and a message naming them.
func TestGitMirrorSettingsStopTheStart(t *testing.T) {
	testenv.LookPath(t, "git")
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"GIT_MIRROR_URL": "/srv/mirror.git"}, "must contain {name}"},
		{map[string]string{"GIT_MIRROR_URL": "https://u:${MIRROR_TOKEN}@git.example.org/{name}.git"}, "${MIRROR_TOKEN}"},
		{map[string]string{"GIT_MIRROR_URL": "https://u:${GITEA_TOKEN}@git.example.org/{name}.git"}, "${GITEA_TOKEN}, which is not set"},
		{map[string]string{"GIT_MIRROR_URL": "/srv/{name}.git", "GITEA_URL": "https://git.example.org"}, "GITEA_TOKEN is empty"},
		{map[string]string{"DOMAIN": "a b"}, "DOMAIN"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			environ := []string{"DATA_DIR=" + t.TempDir(), "PORT=0", "JWT_SECRET=test-secret-0123456789abcdef"}
			for k, v := range tt.env {
				environ = append(environ, k+"="+v)
			}
			if code, out, errOut := (invocation{Env: environ}).run(t, "serve"); code != 2 || !strings.Contains(out+errOut, tt.want) {
				t.Errorf("exit %d, want 2 with %q:\n%s%s", code, tt.want, out, errOut)
			}
		})
	}
}

// TestGitYanksAndDeletes follows main through yanks of every version, the
// repository through the package's deletion and a new history after it, and
// checks that a rebuild reproduces each state.
func TestGitYanksAndDeletes(t *testing.T) {
	testenv.LookPath(t, "git")
	r := startRegistry(t, regOptions{})
	tok := r.signUp("alice")
	remote := r.URL + "/git/demo.git"
	for _, v := range []string{"1.0.0", "2.0.0"} {
		if res := r.publish(tok, pkg{name: "demo", version: v}.archive(t)); res.Status != 201 {
			t.Fatalf("publish %s: %d %s", v, res.Status, res.Body)
		}
	}
	var v1, v2 string
	testenv.Eventually(t, "two tags", func() (bool, string) {
		refs := remoteRefs(t, remote)
		v1, v2 = refs["refs/tags/v1.0.0"], refs["refs/tags/v2.0.0"]
		return len(refs) == 3 && v1 != "" && refs["refs/heads/main"] == v2, fmt.Sprint(refs)
	})
	mainAt := func(what, want string) {
		t.Helper()
		testenv.Eventually(t, what, func() (bool, string) {
			refs := remoteRefs(t, remote)
			return refs["refs/heads/main"] == want && len(refs) == 3, fmt.Sprint(refs)
		})
	}
	r.expect(200, "PUT", "/api/packages/demo/versions/2.0.0/yank", tok, nil)
	mainAt("main at 1.0.0 once 2.0.0 is yanked", v1)
	// With every version yanked there is no latest: main shows the highest
	// version, as a rebuild would.
	r.expect(200, "PUT", "/api/packages/demo/versions/1.0.0/yank", tok, nil)
	mainAt("main at 2.0.0 once every version is yanked", v2)
	r.waitQueueEmpty()
	if code, out, errOut := r.runCommand("git", "rebuild", "demo"); code != 0 || !strings.Contains(out, "main at v2.0.0") {
		t.Fatalf("rebuild: exit %d\n%s%s", code, out, errOut)
	}
	mainAt("main still at 2.0.0 after a rebuild", v2)

	// The tip deleted: main goes back, and its commit cannot be fetched
	// by id any more.
	r.expect(200, "DELETE", "/api/packages/demo/versions/2.0.0", tok, nil)
	testenv.Eventually(t, "2.0.0 gone", func() (bool, string) {
		refs := remoteRefs(t, remote)
		return len(refs) == 2 && refs["refs/heads/main"] == v1 && refs["refs/tags/v1.0.0"] == v1, fmt.Sprint(refs)
	})
	empty := t.TempDir()
	testenv.MustGit(t, empty, "init", "--quiet")
	if out, err := testenv.Git(t, empty, "fetch", "--quiet", remote, v2); err == nil {
		t.Errorf("the deleted tip %s can still be fetched by id:\n%s", v2, out)
	}

	// A deleted package has no repository.
	r.expect(200, "DELETE", "/api/packages/demo", tok, nil)
	testenv.Eventually(t, "the repository to go", func() (bool, string) {
		res := r.do("GET", "/git/demo.git/info/refs?service=git-upload-pack", "", nil)
		return res.Status == 404, fmt.Sprint(res.Status)
	})
	// Published again, it starts a new history: the deleted versions are
	// no one's parents.
	if res := r.publish(tok, pkg{name: "demo", version: "3.0.0"}.archive(t)); res.Status != 201 {
		t.Fatalf("publish 3.0.0: %d %s", res.Status, res.Body)
	}
	var v3 string
	testenv.Eventually(t, "3.0.0 alone", func() (bool, string) {
		refs := remoteRefs(t, remote)
		v3 = refs["refs/tags/v3.0.0"]
		return len(refs) == 2 && v3 != "" && refs["refs/heads/main"] == v3, fmt.Sprint(refs)
	})
	bare := filepath.Join(r.Config.GitDir, "demo.git")
	if out, err := testenv.Git(t, bare, "rev-parse", "--verify", "--quiet", v3+"^"); err == nil {
		t.Errorf("3.0.0 has a parent: %s", out)
	}
	r.waitQueueEmpty()
	before := remoteRefs(t, bare)
	r.Stop()
	if code, out, errOut := r.runCommand("git", "rebuild"); code != 0 || !strings.Contains(out, "demo: 1 version replayed, main at v3.0.0 ("+v3+"), same commits as recorded") {
		t.Fatalf("rebuild: exit %d\n%s%s", code, out, errOut)
	}
	if after := remoteRefs(t, bare); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("refs after rebuild:\n%v\nwant:\n%v", after, before)
	}
}

// TestGitMissingAtStart runs the registry on a machine without git: it
// serves, publishes succeed, the git check says what to install, /git/
// answers 503, and the queued commit is made at the next start with git.
func TestGitMissingAtStart(t *testing.T) {
	testenv.LookPath(t, "git")
	data := t.TempDir()
	// The process's PATH leads to no git; the registry's settings come from
	// the test alone.
	r := startRegistry(t, regOptions{DataDir: data, Env: map[string]string{"PATH": filepath.Join(t.TempDir(), "no-git-here")}})
	tok := r.signUp("alice")
	if res := r.publish(tok, pkg{name: "demo", version: "1.0.0"}.archive(t)); res.Status != 201 {
		t.Fatalf("publish without git: %d %s", res.Status, res.Body)
	}
	res := r.do("GET", "/api/health", "", nil)
	var h struct {
		Status string
		Checks map[string]struct {
			Status, Error string
			Info          map[string]any
		}
	}
	if err := json.Unmarshal(res.Body, &h); err != nil {
		t.Fatal(err)
	}
	g := h.Checks["git"]
	if res.Status != 200 || h.Status != "degraded" || g.Status != "failing" || !strings.Contains(g.Error, "install git") || g.Info["queue"] != float64(1) {
		t.Errorf("health without git: %d %s", res.Status, res.Body)
	}
	if res := r.do("GET", "/git/demo.git/info/refs?service=git-upload-pack", "", nil); res.Status != 503 {
		t.Errorf("git request without git: %d %s", res.Status, res.Body)
	}
	r.Stop()

	r = startRegistry(t, regOptions{DataDir: data})
	testenv.Eventually(t, "the queued commit", func() (bool, string) {
		c := r.gitCommit("demo", "1.0.0")
		refs := remoteRefs(t, r.URL+"/git/demo.git")
		return c != "" && refs["refs/tags/v1.0.0"] == c, fmt.Sprint(c, refs)
	})
}

// TestGitLostRepositoryIsRemade removes a repository behind the registry's
// back: the next version's commit makes its missing ancestors again from
// their archives, with the recorded ids.
func TestGitLostRepositoryIsRemade(t *testing.T) {
	testenv.LookPath(t, "git")
	r := startRegistry(t, regOptions{})
	tok := r.signUp("alice")
	remote := r.URL + "/git/demo.git"
	for _, v := range []string{"1.0.0", "1.1.0"} {
		if res := r.publish(tok, pkg{name: "demo", version: v}.archive(t)); res.Status != 201 {
			t.Fatalf("publish %s: %d %s", v, res.Status, res.Body)
		}
	}
	testenv.Eventually(t, "two tags", func() (bool, string) {
		refs := remoteRefs(t, remote)
		return len(refs) == 3, fmt.Sprint(refs)
	})
	r.waitQueueEmpty()
	bare := filepath.Join(r.Config.GitDir, "demo.git")
	before := remoteRefs(t, remote)
	if err := os.RemoveAll(bare); err != nil {
		t.Fatal(err)
	}

	if res := r.publish(tok, pkg{name: "demo", version: "1.2.0"}.archive(t)); res.Status != 201 {
		t.Fatalf("publish 1.2.0: %d %s", res.Status, res.Body)
	}
	var v12 string
	testenv.Eventually(t, "1.2.0 on the remade history", func() (bool, string) {
		refs := remoteRefs(t, remote)
		v12 = refs["refs/tags/v1.2.0"]
		return v12 != "" && refs["refs/heads/main"] == v12, fmt.Sprint(refs)
	})
	r.waitQueueEmpty()
	refs := remoteRefs(t, remote)
	for _, v := range []string{"refs/tags/v1.0.0", "refs/tags/v1.1.0"} {
		if refs[v] != before[v] {
			t.Errorf("%s remade at %s, recorded %s", v, refs[v], before[v])
		}
	}
	if len(refs) != 4 {
		t.Errorf("refs after the repository was remade: %v (before: %v)", refs, before)
	}
	if got, want := testenv.MustGit(t, bare, "rev-parse", "v1.2.0^", "v1.2.0^^"), before["refs/tags/v1.1.0"]+"\n"+before["refs/tags/v1.0.0"]; got != want {
		t.Errorf("ancestors of 1.2.0: %s, want %s", got, want)
	}
}
