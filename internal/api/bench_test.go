package api_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/api"
	"github.com/dryad-lang/registry/internal/auth"
	blobfs "github.com/dryad-lang/registry/internal/blob/fs"
	cachememory "github.com/dryad-lang/registry/internal/cache/memory"
	limitmemory "github.com/dryad-lang/registry/internal/ratelimit/memory"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/store/sqlite"
)

// The benchmarks here measure the API's hot paths in-process, without a
// network, each next to a baseline: a bare net/http handler writing the
// same bytes with the same headers. The ratio of the two is the cost of
// the registry's own work (cache look-ups, rendering, blob opening),
// which stays meaningful on a noisy machine where absolute figures drift.
// End-to-end figures over loopback are in cmd/dryad-registry/bench_test.go
// and scripts/bench.sh.

// benchAPI is an API wired as the server wires it (SQLite, filesystem
// blobs, in-process cache, counters and limiter), with a few published
// packages: meta (5 versions, small), small (10 KiB archive) and large
// (1 MiB archive).
type benchAPI struct {
	mux     *http.ServeMux
	reg     *registry.Service
	blobs   string // folder of the stored archives
	publish func(name, version string, payload int, deps string)
	owner   *auth.Principal // publisher of every package
}

func newBenchAPI(b testing.TB) *benchAPI {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "registry.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	blobDir := filepath.Join(dir, "packages")
	blobs, err := blobfs.Open(blobDir)
	if err != nil {
		b.Fatal(err)
	}
	hasher, err := auth.NewHasher(4)
	if err != nil {
		b.Fatal(err)
	}
	signer, err := auth.NewSigner([]byte("bench-secret-0123456789abcdef"), time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c := cachememory.NewCache(cachememory.CacheOptions{})
	reg, err := registry.New(registry.Options{
		Store: st, Blobs: blobs, Cache: c, Counters: cachememory.NewCounters(),
		Locker: cachememory.NewLocker(nil), Limiter: limitmemory.New(limitmemory.Options{}),
		Hasher: hasher, Signer: signer, Logger: log, MaxPackageSize: 100 << 20,
	})
	if err != nil {
		b.Fatal(err)
	}
	a := api.New(api.Options{Registry: reg, Cache: c, Logger: log,
		Archives: cachememory.NewCache(cachememory.CacheOptions{MaxBytes: 16 << 20})})
	mux := http.NewServeMux()
	for _, rt := range a.Routes() {
		mux.Handle(rt.Pattern, rt.Handler)
	}
	mux.HandleFunc("GET /packages/{name}/{file}", func(w http.ResponseWriter, r *http.Request) {
		a.Download(w, r, r.PathValue("name"), trimTarGz(r.PathValue("file")))
	})

	u, err := reg.Register(ctx, registry.Registration{Username: "bencher", Email: "bencher@example.org", Password: "a long bench passphrase"}, "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	p := &auth.Principal{UserID: u.ID, Username: u.Username, Role: auth.Role(u.Role), Via: auth.ViaJWT}
	publish := func(name, version string, payload int, deps string) {
		files := map[string][]byte{
			"oaklibs.json":           []byte(`{"name":"` + name + `","version":"` + version + `","description":"benchmark package","license":"MIT","dependencies":{` + deps + `}}`),
			"lib/" + name + ".dryad": []byte("export fn f() {}\n"),
		}
		if payload > 0 {
			data := make([]byte, payload)
			rand.Read(data)
			files["data.bin"] = data
		}
		if _, err := reg.Publish(ctx, p, bytes.NewReader(tarGz(b, files)), "127.0.0.1"); err != nil {
			b.Fatalf("publishing %s@%s: %v", name, version, err)
		}
	}
	publish("dep-a", "1.0.0", 0, "")
	publish("dep-b", "2.1.0", 0, "")
	for i := range 5 {
		publish("meta", fmt.Sprintf("1.%d.0", i), 0, `"dep-a":"^1.0.0","dep-b":"~2.1"`)
	}
	publish("small", "1.0.0", 10<<10, "")
	publish("large", "1.0.0", 1<<20, "")
	return &benchAPI{mux: mux, reg: reg, blobs: blobDir, publish: publish, owner: p}
}

func trimTarGz(s string) string {
	if len(s) > 7 && s[len(s)-7:] == ".tar.gz" {
		return s[:len(s)-7]
	}
	return s
}

func tarGz(b testing.TB, files map[string][]byte) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, c := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(c)), ModTime: time.Unix(0, 0)}); err != nil {
			b.Fatal(err)
		}
		tw.Write(c)
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// discard is a ResponseWriter that keeps the status and the byte count
// only, so that what a benchmark measures is the handler, not a recorder.
type discard struct {
	h      http.Header
	status int
	n      int64
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(code int)        { d.status = code }
func (d *discard) Write(p []byte) (int, error) { d.n += int64(len(p)); return len(p), nil }

// ReadFrom lets io.Copy (and so http.ServeContent) move file content the
// way a real connection does, without an intermediate buffer per call.
func (d *discard) ReadFrom(r io.Reader) (int64, error) {
	n, err := io.Copy(io.Discard, r)
	d.n += n
	return n, err
}

func (d *discard) reset() {
	clear(d.h)
	d.status, d.n = 0, 0
}

// serve runs one request through h and checks the answer.
func serve(b *testing.B, h http.Handler, r *http.Request, w *discard, want int, wantBytes int64) {
	w.reset()
	h.ServeHTTP(w, r)
	if w.status != want || (wantBytes >= 0 && w.n != wantBytes) {
		b.Fatalf("%s: status %d, %d bytes; want %d, %d bytes", r.URL, w.status, w.n, want, wantBytes)
	}
}

func newRequest(path string) *http.Request {
	r, _ := http.NewRequest("GET", "http://registry.example.org"+path, nil)
	r.Header.Set("Accept", "*/*")
	return r
}

// bench runs one request repeatedly, serially or from parallel goroutines.
func bench(b *testing.B, h http.Handler, path string, want int, wantBytes int64, parallel bool) {
	b.ReportAllocs()
	if wantBytes > 0 {
		b.SetBytes(wantBytes)
	}
	if !parallel {
		r, w := newRequest(path), &discard{h: http.Header{}}
		b.ResetTimer()
		for b.Loop() {
			serve(b, h, r, w, want, wantBytes)
		}
		return
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r, w := newRequest(path), &discard{h: http.Header{}}
		for pb.Next() {
			serve(b, h, r, w, want, wantBytes)
		}
	})
}

