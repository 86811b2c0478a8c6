package metrics

import (
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Requests are labelled by the route pattern the mux matched (without its
// method), the method (unknown ones as "other") and the status; a request
// that matched no route is "unmatched".
func TestRequestDone(t *testing.T) {
	m := New(Options{Version: "1.2.3"})
	for _, r := range []struct {
		pattern, method string
		status          int
	}{
		{"GET /packages/{name}/{file}", "GET", 200},
		{"GET /packages/{name}/{file}", "GET", 200},
		{"POST /api/upload", "POST", 201},
		{"GET /boom", "GET", 500},
		{"", "GET", 404},
		{"", "PURGE", 405},
	} {
		m.RequestStarted()
		m.RequestDone(r.pattern, r.method, r.status, time.Millisecond)
	}

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
