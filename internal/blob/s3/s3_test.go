package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/dryad-lang/registry/internal/blob"
	"github.com/dryad-lang/registry/internal/blob/blobtest"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/testenv"
)

// open returns a store on a new bucket of the test S3 server.
func open(t testing.TB, prefix string) (*Store, testenv.S3) {
	t.Helper()
	env := testenv.NewS3Bucket(t)
	s, err := Open(context.Background(), Options{
		Endpoint: env.Endpoint, Bucket: env.Bucket, AccessKeyID: env.AccessKeyID, SecretAccessKey: env.SecretAccessKey,
		Prefix: prefix, ForcePathStyle: true, TempDir: t.TempDir(),
		PartSize: 5 << 20, // S3's smallest part, so that small tests go multipart
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, env
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, _ := open(t, "")
		return s
	})
}

func TestConformanceWithPrefix(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		s, _ := open(t, "registry")
		return s
	})
}

// put stores data and returns its checksum.
func put(t testing.TB, s blob.Store, data []byte) string {
	t.Helper()
	ctx := context.Background()
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Cancel()
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	sum, err := w.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestLayoutMultipartAndRanges stores a blob in three parts, under the
// prefix, and reads ranges across the parts' boundaries.
func TestLayoutMultipartAndRanges(t *testing.T) {
	ctx := context.Background()
	s, env := open(t, "reg/")
	data := make([]byte, 11<<20+123) // three parts of 5 MiB
	rand.Read(data)
	sum := put(t, s, data)

	c := env.Client(t)
	info, err := c.StatObject(ctx, env.Bucket, "reg/blobs/"+sum, minio.StatObjectOptions{})
	if err != nil {
		t.Fatalf("blob not at reg/blobs/%s: %v", sum, err)
	}
	if info.Size != int64(len(data)) {
		t.Errorf("object size %d, want %d", info.Size, len(data))
	}
	if n := countFiles(t, s.TempDir()); n != 0 {
		t.Errorf("%d temp files left", n)
	}

	f, err := s.Open(ctx, sum)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// A download with Range: seek, then read a stretch.
	if _, err := f.Seek(7<<20, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	if _, err := io.ReadFull(f, buf); err != nil || !bytes.Equal(buf, data[7<<20:8<<20]) {
		t.Fatalf("read after Seek: %v", err)
	}
	// ReadAt across a part boundary.
	if n, err := f.ReadAt(buf[:100], 5<<20-50); err != nil || n != 100 || !bytes.Equal(buf[:100], data[5<<20-50:5<<20+50]) {
		t.Errorf("ReadAt = %d, %v", n, err)
	}
}

func countFiles(t testing.TB, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestUnavailable: with the S3 server gone every operation fails soon with
// errs.Unavailable (a 503), and Open says so at start.
func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	o := Options{Endpoint: "http://" + closedPort(t), Bucket: "gone", AccessKeyID: "k", SecretAccessKey: "s", ForcePathStyle: true, TempDir: t.TempDir()}
	start := time.Now()
	if _, err := Open(ctx, o); !errors.Is(err, errs.Unavailable) {
		t.Errorf("Open = %v, want Unavailable", err)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	sum := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	checks := map[string]error{
		"Check": s.Check(ctx),
		"Walk":  s.Walk(ctx, func(string, int64) error { return nil }),
	}
	_, checks["Open"] = s.Open(ctx, sum)
	_, checks["Stat"] = s.Stat(ctx, sum)
	_, checks["Identity"] = s.Identity(ctx)
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatalf("Create needs only the local folder: %v", err)
	}
	w.Write([]byte("archive"))
	_, checks["Commit"] = w.Commit(ctx)
	for name, err := range checks {
		if !errors.Is(err, errs.Unavailable) {
			t.Errorf("%s = %v, want Unavailable", name, err)
		}
	}
	if n := countFiles(t, s.TempDir()); n != 0 {
		t.Errorf("a failed Commit left %d temp files", n)
	}
	t.Logf("eight operations against a stopped server failed in %v", time.Since(start).Round(time.Millisecond))
}

func TestMissingBucket(t *testing.T) {
	env := testenv.S3Server(t)
	_, err := Open(context.Background(), Options{
		Endpoint: env.Endpoint, Bucket: testenv.UniqueName("absent-"), AccessKeyID: env.AccessKeyID,
		SecretAccessKey: env.SecretAccessKey, ForcePathStyle: true, TempDir: t.TempDir(),
	})
	if !errors.Is(err, errs.Unavailable) || !bytes.Contains([]byte(err.Error()), []byte("does not exist")) {
		t.Errorf("Open on a missing bucket = %v", err)
	}
}

func TestWrongCredentials(t *testing.T) {
	env := testenv.NewS3Bucket(t)
	_, err := Open(context.Background(), Options{
		Endpoint: env.Endpoint, Bucket: env.Bucket, AccessKeyID: env.AccessKeyID,
		SecretAccessKey: "not-the-secret", ForcePathStyle: true, TempDir: t.TempDir(),
	})
	if !errors.Is(err, errs.Unavailable) {
		t.Errorf("Open with a wrong secret = %v, want Unavailable", err)
	}
}

func TestSettings(t *testing.T) {
	for _, o := range []Options{
		{Bucket: "", TempDir: "x"},
		{Bucket: "b", TempDir: ""},
		{Bucket: "b", TempDir: t.TempDir(), Endpoint: "s3.example.org"},
		{Bucket: "b", TempDir: t.TempDir(), Endpoint: "ftp://s3.example.org"},
		{Bucket: "b", TempDir: t.TempDir(), Endpoint: "https://s3.example.org/bucket"},
	} {
		if _, err := New(o); !errors.Is(err, errs.Invalid) {
			t.Errorf("New(%+v) = %v, want Invalid", o, err)
		}
	}
}

// BenchmarkUpload100MiB publishes a 100 MiB blob and reports how far the
// heap grew during the upload: the spool and the multipart upload must
// both stream.
func BenchmarkUpload100MiB(b *testing.B) {
	const size = 100 << 20
	ctx := context.Background()
	env := testenv.NewS3Bucket(b)
	s, err := Open(ctx, Options{
		Endpoint: env.Endpoint, Bucket: env.Bucket, AccessKeyID: env.AccessKeyID, SecretAccessKey: env.SecretAccessKey,
		ForcePathStyle: true, TempDir: b.TempDir(),
	})
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	b.SetBytes(size)
	var peak uint64
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		stop := sampleHeap(&peak)
		w, err := s.Create(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for n := 0; n < size; n += len(chunk) {
			rand.Read(chunk)
			w.Write(chunk)
		}
		if _, err := w.Commit(ctx); err != nil {
			b.Fatal(err)
		}
		stop()
		if peak > before.HeapInuse {
			peak -= before.HeapInuse
		} else {
			peak = 0
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "MiB-heap-growth")
}

// sampleHeap records the largest HeapInuse seen until stop is called.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	*peak = 0
	go func() {
		defer close(finished)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			*peak = max(*peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}
