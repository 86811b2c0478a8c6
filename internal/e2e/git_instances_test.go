package e2e

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/dryad-lang/registry/internal/testenv"
)

// TestGitPerInstance runs registries that share PostgreSQL and an S3
// bucket but no folder: each keeps its own git repositories
// (GIT_PER_INSTANCE) by following the registry's record of changes, so a
// version published through one is cloned from the other with the same
// commit ids, a deletion through the other rewrites both histories alike,
// and an instance started later on an empty folder catches up.
func TestGitPerInstance(t *testing.T) {
	testenv.LookPath(t, "git")
	env := s3Env(testenv.NewS3Bucket(t), "GIT_PER_INSTANCE", "true")
	a := startRegistry(t, regOptions{Engine: "postgres", Env: env})
	b := startRegistry(t, regOptions{DatabaseURL: a.Config.DatabaseURL, Env: env})
	tok := a.apiToken(a.signUp("alice"), []string{"publish", "yank"})
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0"} {
		if res := a.publish(tok, pkg{name: "demo", version: v, files: map[string]string{"v.txt": v}}.archive(t)); res.Status != 201 {
			t.Fatalf("publish %s: %d %s", v, res.Status, res.Body)
		}
	}
	// same waits until every instance serves the same refs, and ok says
	// they are the ones expected.
	same := func(what string, ok func(map[string]string) bool, rs ...*testRegistry) map[string]string {
		t.Helper()
		var refs map[string]string
		testenv.Eventually(t, what, func() (bool, string) {
			first := remoteRefs(t, rs[0].URL+"/git/demo.git")
			for _, r := range rs[1:] {
				if got := remoteRefs(t, r.URL+"/git/demo.git"); fmt.Sprint(got) != fmt.Sprint(first) {
					return false, fmt.Sprint(first, " and ", got)
				}
			}
			refs = first
			return ok(first), fmt.Sprint(first)
		})
		return refs
	}
	refs := same("the same repository on both instances", func(r map[string]string) bool { return r["refs/tags/v2.0.0"] != "" }, a, b)
	if len(refs) != 4 || refs["refs/heads/main"] != refs["refs/tags/v2.0.0"] {
		t.Fatalf("refs: %v", refs)
	}
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0"} {
		if c := a.gitCommit("demo", v); c != refs["refs/tags/v"+v] {
			t.Errorf("recorded commit of %s = %s, served %s", v, c, refs["refs/tags/v"+v])
		}
	}

	// Deleted through the other instance: both rewrite the history alike.
	b.expect(200, "DELETE", "/api/packages/demo/versions/1.0.0", tok, nil)
	after := same("the history rewritten on both instances", func(r map[string]string) bool { _, ok := r["refs/tags/v1.0.0"]; return !ok }, b, a)
	if _, ok := after["refs/tags/v1.0.0"]; ok || len(after) != 3 || after["refs/tags/v1.1.0"] == refs["refs/tags/v1.1.0"] {
		t.Errorf("refs after deleting 1.0.0: %v (before: %v)", after, refs)
	}
	for _, r := range []*testRegistry{a, b} {
		if _, err := testenv.Git(t, filepath.Join(r.Config.GitDir, "demo.git"), "cat-file", "-e", refs["refs/tags/v1.0.0"]); err == nil {
			t.Errorf("%s still holds the deleted version's commit", r.URL)
		}
	}

	// An instance that was stopped meanwhile carries on from where it was.
	b.Stop()
	if res := a.publish(tok, pkg{name: "demo", version: "2.1.0", files: map[string]string{"v.txt": "2.1.0"}}.archive(t)); res.Status != 201 {
		t.Fatalf("publish 2.1.0: %d %s", res.Status, res.Body)
	}
	b = startRegistry(t, regOptions{DatabaseURL: a.Config.DatabaseURL, DataDir: b.DataDir, Env: env})
	after = same("2.1.0 on the restarted instance", func(r map[string]string) bool {
		return r["refs/heads/main"] != "" && r["refs/heads/main"] == r["refs/tags/v2.1.0"]
	}, a, b)

	// A third instance on an empty folder catches up at its start.
	c := startRegistry(t, regOptions{DatabaseURL: a.Config.DatabaseURL, Env: env})
	if got := same("the same repository on a new instance", func(r map[string]string) bool { return len(r) > 0 }, a, c); fmt.Sprint(got) != fmt.Sprint(after) {
		t.Errorf("refs of the new instance: %v, want %v", got, after)
	}
	a.waitQueueEmpty()
}
