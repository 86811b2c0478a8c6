package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/config"
	"github.com/dryad-lang/registry/internal/testenv"
)

// target is where a command runs: a data folder and, for PostgreSQL, a
// database; Env adds settings (an S3 bucket); the other settings are the
// harness's.
type target struct {
	DataDir, DatabaseURL string
	Env                  map[string]string
}

func (r *testRegistry) target() target {
	return target{DataDir: r.DataDir, DatabaseURL: r.Config.DatabaseURL}
}

// start serves the target's registry.
func (tg target) start(t *testing.T) *testRegistry {
	return startRegistry(t, regOptions{DataDir: tg.DataDir, DatabaseURL: tg.DatabaseURL, Env: tg.Env})
}

// newTarget is an empty registry's place, on the given engine.
func newTarget(t *testing.T, engine string) target {
	tg := target{DataDir: t.TempDir()}
	if engine == "postgres" {
		tg.DatabaseURL = testenv.NewPostgresDatabase(t)
	}
	return tg
}

// opsCommand runs dryad-registry in-process against a target and returns its
// exit status, standard output and standard error.
func opsCommand(t *testing.T, tg target, args ...string) (int, string, string) {
	t.Helper()
	environ := []string{"DATA_DIR=" + tg.DataDir, "JWT_SECRET=test-secret-0123456789abcdef", "BCRYPT_COST=4", "LOG_LEVEL=warn"}
	if tg.DatabaseURL != "" {
		environ = append(environ, "DATABASE_URL="+tg.DatabaseURL)
	}
	for k, v := range tg.Env {
		environ = append(environ, k+"="+v)
	}
	return invocation{Env: environ}.run(t, args...)
}

// mustCommand runs a command that must succeed and returns its output.
func mustCommand(t *testing.T, tg target, args ...string) string {
	t.Helper()
	code, out, errOut := opsCommand(t, tg, args...)
	if code != 0 {
		t.Fatalf("dryad-registry %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

var backupPathRE = regexp.MustCompile(`backup written: (\S+\.tar) `)

// makeBackup runs the backup command and returns the file it wrote.
func makeBackup(t *testing.T, tg target, dir string, extra ...string) string {
	t.Helper()
	out := mustCommand(t, tg, append([]string{"backup", "--out", dir}, extra...)...)
	m := backupPathRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("backup did not name its file:\n%s", out)
	}
	return m[1]
}

// backupContent is what a test reads back from a backup file, with the
// plain tar and gzip readers rather than the code under test.
type backupContent struct {
	members  []string
	archives map[string][]byte
	tables   map[string][]map[string]any
	manifest map[string]any
}

func readBackup(t *testing.T, path string) *backupContent {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := &backupContent{archives: map[string][]byte{}, tables: map[string][]map[string]any{}}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("backup is not a tar file: %v", err)
		}
		c.members = append(c.members, h.Name)
		body, _ := io.ReadAll(tr)
		switch {
		case strings.HasPrefix(h.Name, "packages/sha256/"):
			c.archives[strings.TrimSuffix(filepath.Base(h.Name), ".tar.gz")] = body
		case strings.HasPrefix(h.Name, "metadata/"):
			gz, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("%s: %v", h.Name, err)
			}
			dec := json.NewDecoder(gz)
			var head struct {
				Table   string
				Columns []string
			}
			if err := dec.Decode(&head); err != nil {
				t.Fatalf("%s: header: %v", h.Name, err)
			}
			c.tables[head.Table] = []map[string]any{}
			for dec.More() {
				var row []any
				if err := dec.Decode(&row); err != nil {
					t.Fatalf("%s: %v", h.Name, err)
				}
				m := map[string]any{}
				for i, col := range head.Columns {
					m[col] = row[i]
				}
				c.tables[head.Table] = append(c.tables[head.Table], m)
			}
		case h.Name == "manifest.json":
			if err := json.Unmarshal(body, &c.manifest); err != nil {
				t.Fatalf("manifest.json: %v", err)
			}
		}
	}
	return c
}

