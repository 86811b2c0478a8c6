package e2e

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/dryad-lang/registry/internal/testenv"
)

// s3Env is the settings of a registry keeping its archives in bucket.
func s3Env(b testenv.S3, extra ...string) map[string]string {
	env := map[string]string{
		"BLOB_STORE": "s3", "S3_ENDPOINT": b.Endpoint, "S3_BUCKET": b.Bucket, "S3_ACCESS_KEY_ID": b.AccessKeyID,
		"S3_SECRET_ACCESS_KEY": b.SecretAccessKey, "S3_FORCE_PATH_STYLE": "true", "S3_PREFIX": "registry/",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return env
}

// TestS3Archives publishes and downloads with the archives in S3: the
// bytes, checksum, ETag and ranges are those of the fs store, health
// reports the bucket, and with S3_REDIRECT_DOWNLOADS a download is a 302
// to the bucket, still counted.
func TestS3Archives(t *testing.T) {
	bucket := testenv.NewS3Bucket(t)
	dir := t.TempDir()
	r := startRegistry(t, regOptions{DataDir: dir, Env: s3Env(bucket)})
	tok := r.signUp("sam")
	archive := pkg{name: "clouded", version: "1.0.0"}.archive(t)
	pub := r.expect(201, "POST", "/api/upload", tok, archive, "Content-Type", "application/gzip").JSON(t)
	sum := pub["checksum"].(string)

	// The archive is an object of the bucket, under the prefix.
	ctx := context.Background()
	info, err := bucket.Client(t).StatObject(ctx, bucket.Bucket, "registry/blobs/"+sum, minio.StatObjectOptions{})
	if err != nil || info.Size != int64(pub["file_size"].(float64)) {
		t.Fatalf("object registry/blobs/%s: %+v, %v", sum, info, err)
	}
	if entries, err := os.ReadDir(filepath.Join(dir, "tmp")); err != nil || len(entries) != 0 {
		t.Errorf("uploads left in DATA_DIR/tmp: %v, %v", entries, err)
	}

	dl := r.expect(200, "GET", "/packages/clouded/1.0.0.tar.gz", "", nil)
	if sha256hex(dl.Body) != sum || dl.Header.Get("ETag") != `"`+sum+`"` {
		t.Errorf("download: sha256 %s, ETag %s; want %s", sha256hex(dl.Body), dl.Header.Get("ETag"), sum)
	}
	part := r.expect(206, "GET", "/packages/clouded/1.0.0.tar.gz", "", nil, "Range", "bytes=10-19")
	if !bytes.Equal(part.Body, dl.Body[10:20]) {
		t.Errorf("range 10-19 = %x, want %x", part.Body, dl.Body[10:20])
	}
	r.expect(304, "GET", "/packages/clouded/1.0.0.tar.gz", "", nil, "If-None-Match", `"`+sum+`"`)
	h := r.expect(200, "GET", "/api/health", "", nil).JSON(t)
	storage := h["checks"].(map[string]any)["storage"].(map[string]any)
	if storage["status"] != "ok" || storage["info"].(map[string]any)["store"] != "s3" {
		t.Errorf("storage health = %v", storage)
	}
	// The archive's files are read from S3 too.
	r.expect(200, "GET", "/packages/clouded/1.0.0/files/oaklibs.json", "", nil)

	// Redirected downloads: the same registry, restarted with the setting.
	r.Stop()
	r = startRegistry(t, regOptions{DataDir: dir, Env: s3Env(bucket, "S3_REDIRECT_DOWNLOADS", "true")})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(r.URL + "/packages/clouded/1.0.0.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	to := res.Header.Get("Location")
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(to, bucket.Endpoint+"/"+bucket.Bucket+"/registry/blobs/"+sum+"?") ||
		res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("redirected download: %d, Location %q, Cache-Control %q", res.StatusCode, to, res.Header.Get("Cache-Control"))
	}
	// A client following it (Oak does) gets the archive from S3.
	got := r.expect(200, "GET", "/packages/clouded/1.0.0.tar.gz", "", nil)
	if sha256hex(got.Body) != sum {
		t.Errorf("archive through the redirect: sha256 %s, want %s", sha256hex(got.Body), sum)
	}
	r.expect(304, "GET", "/packages/clouded/1.0.0.tar.gz", "", nil, "If-None-Match", `"`+sum+`"`)

	// Three full downloads were counted: one streamed, two redirected.
	r.Stop()
	r = startRegistry(t, regOptions{DataDir: dir, Env: s3Env(bucket)})
	if st := r.expect(200, "GET", "/api/packages/clouded/stats", "", nil).JSON(t); st["total"].(float64) != 3 {
		t.Errorf("downloads counted = %v, want 3", st["total"])
	}
}

// TestS3Unreachable checks the start-up errors of a registry whose bucket
// is missing or unreachable: one clear line and exit status 1.
func TestS3Unreachable(t *testing.T) {
	bucket := testenv.NewS3Bucket(t)
	missing := bucket
	missing.Bucket = testenv.UniqueName("absent-")
	down := bucket
	down.Endpoint = "http://127.0.0.1:1"
	for name, tt := range map[string]struct {
		b    testenv.S3
		want string
	}{
		"missing bucket": {missing, "does not exist"},
		"server down":    {down, "does not answer"},
	} {
		t.Run(name, func(t *testing.T) {
			var env []string
			for k, v := range s3Env(tt.b, "DATA_DIR", t.TempDir(), "PORT", "0") {
				env = append(env, k+"="+v)
			}
			code, _, stderr := invocation{Env: env}.run(t, "serve")
			if code != 1 || !strings.Contains(stderr, "BLOB_STORE=s3: ") || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr:\n%s", code, stderr)
			}
		})
	}
}

