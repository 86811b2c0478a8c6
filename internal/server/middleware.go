package server

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/httpx"
)

// requestID gives every request an id, taken from a sane X-Request-ID
// header (so a proxy's id carries through) or made up, and echoes it.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			id = httpx.NewRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(httpx.WithRequestID(r.Context(), id)))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// clientInfo resolves the client's address and base URL once per request.
func clientInfo(p httpx.Proxies, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(httpx.WithClient(r.Context(), p.Resolve(r))))
	})
}

// cleanPath collapses repeated slashes, so a client configured with a
// trailing slash in the registry URL (…//api/packages/x) is served
// directly instead of redirected (a redirect would turn a POST into a GET).
func cleanPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "//") {
			p := r.URL.Path
			for strings.Contains(p, "//") {
				p = strings.ReplaceAll(p, "//", "/")
			}
			r2 := r.Clone(r.Context())
			r2.URL.Path = p
			r2.URL.RawPath = ""
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status and size of a response for the log,
// while keeping the optional interfaces (Flusher, ReaderFrom for sendfile)
// reachable through Unwrap and ReadFrom.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// ReadFrom hands the reader to the connection's own ReadFrom unchanged:
// that is where net/http uses sendfile for files (http.ServeContent copies
// through it), and any wrapping of the reader would lose it.
func (w *statusWriter) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(w.ResponseWriter, src)
	}
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// accessLog writes one line per request.
func accessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		log.LogAttrs(r.Context(), level, "request",
			slog.String("request_id", httpx.RequestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Int64("bytes", sw.bytes),
			slog.Duration("duration", time.Since(start)),
			slog.String("client", httpx.ClientOf(r).IP),
		)
	})
}

// recoverPanics turns a panicking handler into a JSON 500 and a log line
// with the stack, instead of a dropped connection.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil || v == http.ErrAbortHandler {
				if v != nil {
					panic(v)
				}
				return
			}
			log.ErrorContext(r.Context(), "panic serving request", "request_id", httpx.RequestID(r.Context()),
				"path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"error":"internal","message":"internal error; the problem has been logged"}` + "\n"))
		}()
		next.ServeHTTP(w, r)
	})
}

// deadlines bound how long reading a request body and writing a response
// may take. Uploads get UPLOAD_TIMEOUT; handlers that need longer (git,
// downloads) extend their own deadlines.
func deadlines(upload time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		read, write := 60*time.Second, 120*time.Second
		if r.Method == http.MethodPost && r.URL.Path == "/api/upload" {
			read, write = upload, upload+30*time.Second
		}
		if strings.HasPrefix(r.URL.Path, "/git/") {
			read, write = 10*time.Minute, 30*time.Minute
		}
		now := time.Now()
		rc.SetReadDeadline(now.Add(read))
		rc.SetWriteDeadline(now.Add(write))
		next.ServeHTTP(w, r)
	})
}
