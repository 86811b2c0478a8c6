package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/config"
	"github.com/dryad-lang/registry/internal/ratelimit"
	"github.com/dryad-lang/registry/internal/testenv"
)

// The production topology of deploy/: several registry instances sharing
// PostgreSQL, Redis and the package folder, behind nginx configured from
// deploy/nginx/dryad-registry.conf.template, all run for real on loopback.

// topoDomain is the registry's host name in these tests; the test client
// resolves it to 127.0.0.1.
const topoDomain = "registry.test"

// templateVars are the variables the nginx template may use: the official
// nginx image substitutes defined variables only, and a test renders it with
// exactly this list, so that nginx's own $variables survive.
var templateVars = []string{"REGISTRY_UPSTREAMS", "NGINX_HTTP_PORT", "NGINX_HTTPS_PORT", "SSL_CERT_PATH", "SSL_KEY_PATH", "DOMAIN"}

// deployPath is a file of the deploy folder, from this package's folder.
func deployPath(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "deploy"}, parts...)...)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// testCert makes a self-signed certificate for topoDomain in dir and
// returns the paths of the certificate and key and a pool trusting it.
func testCert(t testing.TB, dir string) (certPath, keyPath string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: topoDomain},
		DNSNames:              []string{topoDomain},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certPath, keyPath, pool
}

// renderTemplate renders the nginx template as the official image does:
// envsubst over the whole environment, substituting only the listed
// variables.
func renderTemplate(t testing.TB, vars map[string]string) string {
	t.Helper()
	bin := testenv.LookPath(t, "envsubst")
	tmpl, err := os.ReadFile(deployPath("nginx", "dryad-registry.conf.template"))
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	for _, v := range templateVars {
		list = append(list, "${"+v+"}")
	}
	cmd := exec.Command(bin, strings.Join(list, " "))
	cmd.Stdin = bytes.NewReader(tmpl)
	cmd.Env = os.Environ()
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("envsubst: %v\n%s", err, stderr.String())
	}
	return string(out)
}

// edge is nginx configured from the template, in a folder of its own, on
// free loopback ports, with a certificate made for the test.
type edge struct {
	t                   testing.TB
	dir                 string
	httpPort, httpsPort int
	certPath, keyPath   string
	pool                *x509.CertPool
	client              *http.Client
	cmd                 *exec.Cmd
	done                chan struct{}
	log                 *testenv.Buffer
}

