package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/testenv"
)

// verify passes on a healthy registry, and names each problem: the version
// whose archive had one byte changed, the version whose archive is gone,
// and the archive that no version refers to.
func TestVerify(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		r := startRegistry(t, regOptions{Engine: engine})
		tok := r.signUp("checker")
		sums := map[string]string{}
		for _, p := range []pkg{{name: "alpha", version: "1.0.0"}, {name: "alpha", version: "1.1.0"}, {name: "beta", version: "0.1.0"}, {name: "gamma", version: "2.0.0"}} {
			res := r.expect(201, "POST", "/api/upload", tok, p.archive(t), "Content-Type", "application/gzip").JSON(t)
			sums[p.name+"@"+p.version] = res["checksum"].(string)
		}
		r.expect(200, "DELETE", "/api/packages/gamma/versions/2.0.0", tok, nil)

		out := mustCommand(t, r.target(), "verify")
		if !strings.Contains(out, "verify: no problems; 4 versions, 4 archives and 8 log records checked") {
			t.Fatalf("verify on a healthy registry:\n%s", out)
		}

		archive := func(key string) string {
			s := sums[key]
			return filepath.Join(r.DataDir, "packages", "sha256", s[:2], s+".tar.gz")
		}
		// One byte of one archive changed.
		b, err := os.ReadFile(archive("alpha@1.1.0"))
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/3] ^= 0x20
		if err := os.WriteFile(archive("alpha@1.1.0"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := opsCommand(t, r.target(), "verify")
		if code != 1 || !strings.Contains(out, "alpha@1.1.0: archive "+sums["alpha@1.1.0"]+" is damaged") || !strings.Contains(errOut, "1 problems") {
			t.Fatalf("after changing a byte: exit %d\n%s%s", code, out, errOut)
		}
		if strings.Contains(out, "alpha@1.0.0") || strings.Contains(out, "beta") {
			t.Errorf("verify blames sound versions:\n%s", out)
		}

		// An archive gone (of a deleted version: those keep theirs), and one
		// that no version refers to.
		if err := os.Remove(archive("gamma@2.0.0")); err != nil {
			t.Fatal(err)
		}
		orphan := strings.Repeat("ab", 32)
		os.MkdirAll(filepath.Join(r.DataDir, "packages", "sha256", "ab"), 0o755)
		if err := os.WriteFile(filepath.Join(r.DataDir, "packages", "sha256", "ab", orphan+".tar.gz"), []byte("stray"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errOut = opsCommand(t, r.target(), "verify")
		for _, want := range []string{
			"alpha@1.1.0: archive " + sums["alpha@1.1.0"] + " is damaged",
			"gamma@2.0.0: archive " + sums["gamma@2.0.0"] + " is missing",
			"archive " + orphan + " has no version",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("verify output lacks %q", want)
			}
		}
		if code != 1 || !strings.Contains(errOut, "3 problems") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
		if t.Failed() {
			t.Logf("verify output:\n%s", out)
		}
	})
}

