package gitrepo

import (
	"testing"
)

func TestSmoke(t *testing.T) {
	r := newRepos(t)
	c1 := commit(t, r, "demo", "1.0.0", "", 0, true)
	c2 := commit(t, r, "demo", "1.1.0", c1, 1, true)
	t.Log(c1, c2)
	t.Log(mustGit(t, r.dir("demo"), "log", "--format=%H %P %an %ae %ad %s", "--all"))
	t.Log(mustGit(t, r.dir("demo"), "for-each-ref"))
	t.Log(mustGit(t, r.dir("demo"), "ls-tree", "-r", "main"))
	t.Log(mustGit(t, r.dir("demo"), "cat-file", "-p", "v1.1.0"))
	t.Log(mustGit(t, r.dir("demo"), "fsck", "--strict"))
}
