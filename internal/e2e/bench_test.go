package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// The benchmarks here drive the whole server, as serve wires it
// (middleware, access log, metrics, SQLite, in-process cache), over
// loopback with parallel keep-alive clients, each next to a baseline: a
// bare net/http server on loopback sending the same bytes with the same
// headers. Client costs are in both, so compare the two; the handlers
// alone are measured in internal/api, and scripts/bench.sh does the same
// with wrk.

// benchRegistry starts a registry holding meta (3 versions) and two
// packages whose archives are about 10 KB and 1 MB, logging every request
// as in production.
func benchRegistry(b *testing.B) *testRegistry {
	b.Helper()
	r := startRegistry(b, regOptions{Env: map[string]string{"LOG_LEVEL": "info"}})
	tok := r.signUp("bencher")
	for _, p := range []pkg{
		{name: "meta", version: "1.0.0"}, {name: "meta", version: "1.1.0"}, {name: "meta", version: "1.2.0", fields: map[string]any{"license": "MIT", "keywords": []string{"bench"}}},
		{name: "small", version: "1.0.0", files: map[string]string{"data.bin": randomText(b, 10_000)}},
		{name: "large", version: "1.0.0", files: map[string]string{"data.bin": randomText(b, 1_000_000)}},
	} {
		if res := r.publish(tok, p.archive(b)); res.Status != 201 {
			b.Fatalf("publishing %s@%s: %d %s", p.name, p.version, res.Status, res.Body)
		}
	}
	// Documents change once more when the git worker records the versions
	// (their git_commit); measure after that.
	deadline := time.Now().Add(30 * time.Second)
	for last := ""; time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		etag := r.expect(200, "GET", "/api/packages/meta", "", nil).Header.Get("ETag")
		if etag == last {
			break
		}
		last = etag
	}
	return r
}

// loopbackGet runs GET url from parallel goroutines over keep-alive
// connections and checks each answer's status and size.
func loopbackGet(b *testing.B, url string, want int, size int64) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	defer client.CloseIdleConnections()
	b.ReportAllocs()
	if size > 0 {
		b.SetBytes(size)
	}
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want || (size > 0 && n != size) {
				b.Errorf("GET %s: %d, %d bytes; want %d, %d bytes", url, resp.StatusCode, n, want, size)
				return
			}
		}
	})
}

// baselineServer serves body at every path with the given headers, or a
// file with http.ServeContent when file is set.
func baselineServer(b *testing.B, header http.Header, body []byte, file string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		if file != "" {
			f, err := os.Open(file)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			defer f.Close()
			http.ServeContent(w, r, "", time.Time{}, f)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}

// BenchmarkServeMetadata is GET /api/packages/{name}, cached, end to end.
func BenchmarkServeMetadata(b *testing.B) {
	r := benchRegistry(b)
	res := r.expect(200, "GET", "/api/packages/meta", "", nil)
	h := http.Header{}
	for _, k := range []string{"Etag", "Cache-Control", "Vary", "Content-Type"} {
		h[k] = res.Header[k]
	}
	base := baselineServer(b, h, res.Body, "")
	b.Run("registry", func(b *testing.B) { loopbackGet(b, r.URL+"/api/packages/meta", 200, int64(len(res.Body))) })
	b.Run("baseline", func(b *testing.B) { loopbackGet(b, base+"/api/packages/meta", 200, int64(len(res.Body))) })
	b.Run("registry-404", func(b *testing.B) { loopbackGet(b, r.URL+"/api/packages/no-such-package", 404, 0) })
}

// BenchmarkServeDownload is GET /packages/{name}/{version}.tar.gz for a
// 10 KB and a 1 MB archive, end to end.
func BenchmarkServeDownload(b *testing.B) {
	r := benchRegistry(b)
	for _, name := range []string{"small", "large"} {
		path := "/packages/" + name + "/1.0.0.tar.gz"
		res := r.expect(200, "GET", path, "", nil)
		file := filepath.Join(b.TempDir(), name+".tar.gz")
		if err := os.WriteFile(file, res.Body, 0o644); err != nil {
			b.Fatal(err)
		}
		h := http.Header{}
		for _, k := range []string{"Etag", "Cache-Control", "Content-Type", "Content-Disposition", "X-Checksum-Sha256"} {
			h[k] = res.Header[k]
		}
		base := baselineServer(b, h, nil, file)
		if got := r.do("GET", base+path, "", nil); !bytes.Equal(got.Body, res.Body) {
			b.Fatal("the baseline serves other bytes")
		}
		size := int64(len(res.Body))
		b.Run(name+"/registry", func(b *testing.B) { loopbackGet(b, r.URL+path, 200, size) })
		b.Run(name+"/baseline", func(b *testing.B) { loopbackGet(b, base+path, 200, size) })
	}
}
