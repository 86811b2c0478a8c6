package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Requests are labelled by the route pattern the mux matched, the method
// (unknown ones as "other") and the status, also for a handler that
// panicked, and files still reach the connection's ReadFrom (sendfile).
func TestObserve(t *testing.T) {
	m := New(Options{Version: "1.2.3"})
	mux := http.NewServeMux()
	file := filepath.Join(t.TempDir(), "a.tar.gz")
	os.WriteFile(file, []byte(strings.Repeat("x", 10000)), 0o644)
	mux.HandleFunc("GET /packages/{name}/{file}", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(io.ReaderFrom); !ok {
			t.Error("the wrapped writer lost ReadFrom")
		}
		http.ServeFile(w, r, file)
	})
	mux.HandleFunc("POST /api/upload", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	pattern := func(r *http.Request) string {
		_, p := mux.Handler(r)
		if p == "" {
			return "unmatched"
		}
		return p
	}
	h := m.Observe(pattern, mux)
	// What the server's own recovery does outside Observe.
	recovering := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if recover() != nil {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}()
		h.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(recovering)
	defer srv.Close()

	do := func(method, path string) int {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	for range 2 {
		if s := do("GET", "/packages/mylib/1.0.0.tar.gz"); s != 200 {
			t.Fatalf("download: %d", s)
		}
	}
	do("POST", "/api/upload")
	do("GET", "/boom")
	do("GET", "/nothing/here")
	do("PURGE", "/api/upload")

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`dryad_http_request_duration_seconds_count{method="GET",route="/packages/{name}/{file}",status="200"} 2`,
		`dryad_http_request_duration_seconds_count{method="POST",route="/api/upload",status="201"} 1`,
		`dryad_http_request_duration_seconds_count{method="GET",route="/boom",status="500"} 1`,
		`dryad_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1`,
		`dryad_http_request_duration_seconds_count{method="other",route="unmatched",status="405"} 1`,
		`dryad_http_requests_in_flight 0`,
		`dryad_build_info{goversion="` + runtime.Version() + `",version="1.2.3"} 1`,
		`dryad_cache_requests_total{result="hit"} 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", body)
	}
}