// BenchmarkPackageMetadata measures GET /api/packages/{name} served from
// the cache (the Oak install path), against a handler writing the same
// document.
func BenchmarkPackageMetadata(b *testing.B) {
	a := newBenchAPI(b)
	w := &discard{h: http.Header{}}
	r := newRequest("/api/packages/meta")
	a.mux.ServeHTTP(w, r) // fills the cache
	body := renderBody(b, a, r)
	etag := w.h.Get("ETag")
	baseline := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("ETag", etag)
		h.Set("Cache-Control", "no-cache")
		h.Set("Vary", "Accept-Encoding")
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	})
	size := int64(len(body))
	for _, parallel := range []bool{false, true} {
		suffix := ""
		if parallel {
			suffix = "-parallel"
		}
		b.Run("registry"+suffix, func(b *testing.B) { bench(b, a.mux, "/api/packages/meta", 200, size, parallel) })
		b.Run("baseline"+suffix, func(b *testing.B) { bench(b, baseline, "/api/packages/meta", 200, size, parallel) })
	}
	b.Run("not-modified", func(b *testing.B) {
		b.ReportAllocs()
		r := newRequest("/api/packages/meta")
		r.Header.Set("If-None-Match", etag)
		w := &discard{h: http.Header{}}
		for b.Loop() {
			serve(b, a.mux, r, w, 304, 0)
		}
	})
	b.Run("not-found", func(b *testing.B) { bench(b, a.mux, "/api/packages/no-such-package", 404, -1, false) })
}

// renderBody fetches the document once and checks it is the Oak contract.
func renderBody(b *testing.B, a *benchAPI, r *http.Request) []byte {
	rec := &recorder{h: http.Header{}}
	a.mux.ServeHTTP(rec, r)
	var doc map[string]any
	if err := json.Unmarshal(rec.buf.Bytes(), &doc); err != nil || doc["version"] != "1.4.0" || doc["download_url"] != "http://registry.example.org/packages/meta/1.4.0.tar.gz" {
		b.Fatalf("metadata: %v %s", err, rec.buf.Bytes())
	}
	return rec.buf.Bytes()
}

