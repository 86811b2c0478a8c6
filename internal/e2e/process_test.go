package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runBinary runs the built binary with env (on top of a minimal
// environment) and returns its exit status and combined output.
func runBinary(t *testing.T, dir string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(registryBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

func TestHelp(t *testing.T) {
	dir := t.TempDir()
	code, out := runBinary(t, dir, nil, "--help")
	if code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, c := range []string{"serve", "config", "create-admin", "publish", "version"} {
		if !strings.Contains(out, c) {
			t.Errorf("--help does not list %s:\n%s", c, out)
		}
	}
	for _, c := range []string{"serve", "config", "create-admin", "publish"} {
		code, out := runBinary(t, dir, nil, c, "--help")
		if code != 0 || !strings.Contains(out, "Usage: dryad-registry "+c) {
			t.Errorf("%s --help: exit %d\n%s", c, code, out)
		}
	}
	if code, out := runBinary(t, dir, nil, "frobnicate"); code != 2 || !strings.Contains(out, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d\n%s", code, out)
	}
}

// TestBadConfigurationExits2 checks that every bad start says, in one line,
// which variable is wrong and what is allowed.
func TestBadConfigurationExits2(t *testing.T) {
	tests := []struct {
		env  []string
		want string
	}{
		{[]string{"MAX_PACKAGE_SIZE=lots"}, `MAX_PACKAGE_SIZE="lots": want a size such as 100MB`},
		{[]string{"JWT_SECRET=your_jwt_secret_key_here"}, `JWT_SECRET="********": a placeholder`},
		{[]string{"JWT_SECRET=change_this_secret_now"}, `JWT_SECRET="********": a placeholder`},
		{[]string{"UPLOAD_TIMEOUT=forever"}, `UPLOAD_TIMEOUT="forever"`},
		{[]string{"DATABASE_URL=mysql://db/x"}, `DATABASE_URL="********": want empty (SQLite in DATA_DIR) or a postgres:// URL`},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		code, out := runBinary(t, dir, append(tt.env, "DATA_DIR="+dir+"/data", "PORT=0"))
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(out, tt.want) {
			t.Errorf("%v: exit %d, want 2 and one line with %q:\n%s", tt.env, code, tt.want, out)
		}
	}
	// From a .env file too, and through --env-file.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".env"), []byte("PORT=notaport\n"), 0o600)
	if code, out := runBinary(t, dir, []string{"DATA_DIR=" + dir}); code != 2 || !strings.Contains(out, `PORT="notaport"`) {
		t.Errorf(".env: exit %d\n%s", code, out)
	}
	if code, out := runBinary(t, dir, []string{"DATA_DIR=" + dir}, "--env-file", filepath.Join(dir, "missing.env")); code == 0 || !strings.Contains(out, "missing.env") {
		t.Errorf("--env-file missing: exit %d\n%s", code, out)
	}
}

func TestUnreachableDatabase(t *testing.T) {
	dir := t.TempDir()
	code, out := runBinary(t, dir, []string{"DATA_DIR=" + dir, "PORT=0", "DATABASE_URL=postgres://u:secretpw@127.0.0.1:1/db?sslmode=disable&connect_timeout=2"})
	if code != 1 || !strings.Contains(out, "unreachable") || !strings.Contains(out, "127.0.0.1:1") {
		t.Errorf("exit %d, want 1 naming the unreachable database:\n%s", code, out)
	}
	if strings.Contains(out, "secretpw") {
		t.Errorf("password printed:\n%s", out)
	}
}

func TestConfigCommandMasksSecrets(t *testing.T) {
	dir := t.TempDir()
	code, out := runBinary(t, dir, []string{"JWT_SECRET=0123456789abcdef-very-secret", "REDIS_URL=redis://:redispass123@127.0.0.1:6379/0"}, "config", "--port", "5001")
	if code != 0 {
		t.Fatalf("config: exit %d\n%s", code, out)
	}
	if strings.Contains(out, "very-secret") || strings.Contains(out, "redispass123") {
		t.Errorf("secret printed:\n%s", out)
	}
	for _, want := range []string{"PORT=5001\t# flag", "JWT_SECRET=********\t# environment", "MAX_PACKAGE_SIZE=100MB\t# default"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q:\n%s", want, out)
		}
	}
}

// TestSIGTERMGracefulExit starts the real binary, generates the JWT secret
// on first start, serves a request, and exits 0 on SIGTERM.
func TestSIGTERMGracefulExit(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(registryBinary(t))
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DATA_DIR=" + filepath.Join(dir, "data"), "PORT=0", "LOG_FORMAT=json"}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addr := make(chan string, 1)
	var log bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`"url":"http://([^"]+)"`)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	var a string
	select {
	case a = <-addr:
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start:\n%s", log.String())
	}
	resp, err := http.Get("http://" + a + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/health: %d", resp.StatusCode)
	}
	fi, err := os.Stat(filepath.Join(dir, "data", "jwt_secret"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("generated JWT secret: %v %v", fi, err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, log.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	if !strings.Contains(log.String(), "generated one in DATA_DIR/jwt_secret") {
		t.Errorf("no warning about the generated secret:\n%s", log.String())
	}
}
