package notify_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/notify"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/testenv"
)

// lockedBuffer collects log lines written by the sending goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// mailScript writes a mail command to dir: it appends its input, then a
// separator line, to dir/mbox, after failing its first failures runs
// (counted in dir/runs).
func mailScript(t *testing.T, dir string, failures int) string {
	t.Helper()
	script := filepath.Join(dir, "sendmail")
	body := `#!/bin/sh
dir=$(dirname "$0")
echo run >> "$dir/runs"
n=$(wc -l < "$dir/runs")
if [ "$n" -le ` + strconv.Itoa(failures) + ` ]; then
  echo "mail server unreachable" >&2
  exit 75
fi
cat >> "$dir/mbox"
echo "--END--" >> "$dir/mbox"
`
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

// notice is corelib@1.2.0 yanked by alice, affecting app-exact (two
// owners, one version unresolvable, one moved) and app-orphan (no owner
// to write to).
func notice() registry.Notice {
	return registry.Notice{
		Event: registry.EventDependentsAffected, Action: registry.ImpactYank, Package: "corelib", Version: "1.2.0",
		Actor: "alice", At: time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC),
		Affected: []registry.AffectedPackage{
			{Name: "app-exact", Owners: []registry.Recipient{{Username: "bob", Email: "bob@example.org"}, {Username: "carol", Email: "carol@example.org"}},
				Versions: []registry.ImpactEntry{
					{Package: "app-exact", Version: "1.1.0", Range: "1.2.0", From: "1.2.0", To: ""},
					{Package: "app-exact", Version: "1.0.0", Range: "^1.0.0", From: "1.2.0", To: "1.1.0"},
				}},
			{Name: "app-orphan", Versions: []registry.ImpactEntry{{Package: "app-orphan", Version: "1.0.0", Range: "^1.0.0", From: "1.2.0", To: "1.1.0"}}},
		},
	}
}

// messages are the messages the script finished writing; the last one
// may still be arriving.
func messages(dir string) []string {
	b, _ := os.ReadFile(filepath.Join(dir, "mbox"))
	out := strings.Split(string(b), "--END--\n")
	return out[:len(out)-1]
}

func TestEmailMessage(t *testing.T) {
	dir := t.TempDir()
	var logs lockedBuffer
	e, err := notify.NewEmail(notify.EmailOptions{
		Command: []string{mailScript(t, dir, 0), "-t", "-i"}, From: "Dryad Registry <registry@example.org>",
		BaseURL: "https://registry.example.org/", RegistryName: "Dryad Registry", Domain: "registry.example.org",
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Notify(context.Background(), notice())
	e.Close(time.Minute) // waits for the queued message
	ms := messages(dir)
	if len(ms) != 1 {
		t.Fatalf("%d messages, want 1 (app-orphan has no owner to write to):\n%s", len(ms), strings.Join(ms, "\n=====\n"))
	}
	msg, err := mail.ReadMessage(strings.NewReader(ms[0]))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, ms[0])
	}
	to, err := msg.Header.AddressList("To")
	if err != nil || len(to) != 2 || to[0].Address != "bob@example.org" || to[1].Address != "carol@example.org" {
		t.Errorf("To: %v (%v)", to, err)
	}
	if from, err := mail.ParseAddress(msg.Header.Get("From")); err != nil || from.Address != "registry@example.org" || from.Name != "Dryad Registry" {
		t.Errorf("From: %q", msg.Header.Get("From"))
	}
	if got, want := msg.Header.Get("Subject"), "[Dryad Registry] corelib@1.2.0 was yanked: 1 version of app-exact no longer resolves, 1 more resolves differently"; got != want {
		t.Errorf("Subject: %q, want %q", got, want)
	}
	if _, err := msg.Header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if id := msg.Header.Get("Message-ID"); !strings.HasSuffix(id, "@registry.example.org>") {
		t.Errorf("Message-ID: %q", id)
	}
	var body bytes.Buffer
	body.ReadFrom(msg.Body)
	for _, want := range []string{
		"alice yanked corelib@1.2.0 on Dryad Registry at 2026-12-07 09:30 UTC.",
		"app-exact@1.1.0 needs corelib 1.2.0: was 1.2.0, now no version satisfies it",
		"app-exact@1.0.0 needs corelib ^1.0.0: was 1.2.0, now 1.1.0",
		"publish a new version of app-exact",
		"https://registry.example.org/packages/corelib",
		"https://registry.example.org/packages/app-exact",
	} {
		if !strings.Contains(body.String(), want) {
			t.Errorf("body lacks %q:\n%s", want, body.String())
		}
	}
	if !strings.Contains(logs.String(), "e-mail notice sent") || !strings.Contains(logs.String(), "no owner to e-mail") {
		t.Errorf("logs:\n%s", logs.String())
	}
}

func TestEmailRetries(t *testing.T) {
	dir := t.TempDir()
	var logs lockedBuffer
	e, err := notify.NewEmail(notify.EmailOptions{
		Command: []string{mailScript(t, dir, 2)}, From: "registry@example.org",
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Attempts: 3, Backoff: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(time.Minute)
	e.Notify(context.Background(), notice())
	testenv.Eventually(t, "the message after two failed runs", func() (bool, string) {
		return len(messages(dir)) == 1, logs.String()
	})
	if n := strings.Count(logs.String(), "retrying"); n != 2 || !strings.Contains(logs.String(), "mail server unreachable") {
		t.Errorf("%d retries logged, want 2 with the command's output:\n%s", n, logs.String())
	}
}

func TestEmailGivesUp(t *testing.T) {
	dir := t.TempDir()
	var logs lockedBuffer
	e, err := notify.NewEmail(notify.EmailOptions{
		Command: []string{mailScript(t, dir, 9)}, From: "registry@example.org",
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Attempts: 2, Backoff: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Notify(context.Background(), notice())
	e.Close(time.Minute)
	runs, _ := os.ReadFile(filepath.Join(dir, "runs"))
	if n := strings.Count(string(runs), "run"); n != 2 || len(messages(dir)) != 0 {
		t.Errorf("%d runs and %d messages, want 2 runs and none", n, len(messages(dir)))
	}
	if !strings.Contains(logs.String(), "giving up") {
		t.Errorf("logs:\n%s", logs.String())
	}
	// Closed: later notices are dropped, not sent nor blocking.
	e.Notify(context.Background(), notice())
	if !strings.Contains(logs.String(), "dropped") {
		t.Errorf("a notice after Close was not reported dropped:\n%s", logs.String())
	}
}

func TestNewEmailRefuses(t *testing.T) {
	for _, o := range []notify.EmailOptions{
		{From: "registry@example.org"},
		{Command: []string{"/usr/sbin/sendmail"}, From: "not an address"},
	} {
		if _, err := notify.NewEmail(o); err == nil {
			t.Errorf("NewEmail(%+v) accepted", o)
		}
	}
}
