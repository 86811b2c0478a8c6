package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Git runs the stock git client the way a user would (a clean
// configuration, no prompts) in dir and returns its combined output. It
// skips the test, or fails it under CI, when git is not installed.
func Git(t testing.TB, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(LookPath(t, "git"), args...)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LC_ALL=C",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org",
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// MustGit is Git that fails the test on error and trims the output.
func MustGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := Git(t, dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}