// An upload cut short by a crash (SIGKILL) leaves its temp files behind:
// verify reports them once they are older than the upload timeout, and the
// next start removes them.
func TestCrashLeavesNoTempFiles(t *testing.T) {
	dataDir := t.TempDir()
	r := startRegistry(t, regOptions{DataDir: dataDir})
	tok := r.signUp("crasher")
	tmp := filepath.Join(dataDir, "packages", "tmp")

	// An upload that sends half of a large archive, then waits.
	big := pkg{name: "big", version: "1.0.0", files: map[string]string{"data.bin": randomText(t, 4<<20)}}.archive(t)
	body, send := io.Pipe()
	go func() {
		send.Write(big[:len(big)/2])
		// The rest never comes: the server is killed first.
	}()
	go func() {
		req, _ := http.NewRequest("POST", r.URL+"/api/upload", body)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/gzip")
		req.ContentLength = int64(len(big))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	testenv.Eventually(t, "the upload's temp file", func() (bool, string) {
		entries, _ := os.ReadDir(tmp)
		return len(entries) > 0, fmt.Sprint(len(entries), " files")
	})
	r.Kill()
	send.CloseWithError(io.ErrUnexpectedEOF)

	entries, _ := os.ReadDir(tmp)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if len(left) == 0 {
		t.Fatal("the crash left no temp file to test with")
	}
	tg := r.target()
	// Younger than the upload timeout, they may belong to an upload still
	// running: not a problem yet.
	if out := mustCommand(t, tg, "verify"); !strings.Contains(out, "verify: no problems") {
		t.Errorf("verify with fresh temp files:\n%s", out)
	}
	old := time.Now().Add(-301 * time.Second)
	for _, name := range left {
		os.Chtimes(filepath.Join(tmp, name), old, old)
	}
	code, out, errOut := opsCommand(t, tg, "verify")
	if code != 1 || strings.Count(out, "is the leftover of an interrupted upload") != len(left) || !strings.Contains(errOut, fmt.Sprintf("%d problems", len(left))) {
		t.Errorf("verify with stale temp files %v: exit %d\n%s%s", left, code, out, errOut)
	}

	// The next start removes them.
	r = startRegistry(t, regOptions{DataDir: dataDir})
	testenv.Eventually(t, "an empty temp folder", func() (bool, string) {
		entries, _ := os.ReadDir(tmp)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return len(names) == 0, fmt.Sprint(names)
	})
	r.Stop()
	if out := mustCommand(t, tg, "verify"); !strings.Contains(out, "verify: no problems") {
		t.Errorf("verify after the restart:\n%s", out)
	}
	r2 := startRegistry(t, regOptions{DataDir: dataDir})
	r2.expect(404, "GET", "/api/packages/big", "", nil)
}

// A registry whose database is lost (the SQLite file deleted) refuses to
// start beside its package storage instead of sweeping every archive away;
// the sweep command lists and quarantines what no version refers to, and
// brings the quarantine back.
func TestLostDatabaseKeepsArchives(t *testing.T) {
	dataDir := t.TempDir()
	r := startRegistry(t, regOptions{DataDir: dataDir})
	tok := r.signUp("keeper")
	for _, v := range []string{"1.0.0", "1.1.0"} {
		r.expect(201, "POST", "/api/upload", tok, pkg{name: "precious", version: v}.archive(t), "Content-Type", "application/gzip")
	}
	r.Stop()
	archives := func() int {
		files, _ := filepath.Glob(filepath.Join(dataDir, "packages", "sha256", "*", "*.tar.gz"))
		return len(files)
	}
	if archives() != 2 {
		t.Fatalf("%d archives stored", archives())
	}
	tg := r.target()

	files, _ := filepath.Glob(filepath.Join(dataDir, "registry.db*"))
	for _, f := range files {
		os.Rename(f, f+".lost")
	}
	code, out, errOut := (invocation{Env: r.Env}).run(t, "serve")
	if code != 1 || !strings.Contains(errOut, "new or another registry's database") {
		t.Errorf("start on a lost database: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := opsCommand(t, tg, "sweep", "--remove", "--grace", "1ms"); code != 1 || !strings.Contains(errOut, "new or another registry's database") {
		t.Errorf("sweep on a lost database: exit %d\n%s%s", code, out, errOut)
	}
	if archives() != 2 {
		t.Fatalf("%d archives left after the refused starts, want 2", archives())
	}

	// The database back: the registry starts and serves both versions.
	for _, f := range files {
		os.Remove(f)
		os.Rename(f+".lost", f)
	}
	r = startRegistry(t, regOptions{DataDir: dataDir})
	r.expect(200, "GET", "/packages/precious/1.0.0.tar.gz", "", nil)
	r.Stop()

	// An archive no version refers to: listed, quarantined, brought back.
	stray := strings.Repeat("cd", 32)
	os.MkdirAll(filepath.Join(dataDir, "packages", "sha256", "cd"), 0o755)
	os.WriteFile(filepath.Join(dataDir, "packages", "sha256", "cd", stray+".tar.gz"), []byte("stray"), 0o644)
	if out := mustCommand(t, tg, "sweep", "--grace", "1ms"); !strings.Contains(out, stray+"\n") || !strings.Contains(out, "1 archives no version refers to") || archives() != 3 {
		t.Errorf("sweep listing:\n%s", out)
	}
	if out := mustCommand(t, tg, "sweep", "--remove", "--grace", "1ms"); !strings.Contains(out, "moved 1 archives") || archives() != 2 {
		t.Errorf("sweep --remove:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "packages", "quarantine", stray+".tar.gz")); err != nil {
		t.Errorf("the stray archive is not in quarantine: %v", err)
	}
	if out := mustCommand(t, tg, "sweep", "--restore"); !strings.Contains(out, "moved 1 archives from quarantine") || archives() != 3 {
		t.Errorf("sweep --restore:\n%s", out)
	}
}
