package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/config"
	"github.com/dryad-lang/registry/internal/testenv"
)

// testRegistry is a registry served in-process by the real wiring of the
// serve command, on a free loopback port.
type testRegistry struct {
	t       testing.TB
	URL     string
	Config  *config.Config
	DataDir string
	logs    *testenv.Buffer
	cancel  context.CancelFunc
	done    chan error
	stopped bool
}

// regOptions choose the engine and extra settings of a test registry.
type regOptions struct {
	// Engine is "sqlite" (default) or "postgres".
	Engine string
	// DatabaseURL, when set, is used as it is (to share a database).
	DatabaseURL string
	// DataDir, when set, is used instead of a new temporary folder.
	DataDir string
	// Env holds extra configuration variables.
	Env map[string]string
	// DefaultLimits keeps the configuration's own rate limits instead of
	// turning them off.
	DefaultLimits bool
}

// engines runs fn once per metadata engine.
func engines(t *testing.T, fn func(t *testing.T, engine string)) {
	for _, e := range []string{"sqlite", "postgres"} {
		t.Run(e, func(t *testing.T) {
			if e == "postgres" {
				testenv.PostgresURL(t)
			}
			fn(t, e)
		})
	}
}

// startRegistry starts a registry and stops it when the test ends.
func startRegistry(t testing.TB, o regOptions) *testRegistry {
	t.Helper()
	dataDir := o.DataDir
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	env := map[string]string{
		"HOST": "127.0.0.1", "PORT": "0", "DATA_DIR": dataDir, "BCRYPT_COST": "4",
		"JWT_SECRET": "test-secret-0123456789abcdef", "LOG_LEVEL": "debug",
		// Tests make many requests quickly; rate limits have their own tests.
		"INSTALL_RATE_LIMIT": "0", "API_RATE_LIMIT": "0", "UPLOAD_RATE_LIMIT": "0",
	}
	if o.DefaultLimits {
		delete(env, "INSTALL_RATE_LIMIT")
		delete(env, "API_RATE_LIMIT")
		delete(env, "UPLOAD_RATE_LIMIT")
	}
	switch {
	case o.DatabaseURL != "":
		env["DATABASE_URL"] = o.DatabaseURL
	case o.Engine == "postgres":
		env["DATABASE_URL"] = testenv.NewPostgresDatabase(t)
	}
	for k, v := range o.Env {
		env[k] = v
	}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	cfg, err := config.Load(config.Options{WorkDir: t.TempDir(), Environ: environ})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	r := &testRegistry{t: t, Config: cfg, DataDir: dataDir, logs: &testenv.Buffer{}, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	ready := make(chan string, 1)
	e := &environment{stdin: strings.NewReader(""), stdout: r.logs, stderr: r.logs, workDir: dataDir}
	go func() { r.done <- serve(ctx, e, cfg, ready) }()
	select {
	case addr := <-ready:
		r.URL = "http://" + addr
	case err := <-r.done:
		t.Fatalf("registry did not start: %v\n%s", err, r.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("registry did not start in time\n%s", r.logs.String())
	}
	t.Cleanup(r.Stop)
	return r
}

// Stop shuts the registry down gracefully and checks it stopped cleanly.
func (r *testRegistry) Stop() {
	if r.stopped {
		return
	}
	r.stopped = true
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Errorf("registry stopped with error: %v", err)
		}
	case <-time.After(60 * time.Second):
		r.t.Errorf("registry did not stop in time")
	}
	if r.t.Failed() {
		r.t.Logf("registry log:\n%s", r.logs.String())
	}
}

// Logs returns what the registry logged so far.
func (r *testRegistry) Logs() string { return r.logs.String() }

// response is a finished HTTP exchange.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (res *response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(res.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, res.Body)
	}
	return m
}

