// Package s3 stores blobs as objects in an S3-compatible bucket, so that
// registry instances on several hosts share the archives without sharing a
// disk:
//
//	PREFIX/blobs/abcdef…         one blob, named by its SHA-256
//	PREFIX/quarantine/abcdef…    blobs the orphan sweep removed, kept a while;
//	                             the time they were moved is the object's
//	                             metadata x-amz-meta-quarantined-at
//	PREFIX/registry-id           the identity of the registry the blobs belong to
//	PREFIX/health-check          rewritten by Check
//
// A Writer spools the upload to a local temp file (TempDir, never in the
// bucket) while hashing it, and on Commit uploads the file under its
// checksum, in parts of PartSize read straight from the file: memory stays
// flat whatever the archive's size, and an object appears in the bucket only
// once S3 has all of it, so no reader ever sees half an archive.
//
// The client is github.com/minio/minio-go/v7: one small module (the AWS SDK
// for Go v2 is a dozen modules) that speaks to any S3-compatible store (AWS,
// MinIO, Ceph, Garage, Versity, R2), uploads from an io.ReaderAt in parts
// without buffering them, and signs presigned URLs.
//
// Any failure to reach the bucket (network, credentials, a missing bucket,
// 5xx) is errs.Unavailable, so the API answers 503; an absent object is
// errs.NotFound.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/dryad-lang/registry/internal/blob"
	"github.com/dryad-lang/registry/internal/errs"
)

// Options say where the bucket is and how to reach it.
type Options struct {
	// Endpoint is the S3 server's URL, http://host:port or https://host;
	// empty means AWS (https://s3.amazonaws.com).
	Endpoint string
	// Bucket must exist: the registry never creates one.
	Bucket string
	// Region is the bucket's region; empty means us-east-1.
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	// Prefix is put before every key, so that several registries (or
	// tests) can share a bucket; a "/" is added when missing.
	Prefix string
	// ForcePathStyle addresses the bucket as endpoint/bucket/key instead of
	// bucket.endpoint/key: what most self-hosted servers need.
	ForcePathStyle bool
	// TempDir is a local folder for uploads in progress.
	TempDir string
	// PartSize is the size of each part of a multipart upload, 16 MiB
	// when zero; archives up to that size go up in one PUT.
	PartSize uint64
	// MaxRetries is how many times a failed request is tried again, 2 when
	// zero: enough to ride over a dropped connection, few enough that a
	// stopped server gives a 503 within a second or so instead of a hang.
	MaxRetries int
}

// Store is a blob.Store in an S3 bucket.
type Store struct {
	client   *minio.Client
	bucket   string
	prefix   string
	tempDir  string
	partSize uint64
}

var (
	_ blob.Store     = (*Store)(nil)
	_ blob.Presigner = (*Store)(nil)
)

const defaultPartSize = 16 << 20

// Open returns a store on an existing bucket. It checks that the bucket
// answers and exists, so that a mistake in the settings stops the
// registry at start rather than at the first publish.
func Open(ctx context.Context, o Options) (*Store, error) {
	s, err := New(o)
	if err != nil {
		return nil, err
	}
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, fmt.Sprintf("S3 bucket %q at %s does not answer", s.bucket, s.client.EndpointURL().Redacted()))
	}
	if !ok {
		return nil, errs.Errorf(errs.Unavailable, "S3 bucket %q does not exist at %s: create it (the registry never creates buckets)", s.bucket, s.client.EndpointURL().Redacted())
	}
	return s, nil
}

// New returns a store without contacting the server.
func New(o Options) (*Store, error) {
	if o.Bucket == "" {
		return nil, errs.New(errs.Invalid, "S3_BUCKET is empty: name the bucket that holds the package archives")
	}
	if o.TempDir == "" {
		return nil, errs.New(errs.Invalid, "the S3 blob store needs a local folder for uploads in progress")
	}
	endpoint := o.Endpoint
	if endpoint == "" {
		endpoint = "https://s3.amazonaws.com"
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, errs.Errorf(errs.Invalid, "S3_ENDPOINT=%q: want http://host:port or https://host, with no path", o.Endpoint)
	}
	region := o.Region
	if region == "" {
		region = "us-east-1"
	}
	lookup := minio.BucketLookupAuto
	if o.ForcePathStyle {
		lookup = minio.BucketLookupPath
	}
	retries := o.MaxRetries
	if retries <= 0 {
		retries = 2
	}
	transport, err := minio.DefaultTransport(u.Scheme == "https")
	if err != nil {
		return nil, fmt.Errorf("S3 transport: %w", err)
	}
	// Every download is a GET to S3: keep as many connections as a busy
	// registry has downloads in flight, not minio-go's 16.
	transport.MaxIdleConnsPerHost = 256
	client, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(o.AccessKeyID, o.SecretAccessKey, ""),
		Secure:       u.Scheme == "https",
		Region:       region,
		BucketLookup: lookup,
		Transport:    transport,
		MaxRetries:   retries + 1, // minio-go counts the first attempt
	})
	if err != nil {
		return nil, errs.Errorf(errs.Invalid, "S3_ENDPOINT=%q: %v", o.Endpoint, err)
	}
	if err := os.MkdirAll(o.TempDir, 0o750); err != nil {
		return nil, fmt.Errorf("creating the upload folder: %w", err)
	}
	prefix := o.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	part := o.PartSize
	if part == 0 {
		part = defaultPartSize
	}
	return &Store{client: client, bucket: o.Bucket, prefix: prefix, tempDir: o.TempDir, partSize: part}, nil
}

