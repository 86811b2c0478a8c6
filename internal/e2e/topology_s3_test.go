package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/testenv"
)

// TestProductionTopologyS3 is the second production shape: two instances
// with folders of their own, sharing only PostgreSQL, Redis and an S3
// bucket, behind nginx. A version published through one is installed
// (metadata, archive, checksum) and cloned from the other with the same
// commit ids; while S3 is down cached metadata is still served, downloads
// and publishes answer 503 and nothing is half-written; once it is back
// everything works again and verify finds nothing wrong.
func TestProductionTopologyS3(t *testing.T) {
	testenv.LookPath(t, "git")
	dbURL := testenv.NewPostgresDatabase(t)
	rds := testenv.StartRedis(t, testenv.RedisOptions{Password: true})
	gw := testenv.StartS3(t)
	e := newEdge(t)
	env := s3Env(gw.S3, "REDIS_URL", rds.URL(), "TRUSTED_PROXIES", "127.0.0.1/32", "PUBLIC_URL", e.base(),
		"DOMAIN", topoDomain, "GIT_PER_INSTANCE", "true",
		// Every download reads S3, so that the outage below reaches them
		// (TestS3Outage covers the small archives kept in memory).
		"ARCHIVE_CACHE_SIZE", "0")
	a := startRegistry(t, regOptions{DatabaseURL: dbURL, Env: env})
	b := startRegistry(t, regOptions{DatabaseURL: dbURL, Env: env})
	if a.DataDir == b.DataDir {
		t.Fatal("the instances share a folder")
	}
	e.start(strings.TrimPrefix(a.URL, "http://"), strings.TrimPrefix(b.URL, "http://"))
	c := e.client
	tok := a.apiToken(a.signUp("topo"), []string{"publish"})
	publish := func(r *testRegistry, status int, version string) *response {
		t.Helper()
		return r.expect(status, "POST", "/api/upload", tok,
			pkg{name: "spread", version: version, files: map[string]string{"lib.dryad": "// " + version}}.archive(t),
			"Content-Type", "application/gzip")
	}
	// installed fetches a version's metadata and archive from r and the
	// edge, checks the checksum and returns the archive.
	installed := func(r *testRegistry, version string) []byte {
		t.Helper()
		sum, _ := r.expect(200, "GET", "/api/packages/spread/versions/"+version, "", nil).JSON(t)["checksum"].(string)
		body := r.expect(200, "GET", "/packages/spread/"+version+".tar.gz", "", nil).Body
		if got := sha256.Sum256(body); hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s %s: the archive does not match its checksum %s", r.URL, version, sum)
		}
		if via := expectVia(t, c, 200, "GET", e.base()+"/packages/spread/"+version+".tar.gz", "", nil).Body; !bytes.Equal(via, body) {
			t.Errorf("%s through the edge differs from %s's", version, r.URL)
		}
		return body
	}
	sameGit := func(version string) map[string]string {
		t.Helper()
		var refs map[string]string
		testenv.Eventually(t, "v"+version+" on both instances' git", func() (bool, string) {
			ra, rb := remoteRefs(t, a.URL+"/git/spread.git"), remoteRefs(t, b.URL+"/git/spread.git")
			refs = ra
			return ra["refs/tags/v"+version] != "" && fmt.Sprint(ra) == fmt.Sprint(rb), fmt.Sprint(ra, " and ", rb)
		})
		return refs
	}

	publish(a, 201, "1.0.0")
	v1 := installed(b, "1.0.0")
	refs := sameGit("1.0.0")
	clone := filepath.Join(t.TempDir(), "spread")
	testenv.MustGit(t, "", "clone", "--quiet", b.URL+"/git/spread.git", clone)
	if got := testenv.MustGit(t, clone, "rev-parse", "v1.0.0^{commit}"); got != a.gitCommit("spread", "1.0.0") || got != refs["refs/tags/v1.0.0"] {
		t.Errorf("cloned from the other instance: 1.0.0 at %s, recorded %s", got, a.gitCommit("spread", "1.0.0"))
	}
	expectVia(t, c, 200, "GET", e.base()+"/api/packages/spread", "", nil)

	// S3 down.
	gw.Stop()
	for _, r := range []*testRegistry{a, b} {
		r.expect(200, "GET", "/api/packages/spread", "", nil)
		if res := r.do("GET", "/packages/spread/1.0.0.tar.gz", "", nil); res.Status != 503 || !strings.Contains(string(res.Body), "unavailable") {
			t.Errorf("%s: a download with S3 down: %d %s", r.URL, res.Status, res.Body)
		}
	}
	expectVia(t, c, 200, "GET", e.base()+"/api/packages/spread", "", nil)
	if res := publish(b, 503, "1.1.0"); !strings.Contains(string(res.Body), "unavailable") {
		t.Errorf("a publish with S3 down: %s", res.Body)
	}
	a.expect(404, "GET", "/api/packages/spread/versions/1.1.0", "", nil)

	// S3 back.
	gw.Start(t)
	testenv.Eventually(t, "health once S3 is back", func() (bool, string) {
		res := b.do("GET", "/api/health", "", nil)
		return res.Status == 200, string(res.Body)
	})
	if !bytes.Equal(installed(a, "1.0.0"), v1) {
		t.Error("1.0.0 changed across the outage")
	}
	publish(b, 201, "1.1.0")
	installed(a, "1.1.0")
	sameGit("1.1.0")
	a.waitQueueEmpty()
	if out := mustCommand(t, target{DataDir: a.DataDir, DatabaseURL: dbURL, Env: env}, "verify"); !strings.Contains(out, "verify: no problems") {
		t.Errorf("verify after the outage:\n%s", out)
	}
}
