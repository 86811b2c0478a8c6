package e2e

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// sample is one line of the Prometheus text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	sampleRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
	labelRE  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

func parseMetrics(t *testing.T, body string) []sample {
	t.Helper()
	var out []sample
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := sampleRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("not a sample line: %q", line)
		}
		s := sample{name: m[1], labels: map[string]string{}}
		for _, l := range labelRE.FindAllStringSubmatch(m[2], -1) {
			s.labels[l[1]] = l[2]
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("bad value in %q", line)
		}
		s.value = v
		out = append(out, s)
	}
	return out
}

// sum adds the values of the samples of a metric whose labels include
// the given ones (pairs of name, value); found reports whether any matched.
func sum(samples []sample, name string, labels ...string) (total float64, found bool) {
next:
	for _, s := range samples {
		if s.name != name {
			continue
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if s.labels[labels[i]] != labels[i+1] {
				continue next
			}
		}
		total += s.value
		found = true
	}
	return total, found
}

// After traffic, /metrics holds the request histogram labelled by route
// pattern, the publish, download, cache and rate-limit counters, the
// database pool, the git queue and the build.
func TestMetricsAfterTraffic(t *testing.T) {
	r := startRegistry(t, regOptions{})
	tok := r.signUp("measured")
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "counted", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
	r.expect(400, "POST", "/api/upload", tok, []byte("not a gzip stream"), "Content-Type", "application/gzip")
	r.expect(409, "POST", "/api/upload", tok, pkg{name: "counted", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
	// The git worker's commit changes the package's document once more
	// (its git_commit): read after it, so that the second read hits.
	r.waitQueueEmpty()
	r.expect(200, "GET", "/api/packages/counted", "", nil)
	r.expect(200, "GET", "/api/packages/counted", "", nil)
	r.expect(200, "GET", "/packages/counted/1.0.0.tar.gz", "", nil)
	r.expect(200, "GET", "/packages/counted/1.0.0.tar.gz", "", nil)
	r.expect(404, "GET", "/api/packages/no-such-package-anywhere", "", nil)
	r.do("BREW", "/api/packages/counted", "", nil)
	limited := false
	for i := 0; i < 30 && !limited; i++ {
		res := r.do("POST", "/api/auth/login", "", map[string]string{"username": "measured", "password": "wrong password " + fmt.Sprint(i)})
		limited = res.Status == 429
	}
	if !limited {
		t.Fatal("failed logins were never rate limited")
	}

	res := r.expect(200, "GET", "/metrics", "", nil)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	body := string(res.Body)
	s := parseMetrics(t, body)

	for _, c := range []struct {
		name   string
		labels []string
		min    float64
	}{
		{"dryad_http_request_duration_seconds_count", []string{"route", "/api/packages/{name}", "method", "GET", "status", "200"}, 2},
		{"dryad_http_request_duration_seconds_count", []string{"route", "/api/packages/{name}", "method", "GET", "status", "404"}, 1},
		{"dryad_http_request_duration_seconds_count", []string{"route", "/api/upload", "method", "POST", "status", "201"}, 1},
		{"dryad_http_request_duration_seconds_count", []string{"route", "/packages/{name}/{file}", "method", "GET", "status", "200"}, 2},
		{"dryad_http_request_duration_seconds_count", []string{"route", "/api/auth/login", "method", "POST", "status", "429"}, 1},
		{"dryad_http_request_duration_seconds_count", []string{"method", "other"}, 1},
		{"dryad_http_request_duration_seconds_bucket", []string{"route", "/api/packages/{name}", "le", "+Inf"}, 2},
		{"dryad_publishes_total", nil, 1},
		{"dryad_publish_failures_total", []string{"reason", "invalid_archive"}, 1},
		{"dryad_publish_failures_total", nil, 2},
		{"dryad_downloads_total", nil, 2},
		{"dryad_cache_requests_total", []string{"result", "hit"}, 1},
		{"dryad_cache_requests_total", []string{"result", "miss"}, 1},
		{"dryad_rate_limited_total", []string{"scope", "login"}, 1},
		{"dryad_db_connections_max", nil, 1},
		{"dryad_db_connections", []string{"state", "idle"}, 0},
		{"dryad_db_connections", []string{"state", "in_use"}, 0},
		{"dryad_db_waits_total", nil, 0},
		{"dryad_git_queue_jobs", nil, 0},
		{"dryad_git_queue_failing_jobs", nil, 0},
		{"dryad_git_mirror_failing_packages", nil, 0},
		{"dryad_build_info", []string{"version", "dev"}, 1},
		{"go_goroutines", nil, 1},
	} {
		got, found := sum(s, c.name, c.labels...)
		if !found || got < c.min {
			t.Errorf("%s%v = %v (found %v), want at least %v", c.name, c.labels, got, found, c.min)
		}
	}
	if v, _ := sum(s, "dryad_publishes_total"); v != 1 {
		t.Errorf("dryad_publishes_total = %v, want 1", v)
	}
	if v, _ := sum(s, "dryad_downloads_total"); v != 2 {
		t.Errorf("dryad_downloads_total = %v, want 2", v)
	}
	// Labels hold route patterns, never raw paths.
	for _, x := range s {
		if route, ok := x.labels["route"]; ok && (strings.Contains(route, "counted") || strings.Contains(route, "no-such-package")) {
			t.Errorf("a raw path became a label: %s%v", x.name, x.labels)
		}
	}
}

// pickPort returns a loopback port that was free a moment ago.
func pickPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

// METRICS_PORT moves /metrics to its own listener; ENABLE_METRICS=false
// turns it off.
func TestMetricsPlacement(t *testing.T) {
	t.Run("own port", func(t *testing.T) {
		port := pickPort(t)
		r := startRegistry(t, regOptions{Env: map[string]string{"METRICS_PORT": port}})
		r.expect(200, "GET", "/api/stats", "", nil)
		r.expect(404, "GET", "/metrics", "", nil)
		r.expect(404, "GET", "http://127.0.0.1:"+port+"/debug/pprof/heap", "", nil)
		res := r.expect(200, "GET", "http://127.0.0.1:"+port+"/metrics", "", nil)
		s := parseMetrics(t, string(res.Body))
		if v, _ := sum(s, "dryad_http_request_duration_seconds_count", "route", "/api/stats"); v != 1 {
			t.Errorf("requests of the main port counted %v times on the metrics port", v)
		}
		if _, found := sum(s, "dryad_build_info"); !found {
			t.Error("no dryad_build_info on the metrics port")
		}
		r.Stop()
		// The metrics listener is gone with the server.
		if _, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			t.Error("metrics port still accepts connections after the server stopped")
		}
	})
	t.Run("profiling", func(t *testing.T) {
		port := pickPort(t)
		r := startRegistry(t, regOptions{Env: map[string]string{"METRICS_PORT": port, "PROFILING": "true"}})
		heap := r.expect(200, "GET", "http://127.0.0.1:"+port+"/debug/pprof/heap?debug=1", "", nil)
		if !strings.Contains(string(heap.Body), "heap profile:") {
			t.Errorf("heap profile: %.200s", heap.Body)
		}
		// Never on the public port.
		r.expect(404, "GET", "/debug/pprof/heap", "", nil)
		// Without a private port the start is refused.
		environ := []string{"DATA_DIR=" + t.TempDir(), "PORT=0", "JWT_SECRET=test-secret-0123456789abcdef", "PROFILING=true"}
		if code, out, errOut := (invocation{Env: environ}).run(t, "serve"); code != 2 || !strings.Contains(out+errOut, "METRICS_PORT") {
			t.Errorf("PROFILING without METRICS_PORT: exit %d\n%s%s", code, out, errOut)
		}
	})
	t.Run("off", func(t *testing.T) {
		r := startRegistry(t, regOptions{Env: map[string]string{"ENABLE_METRICS": "false"}})
		r.expect(404, "GET", "/metrics", "", nil)
		r.expect(200, "GET", "/api/stats", "", nil)
	})
}
