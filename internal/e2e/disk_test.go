package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dryad-lang/registry/internal/testenv"
)

// smallDisk mounts a tmpfs of size (such as "16m") on a new folder and
// unmounts it when the test ends: a disk the test can fill.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		testenv.Missing(t, fmt.Sprintf("a small disk (mount -t tmpfs needs root): %v %s", err, out))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill writes a file in dir until the disk is full but for about leave
// bytes, and returns its path.
func fill(t *testing.T, dir string, leave int64) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 16<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling %s: %v", dir, err)
			}
			if leave > 0 {
				info, _ := f.Stat()
				f.Truncate(max(0, info.Size()-leave))
			}
			return p
		}
	}
}

// TestFullDisk fills the disk under package storage, then under git: a
// publish answers 507 saying storage is full and stores nothing, reads go
// on, health says why; once space is back publishes work, and the git
// worker, having removed what its failed writes left, catches up.
func TestFullDisk(t *testing.T) {
	testenv.LookPath(t, "git")
	data, gitDisk := smallDisk(t, "32m"), smallDisk(t, "2m")
	gitDir := filepath.Join(gitDisk, "repos")
	r := startRegistry(t, regOptions{DataDir: data, Env: map[string]string{"GIT_DIR": gitDir}})
	tok := r.signUp("filler")
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "steady", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
	r.waitQueueEmpty()
	health := func() (int, map[string]any) {
		res := r.do("GET", "/api/health", "", nil)
		return res.Status, res.JSON(t)
	}

	// Package storage full.
	filler := fill(t, data, 0)
	res := r.publish(tok, pkg{name: "steady", version: "1.1.0", files: map[string]string{"data.bin": randomText(t, 64<<10)}}.archive(t))
	var e errorJSON
	json.Unmarshal(res.Body, &e)
	if res.Status != 507 || e.Error != "storage_full" || !strings.Contains(e.Message, "storage is full") {
		t.Errorf("publish on a full disk: %d %s", res.Status, res.Body)
	}
	r.expect(404, "GET", "/api/packages/steady/versions/1.1.0", "", nil)
	r.expect(200, "GET", "/api/packages/steady", "", nil)
	r.expect(200, "GET", "/packages/steady/1.0.0.tar.gz", "", nil)
	status, h := health()
	storage, _ := h["checks"].(map[string]any)["storage"].(map[string]any)
	if status != 200 || h["status"] != "degraded" || !strings.Contains(fmt.Sprint(storage["error"]), "storage is full") {
		t.Errorf("health with a full disk: %d %v", status, h)
	}
	os.Remove(filler)
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "steady", version: "1.1.0"}.archive(t), "Content-Type", "application/gzip")
	r.waitQueueEmpty()

	// Git's disk full but for a little, so that git starts the version's
	// pack and fails in the middle: the publish succeeds, its commit waits,
	// and git's half-written pack is removed at once.
	filler = fill(t, gitDisk, 96<<10)
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "steady", version: "1.2.0", files: map[string]string{"data.bin": randomText(t, 256<<10)}}.archive(t), "Content-Type", "application/gzip")
	gitHealth := func() map[string]any {
		_, h := health()
		git, _ := h["checks"].(map[string]any)["git"].(map[string]any)
		return git
	}
	testenv.Eventually(t, "the commit of 1.2.0 to fail", func() (bool, string) {
		git := gitHealth()
		info, _ := git["info"].(map[string]any)
		return info["failing_jobs"] == float64(1), fmt.Sprint(git)
	})
	tempPacks := func() []string {
		left, _ := filepath.Glob(filepath.Join(gitDir, "*", "objects", "pack", "tmp_*"))
		return left
	}
	if left := tempPacks(); len(left) != 0 {
		t.Errorf("temporary git files left after the failed commit: %v", left)
	}
	// Quite full: health says so.
	rest := fill(t, gitDisk, 0)
	testenv.Eventually(t, "the git check to report the full disk", func() (bool, string) {
		git := gitHealth()
		return strings.Contains(fmt.Sprint(git["error"]), "storage is full"), fmt.Sprint(git)
	})
	// Space back: the worker catches up.
	os.Remove(rest)
	os.Remove(filler)
	testenv.Eventually(t, "the commit of 1.2.0", func() (bool, string) {
		c := r.gitCommit("steady", "1.2.0")
		return c != "", "none yet"
	})
	if left := tempPacks(); len(left) != 0 {
		t.Errorf("temporary git files left: %v", left)
	}
}