// A backup taken while publishes keep coming is one consistent snapshot:
// every version row in it has its archive in it, with the bytes the row's
// checksum names; and it restores into a registry that verify finds sound.
func TestBackupWhilePublishing(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		r := startRegistry(t, regOptions{Engine: engine})
		jwt := r.signUp("busy")
		tok := r.apiToken(jwt, []string{"publish"})
		for i := range 3 {
			r.expect(201, "POST", "/api/upload", tok, pkg{name: "steady", version: fmt.Sprintf("1.0.%d", i)}.archive(t), "Content-Type", "application/gzip")
		}

		var published atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				res := r.publish(tok, pkg{name: "busy", version: fmt.Sprintf("0.%d.0", i), files: map[string]string{"data.txt": strings.Repeat("x", i*100)}}.archive(t))
				if res.Status != 201 {
					t.Errorf("publish during backup: %d %s", res.Status, res.Body)
					return
				}
				published.Add(1)
			}
		}()
		dir := t.TempDir()
		var files []string
		for range 3 {
			files = append(files, makeBackup(t, r.target(), dir))
		}
		close(stop)
		wg.Wait()
		if published.Load() == 0 {
			t.Fatal("no publish happened during the backups")
		}

		for _, f := range files {
			c := readBackup(t, f)
			if c.members[0] != "backup.json" || c.members[len(c.members)-1] != "manifest.json" {
				t.Errorf("%s: members run from %s to %s", f, c.members[0], c.members[len(c.members)-1])
			}
			versions := c.tables["versions"]
			if len(versions) < 3 {
				t.Fatalf("%s holds %d versions", f, len(versions))
			}
			for _, v := range versions {
				sum := v["checksum"].(string)
				body, ok := c.archives[sum]
				if !ok {
					t.Errorf("%s: version %v has no archive in the backup", f, v["version"])
					continue
				}
				if got := sha256hex(body); got != sum {
					t.Errorf("%s: archive of %v has SHA-256 %s, row says %s", f, v["version"], got, sum)
				}
			}
			if len(c.archives) != len(versions) {
				t.Errorf("%s: %d archives for %d versions", f, len(c.archives), len(versions))
			}
			counts := c.manifest["counts"].(map[string]any)
			if int(counts["archives"].(float64)) != len(c.archives) {
				t.Errorf("%s: manifest counts %v archives, the file holds %d", f, counts["archives"], len(c.archives))
			}
			if _, ok := c.tables["sessions"]; ok {
				t.Errorf("%s: web sessions are in the backup", f)
			}
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") {
				t.Errorf("leftover in the backup folder: %s", e.Name())
			}
		}

		// The last backup restores into a registry that verify finds sound.
		restored := newTarget(t, engine)
		mustCommand(t, restored, "restore", "--in", files[len(files)-1])
		out := mustCommand(t, restored, "verify")
		if !strings.Contains(out, "no problems") {
			t.Errorf("verify after restore:\n%s", out)
		}
	})
}

