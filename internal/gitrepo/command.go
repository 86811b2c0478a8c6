package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// gitConfig is set on every git process through GIT_CONFIG_COUNT, so that
// results never depend on the machine's or the user's configuration.
var gitConfig = [][2]string{
	// No hooks: update-ref runs reference-transaction hooks, for instance.
	{"core.hooksPath", os.DevNull},
	// Objects and refs reach the disk before a ref update is reported done,
	// so a crash never leaves a ref pointing at a missing object.
	{"core.fsync", "committed"},
	{"core.logAllRefUpdates", "false"},
	// Stock clients may ask for partial clones (--filter=blob:none).
	{"uploadpack.allowFilter", "true"},
	{"protocol.version", "2"},
	{"init.defaultBranch", "main"},
	// Housekeeping runs under the write lock, never in a background process
	// that would outlive it.
	{"gc.autoDetach", "false"},
	// git's defaults, fixed because nearGC counts against them.
	{"gc.auto", strconv.Itoa(gcAutoLoose)},
	{"gc.autoPackLimit", strconv.Itoa(gcAutoPackLimit)},
}

// The thresholds of `git gc --auto`: loose objects, and packs.
const (
	gcAutoLoose     = 6700
	gcAutoPackLimit = 50
)

// baseEnv is the complete environment of a git process: nothing is inherited
// from the registry's own environment (no GIT_* variables, no HOME, no
// locale), which keeps ids and behaviour identical across machines.
func baseEnv(gitPath string, extraConfig [][2]string) []string {
	env := []string{
		"PATH=" + filepath.Dir(gitPath) + ":/usr/local/bin:/usr/bin:/bin",
		// An unusable HOME: git reads nothing from it (and ignores ENOTDIR).
		"HOME=" + os.DevNull,
		"LC_ALL=C",
		"LANG=C",
		"TZ=UTC",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_ATTR_NOSYSTEM=1",
		// Never wait for a password on a terminal nobody watches.
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ASKPASS=",
		"SSH_ASKPASS=",
	}
	config := append(append([][2]string{}, gitConfig...), extraConfig...)
	env = append(env, "GIT_CONFIG_COUNT="+strconv.Itoa(len(config)))
	for i, kv := range config {
		n := strconv.Itoa(i)
		env = append(env, "GIT_CONFIG_KEY_"+n+"="+kv[0], "GIT_CONFIG_VALUE_"+n+"="+kv[1])
	}
	return env
}

// gitError is a failed git command with what it said on stderr.
type gitError struct {
	args   []string
	stderr string
	err    error
}

func (e *gitError) Error() string {
	msg := strings.TrimSpace(e.stderr)
	if msg == "" {
		return fmt.Sprintf("git %s: %v", strings.Join(e.args, " "), e.err)
	}
	return fmt.Sprintf("git %s: %v: %s", strings.Join(e.args, " "), e.err, msg)
}

func (e *gitError) Unwrap() error { return e.err }

// Is makes a git command that failed for a full disk or quota match
// syscall.ENOSPC, so that the failure reads as errs.StorageFull like any
// other write the registry could not make: git reports it only in words.
func (e *gitError) Is(target error) bool {
	return target == syscall.ENOSPC && (strings.Contains(e.stderr, "No space left on device") || strings.Contains(e.stderr, "Disk quota exceeded"))
}

// command describes one git invocation.
type command struct {
	gitDir string   // repository, passed as --git-dir so git never searches parent folders
	args   []string // subcommand and its arguments
	stdin  io.Reader
	stdout io.Writer // nil: collected and returned
	env    []string  // replaces the repository-independent environment when set
}

// maxStderr bounds what is kept of a command's stderr for error messages.
const maxStderr = 8 << 10

// run runs a git command and returns its standard output. The process is
// killed when ctx is done.
func (r *Repos) run(ctx context.Context, c command) ([]byte, error) {
	args := c.args
	if c.gitDir != "" {
		args = append([]string{"--git-dir=" + c.gitDir}, args...)
	}
	cmd := exec.CommandContext(ctx, r.git, args...)
	cmd.Env = r.env
	if c.env != nil {
		cmd.Env = c.env
	}
	// Commands outside a repository (version, init) run from "/" since the
	// root folder may not exist yet.
	cmd.Dir = "/"
	if c.gitDir != "" {
		cmd.Dir = c.gitDir
	}
	cmd.Stdin = c.stdin
	var out bytes.Buffer
	cmd.Stdout = &out
	if c.stdout != nil {
		cmd.Stdout = c.stdout
	}
	stderr := &capped{max: maxStderr}
	cmd.Stderr = stderr
	// A child that keeps the pipes open after being killed must not hang us.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = errors.Join(ctxErr, err)
		}
		return out.Bytes(), &gitError{args: c.args[:1], stderr: stderr.String(), err: err}
	}
	return out.Bytes(), nil
}

// output runs a git command in a repository and returns its trimmed output.
func (r *Repos) output(ctx context.Context, gitDir string, args ...string) (string, error) {
	out, err := r.run(ctx, command{gitDir: gitDir, args: args})
	return strings.TrimSpace(string(out)), err
}

// capped is a buffer that keeps only the first max bytes written to it.
type capped struct {
	buf bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capped) String() string { return c.buf.String() }