func (s *Store) key(sum string) string         { return s.prefix + "blobs/" + sum }
func (s *Store) quarantined(sum string) string { return s.prefix + "quarantine/" + sum }
func (s *Store) identityKey() string           { return s.prefix + "registry-id" }

// unavailable gives an S3 failure its kind: whatever it was (connection
// refused, bad credentials, a missing bucket, a 5xx), the archives cannot
// be reached and the request should be retried later.
func unavailable(err error) error {
	return errs.Wrap(errs.Unavailable, err, "package storage (S3) unavailable")
}

// isNotFound reports whether err is S3's answer for an absent object.
func isNotFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.Code == minio.NoSuchKey || (r.StatusCode == http.StatusNotFound && r.Code != minio.NoSuchBucket)
}

func notFound(sum string) error { return errs.Errorf(errs.NotFound, "archive %s not found", sum) }

// TempDir is the local folder for uploads in progress.
func (s *Store) TempDir() string { return s.tempDir }

// Create starts a new blob in the local temp folder.
func (s *Store) Create(ctx context.Context) (blob.Writer, error) {
	sp, err := blob.NewSpool(s.tempDir)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "the upload folder is not writable")
	}
	return &writer{Spool: sp, s: s}, nil
}

// Open opens a stored blob: it starts reading the whole object, which is
// what a download wants, and reopens at another offset on Seek.
func (s *Store) Open(ctx context.Context, sum string) (blob.File, error) {
	if !blob.ValidSum(sum) {
		return nil, notFound(sum)
	}
	f := &file{ctx: ctx, s: s, key: s.key(sum)}
	body, info, _, err := minio.Core{Client: s.client}.GetObject(ctx, s.bucket, f.key, minio.GetObjectOptions{})
	if isNotFound(err) {
		return nil, notFound(sum)
	}
	if err != nil {
		return nil, unavailable(err)
	}
	f.body, f.size = body, info.Size
	return f, nil
}

// PresignGet returns a URL that downloads a blob for ttl without
// credentials: the client fetches it from S3 itself. Nothing is asked of
// the server (the URL is signed locally), so an absent blob is only
// noticed by whoever follows the URL.
func (s *Store) PresignGet(ctx context.Context, sum, filename string, ttl time.Duration) (string, error) {
	if !blob.ValidSum(sum) {
		return "", notFound(sum)
	}
	params := url.Values{}
	params.Set("response-content-type", "application/gzip")
	if filename != "" {
		params.Set("response-content-disposition", `attachment; filename="`+filename+`"`)
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, s.key(sum), ttl, params)
	if err != nil {
		return "", unavailable(err)
	}
	return u.String(), nil
}

// Stat returns a blob's size.
func (s *Store) Stat(ctx context.Context, sum string) (int64, error) {
	if !blob.ValidSum(sum) {
		return 0, notFound(sum)
	}
	info, err := s.client.StatObject(ctx, s.bucket, s.key(sum), minio.StatObjectOptions{})
	if isNotFound(err) {
		return 0, notFound(sum)
	}
	if err != nil {
		return 0, unavailable(err)
	}
	return info.Size, nil
}

// exists reports whether the object key is present.
func (s *Store) exists(ctx context.Context, key string) (bool, error) {
	_, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, unavailable(err)
	}
	return true, nil
}

// Delete removes a blob.
func (s *Store) Delete(ctx context.Context, sum string) error {
	if !blob.ValidSum(sum) {
		return nil
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.key(sum), minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
		return unavailable(err)
	}
	return nil
}