// A registry restored from a backup, into SQLite or into PostgreSQL,
// answers the API exactly as the original did and serves the same bytes;
// its users log in with their passwords and their API tokens still work.
func TestRestoreGivesIdenticalRegistry(t *testing.T) {
	src := startRegistry(t, regOptions{Engine: "sqlite"})
	alice := src.signUp("alice")
	bob := src.signUp("bob")
	aliceTok := src.apiToken(alice, []string{"publish", "yank", "owners"})
	up := func(p pkg) {
		t.Helper()
		src.expect(201, "POST", "/api/upload", aliceTok, p.archive(t), "Content-Type", "application/gzip")
	}
	up(pkg{name: "corelib", version: "1.0.0", fields: map[string]any{"keywords": []string{"base", "strings"}, "license": "MIT"}})
	up(pkg{name: "corelib", version: "1.1.0", files: map[string]string{"README.md": "# Core\n\nThe **core** library.\n"}})
	up(pkg{name: "corelib", version: "2.0.0-beta.1"})
	up(pkg{name: "web_kit", version: "0.3.0", fields: map[string]any{"dependencies": map[string]string{"corelib": "^1.0.0"}, "description": "Ünïcode web kit"}})
	src.expect(200, "PUT", "/api/packages/corelib/versions/1.0.0/yank", aliceTok, nil)
	src.expect(200, "PUT", "/api/packages/corelib/owners", aliceTok, map[string]any{"users": []string{"bob"}})
	// A webhook (inactive: nothing is sent) is carried with its secret.
	src.expect(201, "POST", "/api/packages/corelib/webhooks", aliceTok, map[string]any{
		"url": "https://203.0.113.9/hook", "secret": "carried over by backups", "events": []string{"version.yanked"}, "active": false})
	for range 3 {
		src.expect(200, "GET", "/packages/corelib/1.1.0.tar.gz", "", nil)
	}
	src.expect(200, "GET", "/packages/web_kit/0.3.0.tar.gz", "", nil)
	src.Stop() // flushes the download counts
	_ = bob

	// The source, serving again from the same data.
	src = startRegistry(t, regOptions{DataDir: src.DataDir})
	paths := []string{
		"/api/packages/corelib", "/api/packages/web_kit", "/api/packages/corelib/versions", "/api/packages/corelib/versions/1.0.0",
		"/api/packages/corelib/resolve?range=^1.0.0", "/api/packages/corelib/owners", "/api/packages/corelib/stats",
		"/api/packages/web_kit/stats", "/api/packages/corelib/history", "/api/packages?sort=name", "/api/search?q=kit",
		"/api/search?q=strings", "/api/stats",
	}
	answers := func(r *testRegistry) map[string]string {
		out := map[string]string{}
		for _, p := range paths {
			out[p] = strings.ReplaceAll(string(r.expect(200, "GET", p, "", nil).Body), r.URL, "BASE")
		}
		for _, v := range []string{"corelib/1.0.0", "corelib/1.1.0", "corelib/2.0.0-beta.1", "web_kit/0.3.0"} {
			out[v+".tar.gz"] = string(r.expect(200, "GET", "/packages/"+v+".tar.gz", "", nil).Body)
		}
		return out
	}
	// Git commits are recorded by a background worker: let it finish, so
	// the answers (which show each version's commit) are final.
	src.waitQueueEmpty()
	want := answers(src)
	file := makeBackup(t, src.target(), t.TempDir())
	src.Stop()

	// restoreInto restores a backup into tg and checks that its registry
	// answers as the original did; the registry is left serving.
	restoreInto := func(t *testing.T, tg target, file, engine string) *testRegistry {
		t.Helper()
		out := mustCommand(t, tg, "restore", "--in", file)
		if !strings.Contains(out, "into "+engine) || !strings.Contains(out, "2 users, 2 packages, 4 versions, 4 archives") {
			t.Errorf("restore summary: %s", out)
		}
		r := tg.start(t)
		r.waitQueueEmpty()
		got := answers(r)
		for _, p := range append(paths, "corelib/1.0.0.tar.gz", "corelib/1.1.0.tar.gz", "corelib/2.0.0-beta.1.tar.gz", "web_kit/0.3.0.tar.gz") {
			if got[p] != want[p] {
				t.Errorf("%s differs after restore:\n original %.600s\n restored %.600s", p, want[p], got[p])
			}
		}
		return r
	}
	// From the disk into a bucket, and back: the same answers and bytes.
	// The way back is backed up before the registry in S3 serves (and
	// counts) a download.
	t.Run("s3", func(t *testing.T) {
		s3 := newTarget(t, "sqlite")
		s3.Env = s3Env(testenv.NewS3Bucket(t))
		if out := mustCommand(t, s3, "restore", "--in", file); !strings.Contains(out, "4 archives") {
			t.Errorf("restore into S3: %s", out)
		}
		if out := mustCommand(t, s3, "verify"); !strings.Contains(out, "verify: no problems; 4 versions, 4 archives and 8 log records checked") {
			t.Errorf("verify of the registry in S3:\n%s", out)
		}
		back := makeBackup(t, s3, t.TempDir())
		restoreInto(t, newTarget(t, "sqlite"), back, "sqlite")

		r := s3.start(t)
		r.waitQueueEmpty()
		got := answers(r)
		for p := range want {
			if got[p] != want[p] {
				t.Errorf("%s differs in S3:\n original %.600s\n restored %.600s", p, want[p], got[p])
			}
		}
	})

	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			if engine == "postgres" {
				testenv.PostgresURL(t)
			}
			tg := newTarget(t, engine)
			r := restoreInto(t, tg, file, engine)
			// Passwords, API tokens and ids carry over; new records follow.
			r.login("bob")
			if hooks := string(r.expect(200, "GET", "/api/packages/corelib/webhooks", aliceTok, nil).Body); !strings.Contains(hooks, `"url":"https://203.0.113.9/hook","events":["version.yanked"],"active":false`) {
				t.Errorf("webhooks after restore: %s", hooks)
			}
			r.expect(201, "POST", "/api/upload", aliceTok, pkg{name: "corelib", version: "2.0.0"}.archive(t), "Content-Type", "application/gzip")
			r.signUp("carol")
			r.expect(409, "POST", "/api/upload", aliceTok, pkg{name: "corelib", version: "1.1.0"}.archive(t), "Content-Type", "application/gzip")
		})
	}
}

