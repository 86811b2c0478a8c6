package gitrepo

import (
	"errors"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/testenv"
)

// remoteRefs lists a remote's refs as `git ls-remote` shows them, without
// peeled lines and HEAD, sorted.
func remoteRefs(t *testing.T, remote string) string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(testenv.MustGit(t, "", "ls-remote", remote), "\n") {
		if l != "" && !strings.HasSuffix(l, "^{}") && !strings.HasSuffix(l, "\tHEAD") {
			lines = append(lines, strings.Replace(l, "\t", " ", 1))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// sortedLines sorts the lines of s, to compare ref lists.
func sortedLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// bareRepo creates an empty bare repository, as a mirror host would.
func bareRepo(t *testing.T, dir string) {
	t.Helper()
	testenv.MustGit(t, "", "init", "--quiet", "--bare", "--initial-branch=main", dir)
}

func TestPushToALocalMirror(t *testing.T) {
	for _, form := range []string{"path", "file URL"} {
		t.Run(form, func(t *testing.T) {
			r := newRepos(t)
			h := publishHistory(t, r, "demo")
			ctx := t.Context()
			mirror := filepath.Join(t.TempDir(), "demo.git")
			bareRepo(t, mirror)
			remote := mirror
			if form == "file URL" {
				remote = "file://" + mirror
			}
			// A ref of the mirror's own is left alone.
			own := testenv.MustGit(t, mirror, "commit-tree", "-m", "notes", testenv.MustGit(t, mirror, "mktree"))
			testenv.MustGit(t, mirror, "update-ref", "refs/heads/notes", own)
			notes := own + " refs/heads/notes\n"

			if err := r.Push(ctx, "demo", remote); err != nil {
				t.Fatal(err)
			}
			if got, want := remoteRefs(t, mirror), sortedLines(notes+refsOf(t, r, "demo")); got != want {
				t.Errorf("mirror after first push:\n%s\nwant:\n%s", got, want)
			}

			// A new version: an incremental push.
			commit(t, r, "demo", "2.1.0", h.commits["2.0.0"], 4, true)
			if err := r.Push(ctx, "demo", remote); err != nil {
				t.Fatal(err)
			}
			if got, want := remoteRefs(t, mirror), sortedLines(notes+refsOf(t, r, "demo")); got != want {
				t.Errorf("mirror after a new version:\n%s\nwant:\n%s", got, want)
			}

			// main moves backwards and a version is deleted.
			if err := r.SetMain(ctx, "demo", h.commits["1.1.0"]); err != nil {
				t.Fatal(err)
			}
			if err := r.DeleteTag(ctx, "demo", "2.1.0"); err != nil {
				t.Fatal(err)
			}
			if err := r.Push(ctx, "demo", remote); err != nil {
				t.Fatal(err)
			}
			got := remoteRefs(t, mirror)
			if want := sortedLines(notes + refsOf(t, r, "demo")); got != want {
				t.Errorf("mirror after main moved back and a tag was deleted:\n%s\nwant:\n%s", got, want)
			}
			if strings.Contains(got, "v2.1.0") || !strings.Contains(got, h.commits["1.1.0"]+" refs/heads/main") {
				t.Errorf("mirror still has v2.1.0 or main is not at 1.1.0:\n%s", got)
			}
			testenv.MustGit(t, mirror, "fsck", "--strict", "--no-progress")
		})
	}
}

func TestPushForcesTheMirrorsTags(t *testing.T) {
	r := newRepos(t)
	mine := commit(t, r, "demo", "1.0.0", "", 0, true)
	// The mirror holds another history with a v1.0.0 of its own, as after
	// a version before 1.0.0 was deleted here and the history rewritten.
	other := newRepos(t)
	commit(t, other, "demo", "0.9.0", "", 0, false)
	foreign := commit(t, other, "demo", "1.0.0", "", 9, true)
	mirror := filepath.Join(t.TempDir(), "demo.git")
	bareRepo(t, mirror)
	if err := other.Push(t.Context(), "demo", mirror); err != nil {
		t.Fatal(err)
	}
	if got := testenv.MustGit(t, mirror, "rev-parse", "v1.0.0^{commit}"); got != foreign {
		t.Fatalf("mirror tag at %s, want %s", got, foreign)
	}
	if err := r.Push(t.Context(), "demo", mirror); err != nil {
		t.Fatal(err)
	}
	if got, want := remoteRefs(t, mirror), sortedLines(refsOf(t, r, "demo")); got != want {
		t.Errorf("mirror after a push over another history:\n%s\nwant:\n%s", got, want)
	}
	if got := testenv.MustGit(t, mirror, "rev-parse", "v1.0.0^{commit}"); got != mine {
		t.Errorf("mirror tag at %s, want %s", got, mine)
	}
	if err := r.Push(t.Context(), "missing", mirror); !errors.Is(err, errs.NotFound) {
		t.Errorf("push of a package without repository: %v, want NotFound", err)
	}
}

func TestWithdrawEmptiesTheMirror(t *testing.T) {
	r := newRepos(t)
	publishHistory(t, r, "demo")
	mirror := filepath.Join(t.TempDir(), "demo.git")
	bareRepo(t, mirror)
	own := testenv.MustGit(t, mirror, "commit-tree", "-m", "notes", testenv.MustGit(t, mirror, "mktree"))
	testenv.MustGit(t, mirror, "update-ref", "refs/heads/notes", own)
	if err := r.Push(t.Context(), "demo", mirror); err != nil {
		t.Fatal(err)
	}
	// Every version deleted: no repository here any more.
	if err := r.Remove(t.Context(), "demo"); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the same commit every time: a retry changes nothing
		if err := r.Withdraw(t.Context(), "demo", mirror); err != nil {
			t.Fatal(err)
		}
		main := testenv.MustGit(t, mirror, "rev-parse", "main")
		if got, want := remoteRefs(t, mirror), sortedLines(main+" refs/heads/main\n"+own+" refs/heads/notes"); got != want {
			t.Errorf("mirror after withdraw:\n%s\nwant:\n%s", got, want)
		}
		if files := testenv.MustGit(t, mirror, "ls-tree", "-r", "main"); files != "" {
			t.Errorf("main of a withdrawn package has files:\n%s", files)
		}
		if n := testenv.MustGit(t, mirror, "rev-list", "--count", "main"); n != "1" {
			t.Errorf("main of a withdrawn package has %s commits, want 1 without parents", n)
		}
	}
	other := newRepos(t)
	mirror2 := filepath.Join(t.TempDir(), "demo.git")
	bareRepo(t, mirror2)
	if err := other.Withdraw(t.Context(), "demo", mirror2); err != nil {
		t.Fatal(err)
	}
	if a, b := testenv.MustGit(t, mirror, "rev-parse", "main"), testenv.MustGit(t, mirror2, "rev-parse", "main"); a != b {
		t.Errorf("two instances withdraw with different commits: %s and %s", a, b)
	}
	if entries, _ := os.ReadDir(r.Root()); len(entries) != 0 {
		t.Errorf("withdraw left %v in the git folder", entries)
	}
}

// httpMirror serves bare repositories under root with pushes allowed for
// requests that carry Basic credentials user:password, the way a Gitea
// mirror checks a token. It counts the requests it authenticated.
func httpMirror(t *testing.T, root, user, password string) (url string, authenticated *int) {
	t.Helper()
	backend := &cgi.Handler{
		Path: testenv.LookPath(t, "git"),
		Args: []string{"http-backend"},
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=" + user,
			"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME=/dev/null"},
	}
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		u, p, ok := req.BasicAuth()
		if !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="mirror"`)
			http.Error(w, "bad credentials", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		n++
		mu.Unlock()
		backend.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

func TestPushOverHTTPSendsCredentialsAsAHeader(t *testing.T) {
	r := newRepos(t)
	publishHistory(t, r, "demo")
	root := t.TempDir()
	bareRepo(t, filepath.Join(root, "demo.git"))
	const secret = "s3cr3t-token-value"
	base, authenticated := httpMirror(t, root, "oauth2", secret)
	template := strings.Replace(base, "http://", "http://oauth2:${MIRROR_TOKEN}@", 1) + "/{name}.git"

	env := func(token string) func(string) string {
		return func(k string) string {
			if k == "MIRROR_TOKEN" {
				return token
			}
			return ""
		}
	}
	if err := r.Push(t.Context(), "demo", MirrorURL(template, "demo", env(secret))); err != nil {
		t.Fatal(err)
	}
	if *authenticated == 0 {
		t.Error("the mirror authenticated no request")
	}
	if got, want := remoteRefs(t, filepath.Join(root, "demo.git")), sortedLines(refsOf(t, r, "demo")); got != want {
		t.Errorf("mirror:\n%s\nwant:\n%s", got, want)
	}

	err := r.Push(t.Context(), "demo", MirrorURL(template, "demo", env("wrong-token-value")))
	if err == nil {
		t.Fatal("push with a wrong token succeeded")
	}
	for _, msg := range []string{err.Error(), errs.Message(err)} {
		if strings.Contains(msg, "wrong-token-value") || strings.Contains(msg, secret) {
			t.Errorf("error shows a token: %s", msg)
		}
	}
	if !strings.Contains(err.Error(), "oauth2:***@") {
		t.Errorf("error does not name the (redacted) mirror: %s", err)
	}
}

func TestMirrorSyncRetriesAndRecordsState(t *testing.T) {
	r := newRepos(t)
	publishHistory(t, r, "demo")
	root := filepath.Join(t.TempDir(), "mirrors")

	// The mirror repository appears after the first failure.
	var retries []int
	m, err := NewMirror(r, MirrorOptions{
		URLTemplate: root + "/{name}.git", Backoff: time.Millisecond,
		OnRetry: func(pkg string, attempt int, err error) {
			retries = append(retries, attempt)
			if attempt == 1 {
				bareRepo(t, filepath.Join(root, pkg+".git"))
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	state, err := m.Sync(t.Context(), "demo", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(retries) != 1 || state.LastPushed.IsZero() || state.LastError != "" || state.Failures != 0 {
		t.Errorf("retries %v, state %+v", retries, state)
	}
	if got, want := remoteRefs(t, filepath.Join(root, "demo.git")), sortedLines(refsOf(t, r, "demo")); got != want {
		t.Errorf("mirror:\n%s\nwant:\n%s", got, want)
	}
	if h := m.Health(); h.Packages != 1 || len(h.Failing) != 0 || h.LastPushed.IsZero() {
		t.Errorf("health %+v", h)
	}

	// A mirror that never works: every attempt fails, then Sync gives up.
	blocked := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocked, nil, 0o644)
	failing, _ := NewMirror(r, MirrorOptions{URLTemplate: blocked + "/{name}.git", Attempts: 3, Backoff: time.Millisecond})
	state, err = failing.Sync(t.Context(), "demo", "")
	if !errors.Is(err, errs.Unavailable) {
		t.Fatalf("Sync to a broken mirror: %v, want Unavailable", err)
	}
	if state.Failures != 3 || state.LastError == "" || !state.LastPushed.IsZero() {
		t.Errorf("state after giving up: %+v", state)
	}
	if h := failing.Health(); len(h.Failing) != 1 || h.Failing[0] != "demo" || h.LastError == "" {
		t.Errorf("health %+v", h)
	}
	// A package without repository (every version deleted) is withdrawn
	// from the mirror, a push like any other: retried when it fails.
	if _, err := failing.Sync(t.Context(), "nothing", ""); !errors.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "withdrawing nothing") {
		t.Errorf("Sync of a package without repository: %v", err)
	}
	if s := failing.State("nothing"); s.Failures != 3 {
		t.Errorf("state of a package without repository: %+v, want three failures", s)
	}
}

func TestMirrorCreatesTheGiteaRepositoryOnce(t *testing.T) {
	r := newRepos(t)
	h := publishHistory(t, r, "demo")
	root := t.TempDir()
	bareRepo(t, filepath.Join(root, "demo.git"))
	srv := replay(t, "create.json") // one lookup, one creation: no more
	m, err := NewMirror(r, MirrorOptions{
		URLTemplate: root + "/{name}.git",
		Gitea:       &Gitea{BaseURL: srv.URL, Token: testToken, Org: "dryad"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := m.Sync(t.Context(), "demo", "A demo package"); err != nil {
			t.Fatal(err)
		}
	}
	if got := testenv.MustGit(t, filepath.Join(root, "demo.git"), "rev-parse", "main"); got != h.commits["2.0.0"] {
		t.Errorf("mirror main = %s", got)
	}
}

func TestNewMirrorNeedsANamePlaceholder(t *testing.T) {
	r := newRepos(t)
	_, err := NewMirror(r, MirrorOptions{URLTemplate: "https://oauth2:tok@git.example.org/dryad/all.git"})
	if !errors.Is(err, errs.Invalid) || strings.Contains(errs.Message(err), "tok@") {
		t.Errorf("err = %v, want Invalid without the credentials", err)
	}
}

func TestMirrorURLAndRedact(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"GITEA_TOKEN": "abc123", "HOST": "git.example.org"}[k]
	}
	tests := []struct {
		template, url, redacted string
	}{
		{"https://oauth2:${GITEA_TOKEN}@git.example.org/dryad/{name}.git",
			"https://oauth2:abc123@git.example.org/dryad/demo.git", "https://oauth2:***@git.example.org/dryad/demo.git"},
		{"https://${GITEA_TOKEN}@${HOST}/{name}.git", "https://abc123@git.example.org/demo.git", "https://***@git.example.org/demo.git"},
		{"https://${UNSET}git.example.org/{name}/{name}.git", "https://git.example.org/demo/demo.git", "https://git.example.org/demo/demo.git"},
		{"git@git.example.org:dryad/{name}.git", "git@git.example.org:dryad/demo.git", "git@git.example.org:dryad/demo.git"},
		{"ssh://git@git.example.org/dryad/{name}.git", "ssh://git@git.example.org/dryad/demo.git", "ssh://***@git.example.org/dryad/demo.git"},
		{"/srv/mirrors/{name}.git", "/srv/mirrors/demo.git", "/srv/mirrors/demo.git"},
		{"file:///srv/{name}.git?x=$HOME", "file:///srv/demo.git?x=$HOME", "file:///srv/demo.git?x=$HOME"},
		{"https://u:p@ss@h/{name}", "https://u:p@ss@h/demo", "https://u:***@h/demo"},
	}
	for _, tt := range tests {
		got := MirrorURL(tt.template, "demo", env)
		if got != tt.url {
			t.Errorf("MirrorURL(%q) = %q, want %q", tt.template, got, tt.url)
		}
		if r := Redact(got); r != tt.redacted {
			t.Errorf("Redact(%q) = %q, want %q", got, r, tt.redacted)
		}
	}
	if got := MirrorURL("https://${GITEA_TOKEN}@h/{name}", "demo", nil); got != "https://@h/demo" {
		t.Errorf("nil env: %q", got)
	}
}