// list calls fn for every object under PREFIX/dir/ whose name is a
// checksum.
func (s *Store) list(ctx context.Context, dir string, fn func(sum string, info minio.ObjectInfo) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing when fn fails
	from := s.prefix + dir + "/"
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: from, Recursive: true}) {
		if obj.Err != nil {
			return unavailable(obj.Err)
		}
		sum := strings.TrimPrefix(obj.Key, from)
		if !blob.ValidSum(sum) {
			continue
		}
		if err := fn(sum, obj); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Walk lists every blob.
func (s *Store) Walk(ctx context.Context, fn func(sum string, size int64) error) error {
	return s.list(ctx, "blobs", func(sum string, info minio.ObjectInfo) error { return fn(sum, info.Size) })
}

// Check writes a small object and a small local file: publishing needs
// both the bucket and the upload folder.
func (s *Store) Check(ctx context.Context) error {
	f, err := os.CreateTemp(s.tempDir, "check-*")
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "the upload folder is not writable")
	}
	_, err = f.WriteString("ok")
	f.Close()
	os.Remove(f.Name())
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "the upload folder is not writable")
	}
	_, err = s.client.PutObject(ctx, s.bucket, s.prefix+"health-check", strings.NewReader("ok"), 2,
		minio.PutObjectOptions{ContentType: "text/plain"})
	if err != nil {
		return unavailable(err)
	}
	return nil
}

type writer struct {
	*blob.Spool
	s *Store
}

// Commit uploads the spooled file under its checksum unless an object is
// there already (same name, same bytes), then removes the file.
func (w *writer) Commit(ctx context.Context) (string, error) {
	if w.Finished() {
		return "", errors.New("blob writer already finished")
	}
	sum := w.Sum()
	defer w.Cancel()
	key := w.s.key(sum)
	ok, err := w.s.exists(ctx, key)
	if err != nil {
		return "", err
	}
	if !ok {
		// The file is an io.ReaderAt: minio-go sends each part as a section
		// of it, so no part is ever held in memory.
		_, err := w.s.client.PutObject(ctx, w.s.bucket, key, io.NewSectionReader(w.File, 0, w.Size()), w.Size(), minio.PutObjectOptions{
			ContentType: "application/gzip",
			PartSize:    w.s.partSize,
			NumThreads:  1,
		})
		if err != nil {
			return "", errs.Wrap(errs.Unavailable, err, "storing the package archive in S3 failed")
		}
	}
	return sum, nil
}

// file reads an object: sequential reads share one GET from the current
// offset; ReadAt makes a GET of exactly the range asked for.
type file struct {
	ctx  context.Context
	s    *Store
	key  string
	size int64
	pos  int64
	// body is an open GET whose next byte is at offset at.
	body io.ReadCloser
	at   int64
}

func (f *file) Size() int64 { return f.size }

// get starts a GET of the bytes from off to end inclusive; end 0 means to
// the end of the object.
func (f *file) get(off, end int64) (io.ReadCloser, error) {
	var o minio.GetObjectOptions
	if off > 0 || end > 0 {
		// SetRange(0, 0) would be the first byte, not the whole object.
		if err := o.SetRange(off, end); err != nil {
			return nil, err
		}
	}
	body, _, _, err := minio.Core{Client: f.s.client}.GetObject(f.ctx, f.s.bucket, f.key, o)
	if err != nil {
		return nil, unavailable(err)
	}
	return body, nil
}

func (f *file) Read(p []byte) (int, error) {
	if f.pos >= f.size {
		return 0, io.EOF
	}
	if f.body != nil && f.at != f.pos {
		f.body.Close()
		f.body = nil
	}
	if f.body == nil {
		body, err := f.get(f.pos, 0)
		if err != nil {
			return 0, err
		}
		f.body, f.at = body, f.pos
	}
	if rest := f.size - f.pos; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := f.body.Read(p)
	f.pos += int64(n)
	f.at = f.pos
	switch {
	case err == io.EOF && f.pos < f.size:
		return n, unavailable(io.ErrUnexpectedEOF)
	case err == io.EOF:
		return n, nil // the next Read says EOF
	case err != nil:
		return n, unavailable(err)
	}
	return n, nil
}

func (f *file) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += f.pos
	case io.SeekEnd:
		offset += f.size
	case io.SeekStart:
	default:
		return 0, errors.New("s3 blob: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("s3 blob: negative position")
	}
	f.pos = offset
	return offset, nil
}

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("s3 blob: negative offset")
	}
	if off >= f.size {
		return 0, io.EOF
	}
	want := p
	if rest := f.size - off; int64(len(want)) > rest {
		want = want[:rest]
	}
	if len(want) == 0 {
		return 0, nil
	}
	body, err := f.get(off, off+int64(len(want))-1)
	if err != nil {
		return 0, err
	}
	defer closeBody(body)
	n, err := io.ReadFull(body, want)
	if err != nil {
		return n, unavailable(err)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *file) Close() error {
	if f.body != nil {
		closeBody(f.body)
		f.body = nil
	}
	return nil
}