// --keep N leaves the newest N backups and nothing else is touched.
func TestBackupKeep(t *testing.T) {
	r := startRegistry(t, regOptions{})
	tok := r.signUp("keeper")
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "kept", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
	dir := t.TempDir()
	other := filepath.Join(dir, "notes.txt")
	os.WriteFile(other, []byte("not a backup"), 0o644)
	var made []string
	for range 4 {
		made = append(made, makeBackup(t, r.target(), dir, "--keep", "2"))
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	wantNames := []string{filepath.Base(made[2]), filepath.Base(made[3]), "notes.txt"}
	if strings.Join(names, " ") != strings.Join(wantNames, " ") {
		t.Errorf("folder after 4 backups with --keep 2: %v, want %v", names, wantNames)
	}
	for i := 1; i < len(made); i++ {
		if made[i] <= made[i-1] {
			t.Errorf("backup names do not sort in creation order: %s then %s", made[i-1], made[i])
		}
	}
	for _, args := range [][]string{{"backup"}, {"backup", "--out", dir, "--keep", "-1"}, {"restore"}} {
		if code, _, errOut := opsCommand(t, r.target(), args...); code != 2 || errOut == "" {
			t.Errorf("%v: exit %d, %q; want 2 and a message", args, code, errOut)
		}
	}
}

// A damaged backup is refused before anything is written, with a message
// naming the damaged member; a non-empty target is refused without
// --force; --force replaces what the target held.
func TestRestoreRefusals(t *testing.T) {
	r := startRegistry(t, regOptions{})
	tok := r.signUp("owner")
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "solid", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "solid", version: "1.0.1"}.archive(t), "Content-Type", "application/gzip")
	good := makeBackup(t, r.target(), t.TempDir())
	r.Stop()

	damaged := func(t *testing.T, member string, change func(b []byte) []byte) string {
		t.Helper()
		in, err := os.Open(good)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		path := filepath.Join(t.TempDir(), "damaged.tar")
		out, _ := os.Create(path)
		defer out.Close()
		tr, tw := tar.NewReader(in), tar.NewWriter(out)
		found := ""
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			b, _ := io.ReadAll(tr)
			if found == "" && strings.HasPrefix(h.Name, member) {
				found = h.Name
				b = change(b)
				h.Size = int64(len(b))
			}
			tw.WriteHeader(h)
			tw.Write(b)
		}
		tw.Close()
		if found == "" {
			t.Fatalf("no member %s in the backup", member)
		}
		return path
	}
	flip := func(b []byte) []byte { b[len(b)/2] ^= 0x01; return b }
	emptyTarget := func(t *testing.T, tg target) {
		t.Helper()
		mustCommand(t, tg, "verify") // opens the store; no versions, no archives
		files, _ := filepath.Glob(filepath.Join(tg.DataDir, "packages", "sha256", "*", "*"))
		if len(files) != 0 {
			t.Errorf("target holds archives after a refused restore: %v", files)
		}
		if n, _ := openStore(t, mustConfig(t, tg)).CountUsers(t.Context()); n != 0 {
			t.Errorf("target holds %d users after a refused restore", n)
		}
	}

	cases := []struct {
		name, file, want string
	}{
		{"archive byte flipped", damaged(t, "packages/", flip), "is damaged"},
		{"metadata byte flipped", damaged(t, "metadata/versions", flip), "metadata/versions.jsonl.gz is damaged"},
		{"manifest altered", damaged(t, "manifest.json", func(b []byte) []byte { return bytes.Replace(b, []byte(`"size":`), []byte(`"size":1`), 1) }), "manifest.json is damaged"},
		{"cut short", func() string {
			b, _ := os.ReadFile(good)
			p := filepath.Join(t.TempDir(), "short.tar")
			os.WriteFile(p, b[:len(b)*2/3], 0o644)
			return p
		}(), "cannot be restored"},
		{"not a backup", func() string {
			p := filepath.Join(t.TempDir(), "x.tar")
			os.WriteFile(p, tarBytes(t, map[string]string{"hello.txt": "hi"}), 0o644)
			return p
		}(), "not a Dryad registry backup"},
		{"missing file", filepath.Join(t.TempDir(), "none.tar"), "opening the backup"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := newTarget(t, "sqlite")
			code, out, errOut := opsCommand(t, tg, "restore", "--in", c.file)
			if code != 1 || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stderr %q (stdout %q); want 1 and %q", code, errOut, out, c.want)
			}
			emptyTarget(t, tg)
		})
	}
	if !strings.Contains(cases[0].file, "damaged") {
		t.Fatal("case files were not made")
	}

	t.Run("not empty", func(t *testing.T) {
		tg := newTarget(t, "sqlite")
		mustCommand(t, tg, "restore", "--in", good)
		code, _, errOut := opsCommand(t, tg, "restore", "--in", good)
		if code != 1 || !strings.Contains(errOut, "not empty") || !strings.Contains(errOut, "--force") {
			t.Errorf("second restore: exit %d, %q", code, errOut)
		}
		// --force replaces the contents; a record made meanwhile is gone.
		r := startRegistry(t, regOptions{DataDir: tg.DataDir})
		r.signUp("intruder")
		r.Stop()
		mustCommand(t, tg, "restore", "--force", "--in", good)
		r = startRegistry(t, regOptions{DataDir: tg.DataDir})
		r.expect(401, "POST", "/api/auth/login", "", map[string]string{"username": "intruder", "password": "correct-horse-intruder"})
		r.login("owner")
		r.expect(200, "GET", "/packages/solid/1.0.1.tar.gz", "", nil)
	})
}