// do sends a request; body may be nil, a []byte, a string or a value to
// encode as JSON. headers are pairs of name, value.
func (r *testRegistry) do(method, path, token string, body any, headers ...string) *response {
	r.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = r.URL + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		r.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// expect sends a request and fails the test unless the status matches.
func (r *testRegistry) expect(status int, method, path, token string, body any, headers ...string) *response {
	r.t.Helper()
	res := r.do(method, path, token, body, headers...)
	if res.Status != status {
		r.t.Fatalf("%s %s: status %d, want %d\n%s", method, path, res.Status, status, res.Body)
	}
	return res
}

// signUp registers a user and returns a login token (JWT).
func (r *testRegistry) signUp(username string) string {
	r.t.Helper()
	r.expect(201, "POST", "/api/auth/register", "", map[string]string{
		"username": username, "email": username + "@example.org", "password": "correct-horse-" + username,
	})
	return r.login(username)
}

func (r *testRegistry) login(username string) string {
	r.t.Helper()
	res := r.expect(200, "POST", "/api/auth/login", "", map[string]string{"username": username, "password": "correct-horse-" + username})
	return res.JSON(r.t)["token"].(string)
}

// apiToken creates an API token with the given scopes.
func (r *testRegistry) apiToken(jwt string, scopes []string, packages ...string) string {
	r.t.Helper()
	res := r.expect(201, "POST", "/api/tokens", jwt, map[string]any{"name": "t" + fmt.Sprint(time.Now().UnixNano()), "scopes": scopes, "packages": packages})
	return res.JSON(r.t)["token"].(string)
}

// publish uploads an archive as the raw body and returns the response.
func (r *testRegistry) publish(token string, archive []byte) *response {
	r.t.Helper()
	return r.do("POST", "/api/upload", token, archive, "Content-Type", "application/gzip")
}

// publishMultipart uploads an archive as the web form does.
func (r *testRegistry) publishMultipart(token, filename string, archive []byte) *response {
	r.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("note", "fields before the file are skipped")
	fw, _ := mw.CreateFormFile("package", filename)
	fw.Write(archive)
	mw.Close()
	return r.do("POST", "/api/upload", token, buf.Bytes(), "Content-Type", mw.FormDataContentType())
}

// pkg builds a package archive: a manifest from name, version and extra
// fields, plus files; prefix puts everything inside one top-level folder.
type pkg struct {
	name, version string
	fields        map[string]any
	files         map[string]string
	prefix        string
}

func (p pkg) archive(t testing.TB) []byte {
	t.Helper()
	m := map[string]any{"name": p.name, "version": p.version, "description": "the " + p.name + " package", "dependencies": map[string]string{}}
	for k, v := range p.fields {
		m[k] = v
	}
	mj, _ := json.MarshalIndent(m, "", "  ")
	files := map[string]string{"oaklibs.json": string(mj), "lib/" + p.name + ".dryad": "export fn hello() { print(\"" + p.name + "\") }\n"}
	for k, v := range p.files {
		files[k] = v
	}
	return tarGz(t, p.prefix, files)
}

// tarGz writes files (sorted, in a random-looking but fixed way) into a
// gzip-compressed tar, under prefix when it is not empty.
func tarGz(t testing.TB, prefix string, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	if prefix != "" {
		tw.WriteHeader(&tar.Header{Name: prefix + "/", Typeflag: tar.TypeDir, Mode: 0o775, ModTime: time.Now()})
	}
	for _, n := range names {
		full := n
		if prefix != "" {
			full = prefix + "/" + n
		}
		if err := tw.WriteHeader(&tar.Header{Name: full, Mode: 0o664, Size: int64(len(files[n])), ModTime: time.Now(), Uid: 1000, Gid: 1000, Uname: "someone"}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(files[n]))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// untar reads a gzip-compressed tar into a map of path → content (folders
// get "<dir>").
func untar(t testing.TB, b []byte) map[string]string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	tr := tar.NewReader(gz)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not tar: %v", err)
		}
		if h.Typeflag == tar.TypeDir {
			out[strings.TrimSuffix(h.Name, "/")] = "<dir>"
			continue
		}
		c, _ := io.ReadAll(tr)
		out[h.Name] = string(c)
	}
	return out
}

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// registryBinary builds the dryad-registry binary once per test run, for
// tests of the process itself (exit statuses, signals).
func registryBinary(t testing.TB) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dryad-registry-bin-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "dryad-registry")
		out, err := exec.Command("go", "build", "-o", binaryPath, ".").CombinedOutput()
		if err != nil {
			binaryErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}
