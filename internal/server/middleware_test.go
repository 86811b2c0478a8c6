package server

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/httpx"
)

func TestRecoverPanicsAnswersJSON500(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := requestID(recoverPanics(log, nil, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
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
	var seen string
	h := requestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = httpx.RequestID(r.Context())
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
	srv := httptest.NewServer(accessLog(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