// closeBody closes a GET's body after reading what little is left (its
// EOF, usually), so that the connection goes back to the pool: a body
// closed before its EOF costs a new connection, and a TLS handshake, to
// the next request. A body with much left is cut off instead.
func closeBody(body io.ReadCloser) {
	io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	body.Close()
}

// quarantinedAt is the metadata that records when a blob was quarantined.
const quarantinedAt = "Quarantined-At"

// Quarantine copies a blob under quarantine/, stamped with the time, then
// deletes it from blobs/. S3 has no rename: a crash between the two leaves
// the blob in both places, which the next sweep finishes.
func (s *Store) Quarantine(ctx context.Context, sum string) error {
	if !blob.ValidSum(sum) {
		return nil
	}
	_, err := s.client.CopyObject(ctx,
		minio.CopyDestOptions{Bucket: s.bucket, Object: s.quarantined(sum), ReplaceMetadata: true,
			UserMetadata: map[string]string{quarantinedAt: time.Now().UTC().Format(time.RFC3339Nano)}},
		minio.CopySrcOptions{Bucket: s.bucket, Object: s.key(sum)})
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return unavailable(err)
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.key(sum), minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
		return unavailable(err)
	}
	return nil
}

// PurgeQuarantine deletes the blobs quarantined before cutoff.
func (s *Store) PurgeQuarantine(ctx context.Context, cutoff time.Time) (int, error) {
	var old []string
	err := s.list(ctx, "quarantine", func(sum string, _ minio.ObjectInfo) error {
		info, err := s.client.StatObject(ctx, s.bucket, s.quarantined(sum), minio.StatObjectOptions{})
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return unavailable(err)
		}
		when := info.LastModified
		if t, err := time.Parse(time.RFC3339Nano, info.UserMetadata[quarantinedAt]); err == nil {
			when = t
		}
		if when.Before(cutoff) {
			old = append(old, sum)
		}
		return nil
	})
	n := 0
	for _, sum := range old {
		if rerr := s.client.RemoveObject(ctx, s.bucket, s.quarantined(sum), minio.RemoveObjectOptions{}); rerr != nil && !isNotFound(rerr) {
			return n, errors.Join(err, unavailable(rerr))
		}
		n++
	}
	return n, err
}

// RestoreQuarantine copies every quarantined blob back into blobs/ and
// deletes its quarantined copy.
func (s *Store) RestoreQuarantine(ctx context.Context) (int, error) {
	var sums []string
	if err := s.list(ctx, "quarantine", func(sum string, _ minio.ObjectInfo) error {
		sums = append(sums, sum)
		return nil
	}); err != nil {
		return 0, err
	}
	n := 0
	for _, sum := range sums {
		_, err := s.client.CopyObject(ctx,
			minio.CopyDestOptions{Bucket: s.bucket, Object: s.key(sum), ReplaceMetadata: true},
			minio.CopySrcOptions{Bucket: s.bucket, Object: s.quarantined(sum)})
		if isNotFound(err) {
			continue // restored or purged meanwhile
		}
		if err != nil {
			return n, unavailable(err)
		}
		if err := s.client.RemoveObject(ctx, s.bucket, s.quarantined(sum), minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
			return n, unavailable(err)
		}
		n++
	}
	return n, nil
}

// Identity reads PREFIX/registry-id.
func (s *Store) Identity(ctx context.Context) (string, error) {
	obj, _, _, err := minio.Core{Client: s.client}.GetObject(ctx, s.bucket, s.identityKey(), minio.GetObjectOptions{})
	if isNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", unavailable(err)
	}
	defer obj.Close()
	b, err := io.ReadAll(io.LimitReader(obj, 4096))
	if err != nil {
		return "", unavailable(err)
	}
	return strings.TrimSpace(string(b)), nil
}

// InitIdentity writes PREFIX/registry-id unless it exists, with a
// conditional PUT (If-None-Match: *): of concurrent callers exactly one
// succeeds and the others get 412 and read the winner's. A server that
// ignores the condition (older S3-compatible stores) lets the last writer
// win instead; the identity is read back after writing so that each
// caller at least returns what the bucket holds.
func (s *Store) InitIdentity(ctx context.Context, id string) (string, error) {
	if cur, err := s.Identity(ctx); err != nil || cur != "" {
		return cur, err
	}
	var o minio.PutObjectOptions
	o.ContentType = "text/plain"
	o.SetMatchETagExcept("*")
	body := id + "\n"
	_, err := s.client.PutObject(ctx, s.bucket, s.identityKey(), strings.NewReader(body), int64(len(body)), o)
	if err != nil {
		r := minio.ToErrorResponse(err)
		if r.StatusCode != http.StatusPreconditionFailed && r.StatusCode != http.StatusConflict {
			return "", unavailable(err)
		}
	}
	return s.Identity(ctx)
}
