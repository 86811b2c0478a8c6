package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/config"
	"github.com/dryad-lang/registry/internal/store/postgres"
	"github.com/dryad-lang/registry/internal/store/sqlite"
	"github.com/dryad-lang/registry/internal/store/sqlstore"
	"github.com/dryad-lang/registry/internal/testenv"
)

// binary is the dryad-registry program under test, built once per run.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// registryBinary builds the dryad-registry binary once per test run, with
// the race detector when the tests run with it.
func registryBinary(t testing.TB) string {
	t.Helper()
	binary.once.Do(func() {
		if binary.dir, binary.err = os.MkdirTemp("", "dryad-registry-bin-"); binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "dryad-registry")
		args := []string{"build", "-o", binary.path}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "github.com/dryad-lang/registry/cmd/dryad-registry")
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// processEnv is the environment of a registry process: the tests' own (so
// git and the temporary folder behave as for the tests) without any of the
// registry's settings, which come from vars alone.
func processEnv(vars []string) []string {
	own := map[string]bool{}
	for _, v := range config.Vars() {
		own[v.Name] = true
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !own[name] {
			env = append(env, kv)
		}
	}
	return append(env, vars...)
}

// invocation is one run of a dryad-registry command.
type invocation struct {
	// Dir is the working folder (a new temporary one when empty).
	Dir string
	// Env holds the registry's settings, NAME=value.
	Env []string
	// Stdin is the standard input.
	Stdin string
}

// commandTimeout bounds one command's run.
const commandTimeout = 5 * time.Minute

// run runs the binary with args and returns its exit status,
// standard output and standard error.
func (c invocation) run(t testing.TB, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	// A command that should have stopped but serves instead ends here
	// rather than at the whole run's timeout.
	ctx, cancel := context.WithTimeout(t.Context(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, registryBinary(t), args...)
	cmd.Dir = c.Dir
	if cmd.Dir == "" {
		cmd.Dir = t.TempDir()
	}
	cmd.Env = processEnv(c.Env)
	cmd.Stdin = strings.NewReader(c.Stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("dryad-registry %s: %v", strings.Join(args, " "), err)
	}
	return code, out.String(), errOut.String()
}

// runCommand runs the command line in workDir, with stdin as standard
// input and no registry settings, and returns its exit status and output.
func runCommand(t testing.TB, workDir, stdin string, args ...string) (int, string, string) {
	t.Helper()
	return invocation{Dir: workDir, Stdin: stdin}.run(t, args...)
}

// testRegistry is a dryad-registry process serving on a free loopback
// port, with the test's settings.
type testRegistry struct {
	t       testing.TB
	URL     string
	Config  *config.Config
	DataDir string
	// Env is the registry's settings, NAME=value.
	Env     []string
	logs    *testenv.Buffer
	cmd     *exec.Cmd
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
	// Env holds extra configuration variables; any other variable (PATH)
	// replaces the process's own.
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

// servingRE finds the address in the line a registry logs once it accepts
// connections, in either log format (text or JSON).
var servingRE = regexp.MustCompile(`"?msg"?[=:]"dryad-registry serving",? ?"?url"?[=:]"?(http://[0-9.:]+)`)

// startRegistry starts a registry and stops it when the test ends.
func startRegistry(t testing.TB, o regOptions) *testRegistry {
	t.Helper()
	dataDir := o.DataDir
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	env := map[string]string{
		"HOST": "127.0.0.1", "PORT": "0", "DATA_DIR": dataDir, "BCRYPT_COST": "4",
		"JWT_SECRET": "test-secret-0123456789abcdef", "LOG_LEVEL": "debug", "LOG_FORMAT": "text",
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
	r := &testRegistry{t: t, Config: cfg, DataDir: dataDir, Env: environ, logs: &testenv.Buffer{}, done: make(chan error, 1)}
	r.cmd = exec.Command(registryBinary(t), "serve")
	r.cmd.Dir = t.TempDir()
	r.cmd.Env = processEnv(environ)
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("starting the registry: %v", err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for r.URL == "" {
		if m := servingRE.FindStringSubmatch(r.logs.String()); m != nil {
			r.URL = m[1]
			break
		}
		select {
		case err := <-r.done:
			r.stopped = true
			t.Fatalf("registry did not start: %v\n%s", err, r.logs.String())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			r.cmd.Process.Kill()
			<-r.done
			r.stopped = true
			t.Fatalf("registry did not start in time\n%s", r.logs.String())
		}
	}
	t.Cleanup(r.Stop)
	return r
}

// Stop shuts the registry down as an operator does (SIGTERM) and checks
// that it finished cleanly: exit status 0, which a race-detector build
// also reports only when it saw no data race.
func (r *testRegistry) Stop() {
	if r.stopped {
		return
	}
	r.stopped = true
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Errorf("registry stopped with error: %v", err)
		}
	case <-time.After(60 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
		r.t.Errorf("registry did not stop in time")
	}
	if r.t.Failed() {
		r.t.Logf("registry log:\n%s", r.logs.String())
	}
}

// Kill stops the registry as a crash does (SIGKILL): no request finishes,
// no cleanup runs.
func (r *testRegistry) Kill() {
	if r.stopped {
		return
	}
	r.stopped = true
	r.cmd.Process.Kill()
	<-r.done
}

// Logs returns what the registry logged so far.
func (r *testRegistry) Logs() string { return r.logs.String() }

// runCommand runs a dryad-registry command with the registry's settings
// (quieter logs) and returns its exit status and output.
func (r *testRegistry) runCommand(args ...string) (int, string, string) {
	r.t.Helper()
	env := append(append([]string(nil), r.Env...), "LOG_LEVEL=warn")
	return invocation{Env: env}.run(r.t, args...)
}

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

// pkg is a package archive to publish: a manifest from name, version and
// extra fields, plus files; prefix puts everything inside one top-level
// folder. It is testenv.Package with short field names.
type pkg struct {
	name, version string
	fields        map[string]any
	files         map[string]string
	prefix        string
}

func (p pkg) archive(t testing.TB) []byte {
	t.Helper()
	return testenv.Package{Name: p.name, Version: p.version, Fields: p.fields, Files: p.files, Prefix: p.prefix}.Archive(t)
}

// openStore opens the metadata store of the registry configured by cfg
// beside the running process, for the tests that look at or change what
// lies behind the registry's back (an aged row, a secret at rest).
func openStore(t testing.TB, cfg *config.Config) *sqlstore.DB {
	t.Helper()
	var db *sqlstore.DB
	var err error
	if cfg.DatabaseURL == "" {
		db, err = sqlite.Open(t.Context(), filepath.Join(cfg.DataDir, "registry.db"))
	} else {
		db, err = postgres.Open(t.Context(), cfg.DatabaseURL)
	}
	if err != nil {
		t.Fatalf("opening the metadata store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
