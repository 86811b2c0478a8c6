package testenv

import (
	"context"
	"net/url"
	"os"
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