type recorder struct {
	h   http.Header
	buf bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) WriteHeader(int)             {}
func (r *recorder) Write(p []byte) (int, error) { return r.buf.Write(p) }

// TestRenderedMetadata checks the metadata answer the benchmarks measure:
// each base URL gets its own download URLs and ETag, repeated requests get
// the same bytes, and a new version shows at once.
func TestRenderedMetadata(t *testing.T) {
	a := newBenchAPI(t)
	get := func(host, name string) (map[string]any, []byte, string) {
		r := httptest.NewRequest("GET", "http://"+host+"/api/packages/"+name, nil)
		w := httptest.NewRecorder()
		a.mux.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", host, w.Code, w.Body)
		}
		var doc map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		return doc, w.Body.Bytes(), w.Header().Get("ETag")
	}
	docA, bodyA, etagA := get("a.example.org", "meta")
	docB, _, etagB := get("b.example.org:8080", "meta")
	if docA["download_url"] != "http://a.example.org/packages/meta/1.4.0.tar.gz" || docB["download_url"] != "http://b.example.org:8080/packages/meta/1.4.0.tar.gz" {
		t.Errorf("download URLs: %v, %v", docA["download_url"], docB["download_url"])
	}
	if etagA == etagB {
		t.Errorf("two base URLs share the ETag %s", etagA)
	}
	if _, again, etag := get("a.example.org", "meta"); !bytes.Equal(again, bodyA) || etag != etagA {
		t.Error("a repeated request got other bytes or another ETag")
	}
	a.publish("meta", "1.5.0", 0, "")
	if doc, _, etag := get("a.example.org", "meta"); doc["version"] != "1.5.0" || etag == etagA {
		t.Errorf("after publishing 1.5.0: version %v, ETag %s (was %s)", doc["version"], etag, etagA)
	}

	// A name nobody has is answered from the cache the second time, and
	// exists as soon as it is published.
	for range 2 {
		w := httptest.NewRecorder()
		a.mux.ServeHTTP(w, httptest.NewRequest("GET", "http://a.example.org/api/packages/Fresh_Lib", nil))
		if w.Code != 404 || !bytes.Contains(w.Body.Bytes(), []byte(`package \"Fresh_Lib\" not found`)) {
			t.Fatalf("unknown package: %d %s", w.Code, w.Body)
		}
	}
	a.publish("fresh-lib", "0.1.0", 0, "")
	if doc, _, _ := get("a.example.org", "fresh_lib"); doc["name"] != "fresh-lib" {
		t.Errorf("a package published after a 404: %v", doc)
	}
}

// BenchmarkDownload measures GET /packages/{name}/{version}.tar.gz for a
// 10 KiB and a 1 MiB archive, against http.ServeContent of the same file
// opened by path.
func BenchmarkDownload(b *testing.B) {
	a := newBenchAPI(b)
	for _, name := range []string{"small", "large"} {
		ref, err := a.reg.LookupArchive(context.Background(), name, "1.0.0")
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(a.blobs, blobPath(b, a.blobs, ref.Checksum))
		baseline := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f, err := os.Open(path)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			defer f.Close()
			h := w.Header()
			h.Set("ETag", `"`+ref.Checksum+`"`)
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
			h.Set("Content-Type", "application/gzip")
			http.ServeContent(w, r, "", time.Time{}, f)
		})
		url := "/packages/" + name + "/1.0.0.tar.gz"
		for _, parallel := range []bool{false, true} {
			suffix := ""
			if parallel {
				suffix = "-parallel"
			}
			b.Run(name+"/registry"+suffix, func(b *testing.B) { bench(b, a.mux, url, 200, ref.Size, parallel) })
			b.Run(name+"/baseline"+suffix, func(b *testing.B) { bench(b, baseline, url, 200, ref.Size, parallel) })
		}
	}
}

// blobPath is where the filesystem driver keeps a checksum's archive
// (its documented layout: ROOT/sha256/ab/abcdef….tar.gz).
func blobPath(b testing.TB, root, sum string) string {
	rel := filepath.Join("sha256", sum[:2], sum+".tar.gz")
	if _, err := os.Stat(filepath.Join(root, rel)); err != nil {
		b.Fatalf("stored archive of %s: %v", sum, err)
	}
	return rel
}