// newEdge prepares nginx's folder, ports, certificate and a client that
// trusts the certificate; start runs it.
func newEdge(t testing.TB) *edge {
	t.Helper()
	testenv.LookPath(t, "nginx")
	// nginx started as root runs its workers as nobody, who must reach the
	// temporary folders inside this one.
	dir, err := os.MkdirTemp("", "dryad-nginx-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e := &edge{t: t, dir: dir, httpPort: freePort(t), httpsPort: freePort(t), log: &testenv.Buffer{}}
	e.certPath, e.keyPath, e.pool = testCert(t, dir)
	e.client = e.newClient(nil)
	return e
}

// newClient returns an HTTP/2-capable client that resolves topoDomain to
// 127.0.0.1, trusts the test certificate and does not follow redirects.
// tc, when set, adjusts the TLS configuration.
func (e *edge) newClient(tc func(*tls.Config)) *http.Client {
	cfg := &tls.Config{RootCAs: e.pool}
	if tc != nil {
		tc(cfg)
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if host, port, err := net.SplitHostPort(addr); err == nil && host == topoDomain {
				addr = net.JoinHostPort("127.0.0.1", port)
			}
			return d.DialContext(ctx, network, addr)
		},
		TLSClientConfig:     cfg,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 16,
	}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		Timeout:       2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// base is the public URL of the registry behind this nginx.
func (e *edge) base() string { return fmt.Sprintf("https://%s:%d", topoDomain, e.httpsPort) }

// plain is the URL of the plain-HTTP server.
func (e *edge) plain() string { return fmt.Sprintf("http://%s:%d", topoDomain, e.httpPort) }

// vars are the template's variables for this nginx in front of upstreams
// (host:port each).
func (e *edge) vars(upstreams ...string) map[string]string {
	var servers []string
	for _, u := range upstreams {
		servers = append(servers, "server "+u+" max_fails=3 fail_timeout=10s;")
	}
	return map[string]string{
		"REGISTRY_UPSTREAMS": strings.Join(servers, " "),
		"NGINX_HTTP_PORT":    fmt.Sprintf("127.0.0.1:%d", e.httpPort),
		"NGINX_HTTPS_PORT":   fmt.Sprintf("127.0.0.1:%d", e.httpsPort),
		"SSL_CERT_PATH":      e.certPath,
		"SSL_KEY_PATH":       e.keyPath,
		"DOMAIN":             topoDomain,
	}
}

// configure renders the template and writes a main nginx.conf that
// includes it inside http {}, as the official image's does.
func (e *edge) configure(upstreams ...string) string {
	e.t.Helper()
	conf := renderTemplate(e.t, e.vars(upstreams...))
	if err := os.MkdirAll(filepath.Join(e.dir, "conf.d"), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.dir, "conf.d", "dryad-registry.conf"), []byte(conf), 0o644); err != nil {
		e.t.Fatal(err)
	}
	// The main configuration of the official image (1024 connections a
	// worker), but one worker: an install burst of 500 requests holds an
	// upstream connection for each request in flight, and must fit.
	main := fmt.Sprintf(`daemon off;
master_process on;
worker_processes 1;
error_log stderr notice;
pid %[1]s/nginx.pid;
events { worker_connections 1024; }
http {
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 65;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    access_log %[1]s/access.log;
    include %[1]s/conf.d/*.conf;
}
`, e.dir)
	path := filepath.Join(e.dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(main), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// nginxArgs are the command-line arguments selecting the test's folder.
func (e *edge) nginxArgs(extra ...string) []string {
	return append([]string{"-p", e.dir + "/", "-c", filepath.Join(e.dir, "nginx.conf"), "-e", "stderr"}, extra...)
}

// start configures nginx in front of upstreams and runs it until the test
// ends.
func (e *edge) start(upstreams ...string) {
	e.t.Helper()
	e.configure(upstreams...)
	e.cmd = exec.Command(testenv.LookPath(e.t, "nginx"), e.nginxArgs()...)
	e.cmd.Stdout, e.cmd.Stderr = e.log, e.log
	if err := e.cmd.Start(); err != nil {
		e.t.Fatalf("starting nginx: %v", err)
	}
	e.done = make(chan struct{})
	go func() { e.cmd.Wait(); close(e.done) }()
	e.t.Cleanup(e.stop)
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := e.client.Get(e.plain() + "/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		select {
		case <-e.done:
			e.t.Fatalf("nginx exited:\n%s", e.log.String())
		default:
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("nginx does not answer: %v\n%s", err, e.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop shuts nginx down gracefully (SIGQUIT) and waits for it.
func (e *edge) stop() {
	if e.cmd == nil {
		return
	}
	e.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-e.done:
	case <-time.After(15 * time.Second):
		e.cmd.Process.Kill()
		<-e.done
	}
	e.cmd = nil
	if e.t.Failed() {
		e.t.Logf("nginx log:\n%s", e.log.String())
	}
}

// fetch sends a request with c; body may be nil, an io.Reader, []byte, a
// string or a value to encode as JSON. headers are pairs of name, value.
func fetch(t testing.TB, c *http.Client, method, url, token string, body any, headers ...string) *response {
	t.Helper()
	res, err := tryFetch(c, method, url, token, body, headers...)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// tryFetch is fetch returning its error, for goroutines other than the
// test's.
func tryFetch(c *http.Client, method, url, token string, body any, headers ...string) (*response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading body: %v", method, url, err)
	}
	resp.Header.Set("X-Test-Proto", resp.Proto)
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// expectVia is fetch that fails the test unless the status matches.
func expectVia(t testing.TB, c *http.Client, status int, method, url, token string, body any, headers ...string) *response {
	t.Helper()
	res := fetch(t, c, method, url, token, body, headers...)
	if res.Status != status {
		t.Fatalf("%s %s: status %d, want %d\n%s", method, url, res.Status, status, res.Body)
	}
	return res
}

// zeros is an endless stream of zero bytes, for large bodies that are never
// held in memory.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestNginxTemplate checks the template itself: it names only the
// variables the image substitutes, renders into a configuration that
// nginx accepts, and keeps nginx's own variables intact.
func TestNginxTemplate(t *testing.T) {
	tmpl, err := os.ReadFile(deployPath("nginx", "dryad-registry.conf.template"))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{([^}]*)\}`).FindAllStringSubmatch(string(tmpl), -1) {
		used[m[1]] = true
	}
	var names []string
	for n := range used {
		names = append(names, n)
	}
	sort.Strings(names)
	want := append([]string(nil), templateVars...)
	sort.Strings(want)
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("template uses ${…} for %v; want exactly %v", names, want)
	}

	// The edge mirrors the policy table at the default settings: each
	// zone's rate, and the burst of every place it is applied.
	cfg, err := config.Load(config.Options{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	policies := map[string]ratelimit.Policy{}
	for _, p := range ratelimit.NewTable(ratelimit.Rates{Install: cfg.InstallRateLimit, API: cfg.APIRateLimit, Upload: cfg.UploadRateLimit}).All() {
		policies[p.Name] = p
	}
	zones := regexp.MustCompile(`limit_req_zone \$dryad_(\w+)_client\s+zone=(\w+):\w+\s+rate=(\d+)r/s;`).FindAllStringSubmatch(string(tmpl), -1)
	if len(zones) != 3 {
		t.Errorf("template has %d limit_req_zone lines of the policy, want 3 (install, api, upload)", len(zones))
	}
	for _, z := range zones {
		p, ok := policies[z[2]]
		if z[1] != z[2] || !ok || z[3] != strconv.FormatFloat(p.Limit.Rate, 'f', -1, 64) {
			t.Errorf("zone %s keyed by $dryad_%s_client at %s r/s; the policy table says %s at %v r/s", z[2], z[1], z[3], p.Name, p.Limit.Rate)
		}
	}
	for _, m := range regexp.MustCompile(`limit_req zone=(\w+) burst=(\d+)`).FindAllStringSubmatch(string(tmpl), -1) {
		if p := policies[m[1]]; m[2] != strconv.Itoa(p.Limit.Burst) {
			t.Errorf("limit_req zone=%s burst=%s; the policy's burst is %d", m[1], m[2], p.Limit.Burst)
		}
	}

	e := newEdge(t)
	e.configure("127.0.0.1:4001", "127.0.0.1:4002")
	out, err := exec.Command(testenv.LookPath(t, "nginx"), e.nginxArgs("-t")...).CombinedOutput()
	if err != nil {
		t.Fatalf("nginx -t on the rendered template: %v\n%s", err, out)
	}
	rendered, _ := os.ReadFile(filepath.Join(e.dir, "conf.d", "dryad-registry.conf"))
	for _, s := range []string{"${", "server 127.0.0.1:4001 max_fails=3 fail_timeout=10s;", "$request_uri", "$binary_remote_addr",
		"$proxy_add_x_forwarded_for", "listen 127.0.0.1:" + strconv.Itoa(e.httpsPort) + " ssl http2;", "server_name " + topoDomain + ";"} {
		if got := strings.Contains(string(rendered), s); got != (s != "${") {
			t.Errorf("rendered configuration contains %q: %v", s, got)
		}
	}
}

// TestProductionTopology runs the production shape of deploy/ for real: two
// registry instances sharing one PostgreSQL database, one Redis and one
// package folder, behind nginx rendered from the template, with TLS.
func TestProductionTopology(t *testing.T) {
	dbURL := testenv.NewPostgresDatabase(t)
	rds := testenv.StartRedis(t, testenv.RedisOptions{Password: true, Persist: true})
	shared := t.TempDir()
	e := newEdge(t)
	env := map[string]string{
		"REDIS_URL": rds.URL(), "TRUSTED_PROXIES": "127.0.0.1/32", "PUBLIC_URL": e.base(), "DOMAIN": topoDomain,
		"API_RATE_LIMIT": "10", "UPLOAD_RATE_LIMIT": "2",
	}
	opts := regOptions{DatabaseURL: dbURL, DataDir: shared, Env: env}
	// A project's worth of dependencies, published before the instances
	// start by one without limits on the same database and folder.
	setup := startRegistry(t, regOptions{DatabaseURL: dbURL, DataDir: shared})
	deps := publishMany(t, setup, setup.apiToken(setup.signUp("topo-deps"), []string{"publish"}), "topodep", 500)
	setup.Stop()
	a := startRegistry(t, opts)
	b := startRegistry(t, opts)
	e.start(strings.TrimPrefix(a.URL, "http://"), strings.TrimPrefix(b.URL, "http://"))
	edgeURL := e.base()
	c := e.client

	// downloads counts every full download per package, wherever it was
	// served, to check the stored totals at the end.
	downloads := map[string]int{}
	download := func(name, url string) {
		t.Helper()
		expectVia(t, c, 200, "GET", url, "", nil)
		downloads[name]++
	}
	// The steps share one state, each building on the last: they run in
	// order on the test's goroutine and the first fatal failure ends them.
	step := func(name string) { t.Log("step: " + name) }

	step("edge")
	{
		res := expectVia(t, c, 200, "GET", e.plain()+"/health", "", nil)
		if string(res.Body) != "healthy\n" {
			t.Errorf("plain /health body %q", res.Body)
		}
		res = expectVia(t, c, 301, "GET", e.plain()+"/api/packages/topo?x=1", "", nil)
		if got := res.Header.Get("Location"); got != edgeURL+"/api/packages/topo?x=1" {
			t.Errorf("redirect to %q, want %q", got, edgeURL+"/api/packages/topo?x=1")
		}
		expectVia(t, c, 404, "GET", e.plain()+"/.well-known/acme-challenge/token123", "", nil)

		res = expectVia(t, c, 200, "GET", edgeURL+"/health", "", nil)
		if res.Header.Get("X-Test-Proto") != "HTTP/2.0" {
			t.Errorf("HTTPS answered with %s, want HTTP/2.0", res.Header.Get("X-Test-Proto"))
		}
		for h, want := range map[string]string{
			"Strict-Transport-Security": "max-age=63072000", "X-Content-Type-Options": "nosniff",
			"X-Frame-Options": "DENY", "Referrer-Policy": "strict-origin-when-cross-origin",
		} {
			if got := res.Header.Values(h); len(got) != 1 || got[0] != want {
				t.Errorf("%s = %q, want one %q", h, got, want)
			}
		}
		for _, tc := range []struct {
			name     string
			min, max uint16
			ok       bool
		}{
			{"TLS 1.3", tls.VersionTLS13, tls.VersionTLS13, true},
			{"TLS 1.2", tls.VersionTLS12, tls.VersionTLS12, true},
			{"TLS 1.1", tls.VersionTLS10, tls.VersionTLS11, false},
		} {
			conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", e.httpsPort),
				&tls.Config{ServerName: topoDomain, RootCAs: e.pool, MinVersion: tc.min, MaxVersion: tc.max, NextProtos: []string{"h2", "http/1.1"}})
			if (err == nil) != tc.ok || err != nil && !strings.Contains(err.Error(), "protocol version") {
				t.Errorf("%s handshake: %v, want success %v (or nginx refusing the protocol version)", tc.name, err, tc.ok)
			}
			if err == nil {
				if st := conn.ConnectionState(); st.Version != tc.max || st.NegotiatedProtocol != "h2" {
					t.Errorf("%s: version %x, protocol %q", tc.name, st.Version, st.NegotiatedProtocol)
				}
				conn.Close()
			}
		}
		// Pages, git and the rest reach the registry (which echoes nginx's
		// request id); metrics do not leave the private network.
		for _, p := range []string{"/", "/git/topo.git/info/refs?service=git-upload-pack", "/packages/topo"} {
			if res := fetch(t, c, "GET", edgeURL+p, "", nil); len(res.Header.Get("X-Request-ID")) != 32 {
				t.Errorf("GET %s: %d without the request id nginx gives upstream requests: %v", p, res.Status, res.Header)
			}
		}
		expectVia(t, c, 404, "GET", edgeURL+"/metrics", "", nil)
	}

	var tok string
	var checksum string
	step("publish through nginx, read on both instances")
	{
		expectVia(t, c, 201, "POST", edgeURL+"/api/auth/register", "", map[string]string{
			"username": "topo-owner", "email": "topo@example.org", "password": "correct-horse-topo-owner"})
		res := expectVia(t, c, 200, "POST", edgeURL+"/api/auth/login", "", map[string]string{"username": "topo-owner", "password": "correct-horse-topo-owner"})
		tok = res.JSON(t)["token"].(string)
		// 3 MiB that do not compress: more than nginx's default body limit.
		big := make([]byte, 3<<20)
		rand.Read(big)
		arch := pkg{name: "topo", version: "1.0.0", fields: map[string]any{"description": strings.Repeat("a package served by several instances ", 20)},
			files: map[string]string{"data.bin": string(big)}}.archive(t)
		res = expectVia(t, c, 201, "POST", edgeURL+"/api/upload", tok, arch, "Content-Type", "application/gzip")
		checksum = res.JSON(t)["checksum"].(string)

		for _, r := range []*testRegistry{a, b} {
			doc := r.expect(200, "GET", "/api/packages/topo", tok, nil).JSON(t)
			if doc["version"] != "1.0.0" || doc["checksum"] != checksum || doc["download_url"] != edgeURL+"/packages/topo/1.0.0.tar.gz" {
				t.Errorf("%s: version %v checksum %v download_url %v", r.URL, doc["version"], doc["checksum"], doc["download_url"])
			}
		}
		res = expectVia(t, c, 200, "GET", edgeURL+"/packages/topo/1.0.0.tar.gz", "", nil)
		downloads["topo"]++
		sum := sha256.Sum256(res.Body)
		if hex.EncodeToString(sum[:]) != checksum {
			t.Errorf("archive through nginx hashes to %x, want %s", sum, checksum)
		}
		for h, want := range map[string]string{"ETag": `"` + checksum + `"`, "Cache-Control": "public, max-age=31536000, immutable",
			"Content-Type": "application/gzip", "Content-Encoding": "", "Accept-Ranges": "bytes"} {
			if got := res.Header.Get(h); got != want {
				t.Errorf("download %s = %q, want %q", h, got, want)
			}
		}
		part := expectVia(t, c, 206, "GET", edgeURL+"/packages/topo/1.0.0.tar.gz", "", nil, "Range", "bytes=100-199")
		if !bytes.Equal(part.Body, res.Body[100:200]) {
			t.Error("range through nginx differs from the archive")
		}
		expectVia(t, c, 304, "GET", edgeURL+"/packages/topo/1.0.0.tar.gz", "", nil, "If-None-Match", `"`+checksum+`"`)

		// Metadata is gzipped at the edge; its ETag, weakened by the
		// compression, still answers 304.
		res = expectVia(t, c, 200, "GET", edgeURL+"/api/packages/topo", "", nil, "Accept-Encoding", "gzip")
		if res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("metadata not gzipped: %v", res.Header)
		}
		zr, err := gzip.NewReader(bytes.NewReader(res.Body))
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := io.ReadAll(zr)
		var doc map[string]any
		if err := json.Unmarshal(plain, &doc); err != nil || doc["name"] != "topo" {
			t.Fatalf("gunzipped metadata: %v %s", err, plain)
		}
		expectVia(t, c, 304, "GET", edgeURL+"/api/packages/topo", "", nil, "Accept-Encoding", "gzip", "If-None-Match", res.Header.Get("ETag"))
	}

	step("a publish is seen by the other instance at once")
	{
		old := b.expect(200, "GET", "/api/packages/topo", tok, nil)
		if old.JSON(t)["version"] != "1.0.0" {
			t.Fatalf("before: %s", old.Body)
		}
		a.expect(201, "POST", "/api/upload", tok, pkg{name: "topo", version: "1.1.0"}.archive(t), "Content-Type", "application/gzip")
		now := b.expect(200, "GET", "/api/packages/topo", tok, nil, "If-None-Match", old.Header.Get("ETag"))
		if v := now.JSON(t)["version"]; v != "1.1.0" {
			t.Errorf("instance B still says latest is %v after a publish on A", v)
		}
		if v := expectVia(t, c, 200, "GET", edgeURL+"/api/packages/topo", "", nil).JSON(t)["version"]; v != "1.1.0" {
			t.Errorf("through nginx latest is %v", v)
		}
	}

	step("downloads through every path")
	{
		for i := 0; i < 3; i++ {
			download("topo", a.URL+"/packages/topo/1.1.0.tar.gz")
		}
		for i := 0; i < 2; i++ {
			download("topo", b.URL+"/packages/topo/1.0.0.tar.gz")
		}
		for i := 0; i < 4; i++ {
			download("topo", edgeURL+"/packages/topo/1.1.0.tar.gz")
		}
	}

	step("git clone over HTTPS through nginx")
	{
		gitBin := testenv.LookPath(t, "git")
		home := t.TempDir()
		git := func(args ...string) (string, error) {
			args = append([]string{"-c", fmt.Sprintf("http.curloptResolve=%s:%d:127.0.0.1", topoDomain, e.httpsPort)}, args...)
			cmd := exec.Command(gitBin, args...)
			cmd.Dir = home
			cmd.Env = append(os.Environ(), "HOME="+home, "GIT_CONFIG_NOSYSTEM=1", "GIT_SSL_CAINFO="+e.certPath, "GIT_TERMINAL_PROMPT=0")
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		repo := edgeURL + "/git/topo.git"
		// The version commits are written by a background worker, after
		// those of the 500 dependencies published first.
		a.waitQueueEmpty()
		var refs string
		waitFor(t, 30*time.Second, "tag v1.1.0 in "+repo, func() bool {
			refs, _ = git("ls-remote", repo)
			return strings.Contains(refs, "refs/tags/v1.1.0")
		})
		if out, err := git("clone", "--quiet", "--branch", "v1.0.0", repo, "clone"); err != nil {
			t.Fatalf("git clone through nginx: %v\n%s", err, out)
		}
		if b, err := os.ReadFile(filepath.Join(home, "clone", "data.bin")); err != nil || len(b) != 3<<20 {
			t.Errorf("cloned data.bin: %d bytes, %v", len(b), err)
		}
	}

	step("nginx refuses a 101 MiB upload")
	{
		before := strings.Count(a.Logs()+b.Logs(), "path=/api/upload")
		req, _ := http.NewRequest("POST", edgeURL+"/api/upload", io.LimitReader(zeros{}, 101<<20))
		req.ContentLength = 101 << 20
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/gzip")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("upload: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 413 {
			t.Fatalf("status %d, want 413\n%s", resp.StatusCode, body)
		}
		var eb errorJSON
		if err := json.Unmarshal(body, &eb); err != nil || eb.Error != "too_large" || !strings.Contains(eb.Message, "100 MB") {
			t.Errorf("413 body %q (%v)", body, err)
		}
		if after := strings.Count(a.Logs()+b.Logs(), "path=/api/upload"); after != before {
			t.Errorf("the refused upload reached a registry instance")
		}
	}

	step("Redis down: degraded, still serving, recovers")
	{
		a.expect(201, "POST", "/api/upload", tok, pkg{name: "topo-side", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
		// Every download so far reaches the database first: a flush of
		// counts held in Redis refreshes the cached documents of their
		// packages, which would hide a lost invalidation below.
		waitFor(t, 30*time.Second, "the download counts to be flushed", func() bool {
			st := a.expect(200, "GET", "/api/packages/topo/stats", tok, nil).JSON(t)
			return int(st["total"].(float64)) == downloads["topo"]
		})
		// B caches the current document in Redis.
		if v := b.expect(200, "GET", "/api/packages/topo", tok, nil).JSON(t)["version"]; v != "1.1.0" {
			t.Fatalf("latest %v", v)
		}
		rds.Stop()
		for _, r := range []*testRegistry{a, b} {
			h := r.expect(200, "GET", "/api/health", "", nil).JSON(t)
			checks, _ := h["checks"].(map[string]any)
			redis, _ := checks["redis"].(map[string]any)
			if h["status"] != "degraded" || redis["status"] != "failing" || checks["database"].(map[string]any)["status"] != "ok" {
				t.Errorf("%s health with Redis down: %v", r.URL, h)
			}
		}
		if s := expectVia(t, c, 200, "GET", edgeURL+"/api/health", "", nil).JSON(t)["status"]; s != "degraded" {
			t.Errorf("health through nginx: %v", s)
		}
		a.expect(201, "POST", "/api/upload", tok, pkg{name: "topo", version: "1.2.0"}.archive(t), "Content-Type", "application/gzip")
		for _, r := range []*testRegistry{a, b} {
			if v := r.expect(200, "GET", "/api/packages/topo", tok, nil).JSON(t)["version"]; v != "1.2.0" {
				t.Errorf("%s with Redis down: latest %v, want 1.2.0", r.URL, v)
			}
		}
		// Downloads go on, counted in B's memory meanwhile. They are of
		// another package, on B: a download flush touches the cache, which
		// would deliver A's invalidation of "topo" by chance.
		for i := 0; i < 3; i++ {
			download("topo-side", b.URL+"/packages/topo-side/1.0.0.tar.gz")
		}

		// Redis comes back with what it held, the document of 1.1.0
		// included: the instances must not serve it.
		rds.Start(t)
		for _, r := range []*testRegistry{a, b} {
			waitFor(t, 30*time.Second, r.URL+" healthy again", func() bool {
				return r.expect(200, "GET", "/api/health", "", nil).JSON(t)["status"] == "healthy"
			})
		}
		waitFor(t, 15*time.Second, "instance B to serve 1.2.0 from the recovered cache", func() bool {
			return b.expect(200, "GET", "/api/packages/topo", tok, nil).JSON(t)["version"] == "1.2.0"
		})
		for i := 0; i < 3; i++ {
			if v := b.expect(200, "GET", "/api/packages/topo", tok, nil).JSON(t)["version"]; v != "1.2.0" {
				t.Fatalf("instance B went back to %v", v)
			}
		}
	}

	step("Redis unreachable: calls time out, the registry keeps serving")
	{
		rds.Freeze(t)
		start := time.Now()
		h := a.expect(200, "GET", "/api/health", "", nil).JSON(t)
		if h["status"] != "degraded" {
			t.Errorf("health with Redis frozen: %v", h)
		}
		a.expect(201, "POST", "/api/upload", tok, pkg{name: "topo", version: "1.2.1"}.archive(t), "Content-Type", "application/gzip")
		for _, r := range []*testRegistry{a, b} {
			if v := r.expect(200, "GET", "/api/packages/topo", tok, nil).JSON(t)["version"]; v != "1.2.1" {
				t.Errorf("%s with Redis frozen: latest %v, want 1.2.1", r.URL, v)
			}
		}
		t.Logf("served with Redis frozen in %v", time.Since(start))
		rds.Thaw(t)
		for _, r := range []*testRegistry{a, b} {
			waitFor(t, 30*time.Second, r.URL+" healthy again", func() bool {
				return r.expect(200, "GET", "/api/health", "", nil).JSON(t)["status"] == "healthy"
			})
		}
		waitFor(t, 15*time.Second, "instance B to serve 1.2.1 after the thaw", func() bool {
			return b.expect(200, "GET", "/api/packages/topo", tok, nil).JSON(t)["version"] == "1.2.1"
		})
	}

	step("one instance stopped: nginx keeps answering")
	{
		b.Stop()
		for i := 0; i < 6; i++ {
			if v := expectVia(t, c, 200, "GET", edgeURL+"/api/packages/topo", "", nil).JSON(t)["version"]; v != "1.2.1" {
				t.Errorf("latest %v", v)
			}
			download("topo", edgeURL+"/packages/topo/1.2.0.tar.gz")
		}
		expectVia(t, c, 201, "POST", edgeURL+"/api/upload", tok, pkg{name: "topo", version: "1.3.0"}.archive(t), "Content-Type", "application/gzip")
	}

	step("an install of 500 dependencies at once is never refused")
	{
		installBurst(t, c, edgeURL, deps)
	}

	step("a burst of other API requests gets 429s")
	{
		const n = 40
		results, errs := make([]*response, n), make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = tryFetch(c, "GET", edgeURL+"/api/packages/topo/versions", "", nil)
			}()
		}
		wg.Wait()
		ok, limited := 0, 0
		for i, res := range results {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			switch res.Status {
			case 200:
				ok++
			case 429:
				limited++
				checkRateLimited(t, res)
			default:
				t.Errorf("burst answer %d: %s", res.Status, res.Body)
			}
		}
		if limited == 0 || ok == 0 {
			t.Errorf("burst of %d: %d answered, %d limited; want some of each", n, ok, limited)
		}
		t.Logf("burst of %d: %d answered, %d limited", n, ok, limited)
	}

	step("download counts are exact after both instances stopped")
	{
		a.Stop()
		// A third instance reads what the two stored; nothing is left in
		// Redis for it to flush.
		r := startRegistry(t, opts)
		for name, want := range downloads {
			st := r.expect(200, "GET", "/api/packages/"+name+"/stats", tok, nil).JSON(t)
			if got := int(st["total"].(float64)); got != want {
				t.Errorf("stored downloads of %s = %d, want %d", name, got, want)
			}
		}
	}
}

// errorJSON is the registry's error body.
type errorJSON struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// checkRateLimited checks a 429 answer: Retry-After in whole seconds and
// the JSON error body.
func checkRateLimited(t testing.TB, res *response) {
	t.Helper()
	if n, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || n < 1 {
		t.Errorf("429 with Retry-After %q", res.Header.Get("Retry-After"))
	}
	var eb errorJSON
	if err := json.Unmarshal(res.Body, &eb); err != nil || eb.Error != "rate_limited" || !limitNamed.MatchString(eb.Message) ||
		!strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Errorf("429 body %q (%s, %v); want the rate_limited error naming its limit", res.Body, res.Header.Get("Content-Type"), err)
	}
}

// limitNamed finds the name of a limit of the policy table in a message.
var limitNamed = regexp.MustCompile(`the (install|api|upload|webform|login:pair|login:acct|login:ip) limit`)

// waitFor polls cond until it holds, failing the test after limit.
func waitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %v", what, limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestDeployFiles checks deploy/.env.example against the registry and the
// compose file: every setting documented, every variable compose uses
// defined, and the shipped placeholders refused at start.
func TestDeployFiles(t *testing.T) {
	example, err := os.ReadFile(deployPath(".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	compose, err := os.ReadFile(deployPath("docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// Names set or shown (commented out) in the example.
	defined := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#?\s*([A-Z][A-Z0-9_]*)=`).FindAllStringSubmatch(string(example), -1) {
		defined[m[1]] = true
	}
	for _, v := range config.Vars() {
		if !defined[v.Name] {
			t.Errorf(".env.example does not document %s", v.Name)
		}
	}
	for _, v := range templateVars {
		if !defined[v] {
			t.Errorf(".env.example does not set %s, which the nginx template needs", v)
		}
	}
	for _, m := range regexp.MustCompile(`\$\{([A-Z][A-Z0-9_]*)(:?[-?][^}]*)?\}`).FindAllStringSubmatch(string(compose), -1) {
		if !defined[m[1]] {
			t.Errorf("docker-compose.yml uses ${%s}, which .env.example does not define", m[1])
		}
	}

	// As shipped, the example stops the registry at its first placeholder;
	// with real secrets in their place it loads.
	dir := t.TempDir()
	envFile := filepath.Join(dir, ".env")
	os.WriteFile(envFile, example, 0o600)
	_, err = config.Load(config.Options{WorkDir: dir})
	var ce *config.Error
	if !errors.As(err, &ce) || !strings.Contains(ce.Error(), "placeholder") {
		t.Fatalf("loading .env.example as it is: %v; want a placeholder refused", err)
	}
	placeholder := regexp.MustCompile(`(?m)^([A-Z_]+)=change_this\w*$`)
	secrets := placeholder.FindAllStringSubmatch(string(example), -1)
	if len(secrets) < 3 {
		t.Fatalf("want placeholders for the JWT, database and Redis secrets, found %v", secrets)
	}
	for _, s := range secrets {
		// Each placeholder alone stops the start.
		one := placeholder.ReplaceAllStringFunc(string(example), func(line string) string {
			if strings.HasPrefix(line, s[1]+"=") {
				return line
			}
			return strings.SplitN(line, "=", 2)[0] + "=" + hex.EncodeToString([]byte(line))[:40]
		})
		os.WriteFile(envFile, []byte(one), 0o600)
		_, err := config.Load(config.Options{WorkDir: dir})
		if !errors.As(err, &ce) || ce.Var != s[1] {
			t.Errorf("with only %s left as shipped: %v; want it refused", s[1], err)
		}
	}
	filled := placeholder.ReplaceAllStringFunc(string(example), func(line string) string {
		return strings.SplitN(line, "=", 2)[0] + "=" + hex.EncodeToString([]byte(line))[:40]
	})
	os.WriteFile(envFile, []byte(filled), 0o600)
	cfg, err := config.Load(config.Options{WorkDir: dir})
	if err != nil {
		t.Fatalf("the example with its secrets set: %v", err)
	}
	if !strings.HasPrefix(cfg.DatabaseURL, "postgres://") || !strings.HasPrefix(cfg.RedisURL, "redis://") || cfg.PublicURL == "" || len(cfg.TrustedProxies) == 0 {
		t.Errorf("the example does not configure PostgreSQL, Redis, the public URL and the proxy: %+v", cfg)
	}
}
