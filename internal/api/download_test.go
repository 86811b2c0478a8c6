package api_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// A small archive is served from the process's memory once read: with its
// file gone, plain, ranged, conditional and HEAD requests are all still
// answered from the same bytes, with the same headers. A large one is
// read from the archive store each time, and a deleted version is refused
// whatever memory holds.
func TestSmallArchiveServedFromMemory(t *testing.T) {
	a := newBenchAPI(t)
	ctx := context.Background()
	do := func(method, path string, header ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		a.mux.ServeHTTP(w, r)
		return w
	}
	ref, err := a.reg.LookupArchive(ctx, "small", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(a.blobs, blobPath(t, a.blobs, ref.Checksum))
	stored, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const url = "/packages/small/1.0.0.tar.gz"
	first := do("GET", url)
	if first.Code != 200 || !bytes.Equal(first.Body.Bytes(), stored) {
		t.Fatalf("first download: %d, %d bytes (want %d)", first.Code, first.Body.Len(), len(stored))
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}

	w := do("GET", url)
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), stored) {
		t.Fatalf("download from memory: %d, %d bytes", w.Code, w.Body.Len())
	}
	for _, k := range []string{"Etag", "Cache-Control", "Content-Type", "Content-Disposition", "X-Checksum-Sha256", "Accept-Ranges"} {
		if got, want := w.Header().Get(k), first.Header().Get(k); got != want || got == "" {
			t.Errorf("%s: %q from memory, %q from the file", k, got, want)
		}
	}
	if w.Header().Get("Content-Length") != strconv.Itoa(len(stored)) {
		t.Errorf("Content-Length %q, want %d", w.Header().Get("Content-Length"), len(stored))
	}
	if w := do("GET", url, "Range", "bytes=10-19"); w.Code != 206 || !bytes.Equal(w.Body.Bytes(), stored[10:20]) {
		t.Errorf("range from memory: %d %q", w.Code, w.Body.Bytes())
	}
	if w := do("GET", url, "If-None-Match", `"`+ref.Checksum+`"`); w.Code != 304 || w.Body.Len() != 0 {
		t.Errorf("If-None-Match from memory: %d, %d bytes", w.Code, w.Body.Len())
	}
	if w := do("HEAD", url); w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != strconv.Itoa(len(stored)) {
		t.Errorf("HEAD from memory: %d, %d bytes, length %q", w.Code, w.Body.Len(), w.Header().Get("Content-Length"))
	}

	large, err := a.reg.LookupArchive(ctx, "large", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if w := do("GET", "/packages/large/1.0.0.tar.gz"); w.Code != 200 || int64(w.Body.Len()) != large.Size {
		t.Fatalf("large download: %d, %d bytes", w.Code, w.Body.Len())
	}
	if err := os.Remove(filepath.Join(a.blobs, blobPath(t, a.blobs, large.Checksum))); err != nil {
		t.Fatal(err)
	}
	if w := do("GET", "/packages/large/1.0.0.tar.gz"); w.Code != 503 {
		t.Errorf("a large archive whose file is gone: %d, want 503 (it is not kept in memory)", w.Code)
	}

	if _, err := a.reg.DeleteVersion(ctx, a.owner, "small", "1.0.0", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if w := do("GET", url); w.Code != 410 {
		t.Errorf("a deleted version: %d, want 410 even though its bytes are in memory", w.Code)
	}
}
