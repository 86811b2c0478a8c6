package testenv

import (
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 is where a test's bucket lives on the test S3 server.
type S3 struct {
	// Endpoint is the server's URL, http://127.0.0.1:port.
	Endpoint        string
	AccessKeyID     string
	SecretAccessKey string
	// Bucket is empty from S3Server, the test's own from NewS3Bucket.
	Bucket string
}

// S3Server returns the test S3 server started by scripts/test.sh
// (TEST_S3_ENDPOINT, TEST_S3_ACCESS_KEY_ID, TEST_S3_SECRET_ACCESS_KEY).
// Tests sharing it must use their own bucket (see NewS3Bucket).
func S3Server(t testing.TB) S3 {
	t.Helper()
	s := S3{
		Endpoint:        os.Getenv("TEST_S3_ENDPOINT"),
		AccessKeyID:     os.Getenv("TEST_S3_ACCESS_KEY_ID"),
		SecretAccessKey: os.Getenv("TEST_S3_SECRET_ACCESS_KEY"),
	}
	if s.Endpoint == "" || s.AccessKeyID == "" || s.SecretAccessKey == "" {
		Missing(t, "S3 (TEST_S3_ENDPOINT, TEST_S3_ACCESS_KEY_ID, TEST_S3_SECRET_ACCESS_KEY)")
	}
	return s
}

// Client returns a client of the server with the test's credentials.
func (s S3) Client(t testing.TB) *minio.Client {
	t.Helper()
	u, err := url.Parse(s.Endpoint)
	if err != nil {
		t.Fatalf("TEST_S3_ENDPOINT: %v", err)
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(s.AccessKeyID, s.SecretAccessKey, ""),
		Secure:       u.Scheme == "https",
		Region:       "us-east-1",
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatalf("S3 client: %v", err)
	}
	return c
}

// NewS3Bucket creates an empty bucket on the test server for this test
// alone; the bucket and everything in it are removed when the test ends.
func NewS3Bucket(t testing.TB) S3 {
	t.Helper()
	s := S3Server(t)
	s.Bucket = UniqueName("t-")
	c := s.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.MakeBucket(ctx, s.Bucket, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		t.Fatalf("creating test bucket: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		err := c.RemoveBucketWithOptions(ctx, s.Bucket, minio.RemoveBucketOptions{ForceDelete: true})
		if err == nil {
			return
		}
		// Not every server knows the force flag: empty the bucket first.
		objects := c.ListObjects(ctx, s.Bucket, minio.ListObjectsOptions{Recursive: true})
		for e := range c.RemoveObjects(ctx, s.Bucket, objects, minio.RemoveObjectsOptions{}) {
			t.Logf("emptying test bucket %s: %v", s.Bucket, e.Err)
		}
		if err := c.RemoveBucket(ctx, s.Bucket); err != nil {
			t.Logf("removing test bucket %s: %v", s.Bucket, err)
		}
	})
	return s
}

// S3Gateway is a versitygw of the test's own on 127.0.0.1, which the test
// may stop and start again on the same port with the same buckets: the
// shared server of TEST_S3_ENDPOINT must never be disturbed that way.
type S3Gateway struct {
	S3
	bin, dir string
	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
	log      Buffer
}

// StartS3 starts versitygw (TEST_VERSITYGW, set by scripts/test.sh, or
// versitygw on PATH) on a free loopback port with one empty bucket, and
// stops it when the test ends. It fails the test under CI when versitygw
// is missing, and skips it elsewhere.
func StartS3(t testing.TB) *S3Gateway {
	t.Helper()
	bin := os.Getenv("TEST_VERSITYGW")
	if bin == "" {
		bin = LookPath(t, "versitygw")
	}
	g := &S3Gateway{bin: bin, dir: t.TempDir()}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g.Endpoint = "http://" + l.Addr().String()
	l.Close()
	g.AccessKeyID, g.SecretAccessKey = UniqueName("k"), UniqueName("s")
	g.Bucket = UniqueName("t-")
	// versitygw's posix backend: a bucket is a top-level folder.
	if err := os.Mkdir(filepath.Join(g.dir, g.Bucket), 0o750); err != nil {
		t.Fatal(err)
	}
	g.Start(t)
	t.Cleanup(g.Stop)
	return g
}

// Start runs the gateway (again, after Stop) and waits until it answers.
func (g *S3Gateway) Start(t testing.TB) {
	t.Helper()
	u, _ := url.Parse(g.Endpoint)
	cmd := exec.Command(g.bin, "--port", u.Host, "posix", g.dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+g.AccessKeyID, "ROOT_SECRET_KEY="+g.SecretAccessKey)
	cmd.Stdout, cmd.Stderr = &g.log, &g.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting versitygw: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	g.mu.Lock()
	g.cmd, g.done = cmd, done
	g.mu.Unlock()

	c := g.Client(t)
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		ok, err := c.BucketExists(ctx, g.Bucket)
		cancel()
		if ok {
			return
		}
		select {
		case <-done:
			t.Fatalf("versitygw exited: %s", g.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw on %s does not answer: %v, %v\n%s", g.Endpoint, ok, err, g.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop ends the gateway and waits for it; the buckets stay for Start.
func (g *S3Gateway) Stop() {
	g.mu.Lock()
	cmd, done := g.cmd, g.done
	g.cmd = nil
	g.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}