func mustConfig(t *testing.T, tg target) *config.Config {
	t.Helper()
	environ := []string{"DATA_DIR=" + tg.DataDir, "JWT_SECRET=test-secret-0123456789abcdef"}
	if tg.DatabaseURL != "" {
		environ = append(environ, "DATABASE_URL="+tg.DatabaseURL)
	}
	cfg, err := config.Load(config.Options{WorkDir: t.TempDir(), Environ: environ})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// tarBytes is an uncompressed tar of files.
func tarBytes(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))})
		tw.Write([]byte(body))
	}
	tw.Close()
	return buf.Bytes()
}

// --with-git copies the repositories of GIT_DIR, each under its writers'
// lock, and restore puts them back as git sees them: same refs, same
// objects, a clean fsck.
func TestBackupWithGit(t *testing.T) {
	gitBin := testenv.LookPath(t, "git")
	src := newTarget(t, "sqlite")
	mustCommand(t, src, "verify") // creates the empty registry
	repo := filepath.Join(src.DataDir, "git", "demo.git")
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command(gitBin, append([]string{"--git-dir", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.org", "GIT_COMMITTER_NAME=a",
			"GIT_COMMITTER_EMAIL=a@example.org", "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if out, err := exec.Command(gitBin, "init", "--bare", "-q", repo).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	commit := func(msg string) string {
		tree := git(repo, "mktree")
		c := git(repo, "commit-tree", tree, "-m", msg)
		git(repo, "update-ref", "refs/heads/main", c)
		return c
	}
	first := commit("first")
	git(repo, "tag", "v1.0.0", first)
	os.MkdirAll(filepath.Join(src.DataDir, "git", ".tmp-half-made"), 0o755)

	// While a writer holds the repository's lock the backup waits; what the
	// writer did under it is in the backup.
	lock, err := os.OpenFile(filepath.Join(repo, "dryad.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	done := make(chan string, 1)
	go func() {
		_, out, errOut := opsCommand(t, src, "backup", "--with-git", "--out", dir)
		done <- out + errOut
	}()
	time.Sleep(300 * time.Millisecond)
	select {
	case out := <-done:
		t.Fatalf("backup finished while a writer held the repository's lock:\n%s", out)
	default:
	}
	second := commit("second")
	syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	lock.Close()
	out := <-done
	m := backupPathRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("backup --with-git:\n%s", out)
	}
	c := readBackup(t, m[1])
	for _, name := range c.members {
		if strings.Contains(name, ".tmp-") || strings.HasSuffix(name, "dryad.lock") {
			t.Errorf("backup holds %s", name)
		}
	}

	dst := newTarget(t, "sqlite")
	mustCommand(t, dst, "restore", "--in", m[1])
	restored := filepath.Join(dst.DataDir, "git", "demo.git")
	if got := git(restored, "rev-parse", "refs/heads/main"); got != second {
		t.Errorf("restored main = %s, want %s", got, second)
	}
	if got := git(restored, "rev-parse", "v1.0.0"); got != first {
		t.Errorf("restored tag = %s, want %s", got, first)
	}
	git(restored, "fsck", "--strict")
}