// TestS3Outage stops S3 under a serving registry: metadata is still
// served, and so is a small archive already downloaded (kept in memory);
// other downloads and publishes fail with a clear 503 and health says
// storage; nothing is half-written, and once S3 is back all recover.
func TestS3Outage(t *testing.T) {
	gw := testenv.StartS3(t)
	dir := t.TempDir()
	r := startRegistry(t, regOptions{DataDir: dir, Env: s3Env(gw.S3)})
	tok := r.signUp("olga")
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "steady", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
	before := r.expect(200, "GET", "/packages/steady/1.0.0.tar.gz", "", nil).Body
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "untouched", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")

	gw.Stop()
	r.expect(200, "GET", "/api/packages/steady", "", nil)
	if got := r.expect(200, "GET", "/packages/steady/1.0.0.tar.gz", "", nil).Body; !bytes.Equal(got, before) {
		t.Error("the archive kept in memory differs from the stored one")
	}
	start := time.Now()
	for _, res := range []*response{
		r.do("GET", "/packages/untouched/1.0.0.tar.gz", "", nil),
		r.do("POST", "/api/upload", tok, pkg{name: "steady", version: "1.1.0"}.archive(t), "Content-Type", "application/gzip"),
	} {
		if res.Status != 503 || !strings.Contains(string(res.Body), `"error":"unavailable"`) {
			t.Errorf("with S3 stopped: %d %s", res.Status, res.Body)
		}
	}
	t.Logf("a download and a publish with S3 stopped answered 503 in %v", time.Since(start).Round(time.Millisecond))
	if res := r.do("GET", "/packages/steady/1.0.0/files/oaklibs.json", "", nil); res.Status != 503 {
		t.Errorf("an archive's file with S3 stopped: %d", res.Status)
	}
	h := r.do("GET", "/api/health", "", nil)
	if h.Status != 503 || h.JSON(t)["checks"].(map[string]any)["storage"].(map[string]any)["status"] != "failing" {
		t.Errorf("health with S3 stopped: %d %s", h.Status, h.Body)
	}
	r.expect(404, "GET", "/api/packages/steady/versions/1.1.0", "", nil)
	if entries, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(entries) != 0 {
		t.Errorf("the failed publish left %d temp files", len(entries))
	}

	gw.Start(t)
	r.expect(200, "GET", "/api/health", "", nil)
	if got := r.expect(200, "GET", "/packages/steady/1.0.0.tar.gz", "", nil).Body; !bytes.Equal(got, before) {
		t.Error("the archive changed across the outage")
	}
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "steady", version: "1.1.0"}.archive(t), "Content-Type", "application/gzip")
	r.expect(200, "GET", "/packages/steady/1.1.0.tar.gz", "", nil)
	if out := mustCommand(t, target{DataDir: dir, Env: s3Env(gw.S3)}, "verify"); !strings.Contains(out, "verify: no problems") {
		t.Errorf("verify after the outage:\n%s", out)
	}
}
