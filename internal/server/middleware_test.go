package server

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/httpx"
)

func TestRecoverPanicsAnswersJSON500(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := requestInfo(httpx.Proxies{}, recoverPanics(log, nil, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/x", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"error":"internal"`) || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("panic answer: %d %q %v", rec.Code, rec.Body, rec.Header())
	}
	id := rec.Header().Get("X-Request-ID")
	if id == "" || !strings.Contains(logs.String(), "request_id="+id) || !strings.Contains(logs.String(), "boom") || !strings.Contains(logs.String(), "stack=") {
		t.Errorf("panic log should carry the request id and stack:\n%s", logs.String())
	}
}

func TestRequestID(t *testing.T) {
	var seen, client string
	h := requestInfo(httpx.Proxies{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = httpx.RequestID(r.Context())
		client = httpx.ClientOf(r).IP
	}))
	for _, tt := range []struct{ in, want string }{
		{"abc-123", "abc-123"},
		{"", ""},
		{"bad id with spaces", ""},
		{strings.Repeat("x", 65), ""},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tt.in != "" {
			r.Header.Set("X-Request-ID", tt.in)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Header().Get("X-Request-ID") != seen || seen == "" {
			t.Errorf("%q: header %q, context %q", tt.in, rec.Header().Get("X-Request-ID"), seen)
		}
		if client != "192.0.2.1" { // httptest.NewRequest's peer
			t.Errorf("client %q, want the peer's address", client)
		}
		if tt.want != "" && seen != tt.want {
			t.Errorf("a sane incoming id should be kept: %q -> %q", tt.in, seen)
		}
		if tt.want == "" && seen == tt.in {
			t.Errorf("an unusable incoming id was kept: %q", tt.in)
		}
	}
}

func TestCleanPathServesDoubleSlashes(t *testing.T) {
	var got string
	h := cleanPath(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.URL.Path }))
	for in, want := range map[string]string{"//api/health": "/api/health", "/api//packages///x": "/api/packages/x", "/ok": "/ok"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "http://h"+in, nil))
		if got != want || rec.Code != 200 {
			t.Errorf("%s -> %s (status %d), want %s served directly", in, got, rec.Code, want)
		}
	}
}

// TestAccessLogKeepsSendfile checks that the logging wrapper keeps the
// connection's ReadFrom reachable (sendfile for downloads) and counts bytes.
func TestAccessLogKeepsSendfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blob")
	os.WriteFile(path, bytes.Repeat([]byte("x"), 1<<20), 0o600)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var rf bool
	srv := httptest.NewServer(accessLog(log, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, rf = w.(io.ReaderFrom)
		f, _ := os.Open(path)
		defer f.Close()
		http.ServeContent(w, r, "", time.Time{}, f)
	})))
	resp, err := http.Get(srv.URL + "/packages/x/1.0.0.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	srv.Close() // waits for the handler, and so for its log line
	if !rf || n != 1<<20 {
		t.Errorf("ReaderFrom reachable %v, %d bytes", rf, n)
	}
	if !strings.Contains(logs.String(), "bytes=1048576") || !strings.Contains(logs.String(), "status=200") {
		t.Errorf("access log: %s", logs.String())
	}
}

func TestCORS(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	tests := []struct {
		allowed              []string
		method, path, origin string
		status               int
		allowOrigin          string
	}{
		{nil, "GET", "/api/packages/x", "https://app.example", 200, ""},
		{[]string{"https://app.example"}, "GET", "/api/packages/x", "https://app.example", 200, "https://app.example"},
		{[]string{"https://app.example"}, "GET", "/api/packages/x", "https://evil.example", 200, ""},
		{[]string{"https://app.example"}, "OPTIONS", "/api/upload", "https://app.example", 204, "https://app.example"},
		{[]string{"*"}, "GET", "/packages/x/1.0.0.tar.gz", "https://any.example", 200, "*"},
		{[]string{"*"}, "GET", "/dashboard", "https://any.example", 200, ""},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.path, nil)
		r.Header.Set("Origin", tt.origin)
		if tt.method == "OPTIONS" {
			r.Header.Set("Access-Control-Request-Method", "POST")
		}
		rec := httptest.NewRecorder()
		cors(tt.allowed, ok).ServeHTTP(rec, r)
		if rec.Code != tt.status || rec.Header().Get("Access-Control-Allow-Origin") != tt.allowOrigin {
			t.Errorf("%v %s %s from %s: %d %q", tt.allowed, tt.method, tt.path, tt.origin, rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
		}
		if rec.Header().Get("Access-Control-Allow-Credentials") != "" {
			t.Error("credentials must never be allowed")
		}
		if tt.status == 204 && !strings.Contains(rec.Header().Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Error("preflight must allow the Authorization header")
		}
	}
}

// observed is an Observer that keeps what it is told.
type observed struct {
	mu      sync.Mutex
	started int
	done    []string
}

func (o *observed) RequestStarted() { o.mu.Lock(); o.started++; o.mu.Unlock() }

func (o *observed) RequestDone(pattern, method string, status int, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done = append(o.done, fmt.Sprintf("%s|%s|%d", pattern, method, status))
}

// The access log tells the observer the pattern the mux matched (read from
// the request, not matched again), the method and the status, also of a
// handler that panicked (the recovery's 500) or aborted, and of a request
// no route matched.
func TestAccessLogObserves(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /packages/{name}/{file}", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("x")) })
	mux.HandleFunc("POST /api/upload", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	mux.HandleFunc("GET /abort", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
	obs := &observed{}
	srv := httptest.NewServer(accessLog(log, obs, recoverPanics(log, nil, mux)))
	for _, req := range []struct{ method, path string }{
		{"GET", "/packages/mylib/1.0.0.tar.gz"}, {"POST", "/api/upload"}, {"GET", "/boom"},
		{"GET", "/abort"}, {"GET", "/nothing/here"}, {"PURGE", "/api/upload"},
	} {
		r, _ := http.NewRequest(req.method, srv.URL+req.path, nil)
		if res, err := http.DefaultClient.Do(r); err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	}
	srv.Close() // waits for the handlers
	want := []string{
		"GET /packages/{name}/{file}|GET|200", "POST /api/upload|POST|201", "GET /boom|GET|500",
		"GET /abort|GET|500", "|GET|404", "|PURGE|405",
	}
	if obs.started != len(want) || !slices.Equal(obs.done, want) {
		t.Errorf("observed %d started, done %q; want %q", obs.started, obs.done, want)
	}
}

// BenchmarkMiddleware measures what the middleware every request goes
// through costs around a handler that does nothing.
func BenchmarkMiddleware(b *testing.B) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/packages/{name}", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("{}"))
	})
	h := cleanPath(requestInfo(httpx.Proxies{}, accessLog(log, nopObserver{}, recoverPanics(log, nil, cors(nil, mux)))))
	r := httptest.NewRequest("GET", "/api/packages/mylib", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

type nopObserver struct{}

func (nopObserver) RequestStarted()                                {}
func (nopObserver) RequestDone(string, string, int, time.Duration) {}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}
