// Package notify delivers the registry's notices (registry.Notifier) to
// the owners of affected packages by e-mail, through a sendmail-compatible
// command. Delivery happens in the background with bounded retries: a
// notice never delays nor fails the change it reports.
package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/mail"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/dryad-lang/registry/internal/registry"
)

// EmailOptions configure an Email notifier.
type EmailOptions struct {
	// Command is the program and its arguments, such as
	// /usr/sbin/sendmail -t -i: it reads one RFC 5322 message on its
	// standard input and takes the recipients from its To header.
	Command []string
	// From is the sender address, with or without a display name.
	From string
	// BaseURL is the registry's public address, for links (no trailing
	// slash); without it the message names pages by their path only.
	BaseURL string
	// RegistryName names the registry in subjects and bodies.
	RegistryName string
	// Domain is the host part of Message-IDs (localhost when empty).
	Domain string
	Logger *slog.Logger

	// Attempts bounds the runs of the command per message (4 when zero);
	// Backoff is the wait before the first retry, doubled for each next
	// one (2s when zero); Timeout bounds one run (30s when zero).
	Attempts int
	Backoff  time.Duration
	Timeout  time.Duration
	// Queue bounds the messages waiting to be sent (256 when zero);
	// beyond it new messages are dropped and logged, so that a stuck mail
	// command cannot grow the registry's memory.
	Queue int
	// Now is the clock for the Date header (time.Now when nil).
	Now func() time.Time
}

// Email is a registry.Notifier that sends each affected package's owners
// one message saying what changed for their package.
type Email struct {
	o     EmailOptions
	from  *mail.Address
	queue chan message

	mu     sync.Mutex
	closed bool

	ctx    context.Context // cancelled when Close gives up waiting
	cancel context.CancelFunc
	done   chan struct{}
}

// message is one e-mail ready to send.
type message struct {
	to    []string
	about string // for logs: the affected package
	data  []byte
}

var _ registry.Notifier = (*Email)(nil)

// NewEmail checks the options and starts the sending worker; Close stops
// it.
func NewEmail(o EmailOptions) (*Email, error) {
	if len(o.Command) == 0 || o.Command[0] == "" {
		return nil, errors.New("notify: no e-mail command")
	}
	from, err := mail.ParseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("notify: sender %q is not an e-mail address: %v", o.From, err)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.RegistryName == "" {
		o.RegistryName = "Dryad Registry"
	}
	if o.Domain == "" {
		o.Domain = "localhost"
	}
	if o.Attempts <= 0 {
		o.Attempts = 4
	}
	if o.Backoff <= 0 {
		o.Backoff = 2 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Queue <= 0 {
		o.Queue = 256
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	e := &Email{o: o, from: from, queue: make(chan message, o.Queue), done: make(chan struct{})}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	go e.run()
	return e, nil
}

// Notify queues one message per affected package that has an owner to
// write to. It never blocks: a full queue drops the message, logged.
func (e *Email) Notify(ctx context.Context, n registry.Notice) {
	for i := range n.Affected {
		a := &n.Affected[i]
		if len(a.Owners) == 0 {
			e.o.Logger.InfoContext(ctx, "no owner to e-mail about an affected dependent", "package", a.Name, "changed", subject(n))
			continue
		}
		m := e.compose(n, a)
		e.mu.Lock()
		closed := e.closed
		sent := false
		if !closed {
			select {
			case e.queue <- m:
				sent = true
			default:
			}
		}
		e.mu.Unlock()
		if !sent {
			e.o.Logger.ErrorContext(ctx, "e-mail notice dropped: the queue is full or closing", "package", a.Name, "to", strings.Join(m.to, ", "))
		}
	}
}

// Close stops taking messages and waits for the queued ones to be sent,
// at most wait; then it abandons the rest (logged) and returns.
func (e *Email) Close(wait time.Duration) {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.queue)
	}
	e.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-e.done:
	case <-t.C:
		e.cancel()
		<-e.done
	}
	e.cancel()
}

// run sends the queued messages one after the other until Close.
func (e *Email) run() {
	defer close(e.done)
	for m := range e.queue {
		if e.ctx.Err() != nil {
			e.o.Logger.Error("e-mail notice abandoned at shutdown", "package", m.about, "to", strings.Join(m.to, ", "))
			continue
		}
		e.send(m)
	}
}

// send runs the command until it succeeds, at most Attempts times, with
// doubling waits between runs.
func (e *Email) send(m message) {
	wait := e.o.Backoff
	for attempt := 1; ; attempt++ {
		err := e.runCommand(m)
		if err == nil {
			e.o.Logger.Info("e-mail notice sent", "package", m.about, "to", strings.Join(m.to, ", "), "attempt", attempt)
			return
		}
		if attempt >= e.o.Attempts {
			e.o.Logger.Error("e-mail notice not sent; giving up", "package", m.about, "to", strings.Join(m.to, ", "), "attempts", attempt, "err", err)
			return
		}
		e.o.Logger.Warn("e-mail notice failed; retrying", "package", m.about, "attempt", attempt, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-e.ctx.Done():
			t.Stop()
			e.o.Logger.Error("e-mail notice abandoned at shutdown", "package", m.about, "to", strings.Join(m.to, ", "), "err", err)
			return
		}
		wait *= 2
	}
}

// maxCommandOutput bounds what of the command's output is kept for logs.
const maxCommandOutput = 2 << 10

func (e *Email) runCommand(m message) error {
	ctx, cancel := context.WithTimeout(e.ctx, e.o.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.o.Command[0], e.o.Command[1:]...)
	cmd.Stdin = bytes.NewReader(m.data)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err == nil {
		return nil
	}
	text := strings.TrimSpace(out.String())
	if len(text) > maxCommandOutput {
		text = text[:maxCommandOutput] + "…"
	}
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("%s: no answer within %s", e.o.Command[0], e.o.Timeout)
	}
	if text != "" {
		return fmt.Errorf("%s: %v: %s", e.o.Command[0], err, text)
	}
	return fmt.Errorf("%s: %v", e.o.Command[0], err)
}

// subject names the change: "corelib@1.2.0 was yanked".
func subject(n registry.Notice) string {
	what := n.Package
	if n.Version != "" {
		what += "@" + n.Version
	}
	verb := "was yanked"
	if n.Action == registry.ImpactDelete {
		verb = "was deleted"
	}
	return what + " " + verb
}

// compose writes the message to a's owners.
func (e *Email) compose(n registry.Notice, a *registry.AffectedPackage) message {
	var to []string
	var toHeader []string
	for _, r := range a.Owners {
		to = append(to, r.Email)
		toHeader = append(toHeader, (&mail.Address{Address: r.Email}).String())
	}
	changed, unresolvable := len(a.Versions), 0
	for _, v := range a.Versions {
		if v.Unresolvable() {
			unresolvable++
		}
	}
	subj := fmt.Sprintf("[%s] %s: %d %s of %s %s differently", e.o.RegistryName, subject(n), changed, plural(changed, "version", "versions"),
		a.Name, plural(changed, "resolves", "resolve"))
	if unresolvable > 0 {
		subj = fmt.Sprintf("[%s] %s: %d %s of %s no longer %s", e.o.RegistryName, subject(n), unresolvable,
			plural(unresolvable, "version", "versions"), a.Name, plural(unresolvable, "resolves", "resolve"))
		if unresolvable < changed {
			subj += fmt.Sprintf(", %d more %s differently", changed-unresolvable, plural(changed-unresolvable, "resolves", "resolve"))
		}
	}

	var b strings.Builder
	h := func(k, v string) { b.WriteString(k + ": " + headerSafe(v) + "\r\n") }
	h("From", e.from.String())
	h("To", strings.Join(toHeader, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", subj))
	h("Date", e.o.Now().Format(time.RFC1123Z))
	h("Message-ID", "<"+randomID()+"@"+e.o.Domain+">")
	h("Auto-Submitted", "auto-generated")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")

	line := func(s string) { b.WriteString(s + "\r\n") }
	verb := "yanked"
	if n.Action == registry.ImpactDelete {
		verb = "deleted"
	}
	what := n.Package
	if n.Version != "" {
		what += "@" + n.Version
	} else {
		what = "the package " + n.Package + " (every version)"
	}
	line("Hello,")
	line("")
	line(fmt.Sprintf("%s %s %s on %s at %s.", n.Actor, verb, what, e.o.RegistryName, n.At.UTC().Format("2006-01-02 15:04 UTC")))
	line(fmt.Sprintf("Your package %s depends on %s, and the ranges of these of its versions now resolve differently:", a.Name, n.Package))
	line("")
	for _, v := range a.Versions {
		after := "now " + v.To
		if v.Unresolvable() {
			after = "now no version satisfies it: installs fail"
		}
		line(fmt.Sprintf("  %s@%s needs %s %s: was %s, %s", a.Name, v.Version, n.Package, v.Range, v.From, after))
	}
	line("")
	if unresolvable > 0 {
		line(fmt.Sprintf("To fix installs, publish a new version of %s whose range for %s matches a version that is still available.", a.Name, n.Package))
	}
	line(fmt.Sprintf("%s: %s", n.Package, e.link("/packages/"+url.PathEscape(n.Package))))
	line(fmt.Sprintf("%s: %s", a.Name, e.link("/packages/"+url.PathEscape(a.Name))))
	line("")
	line(fmt.Sprintf("You receive this because you own %s on %s.", a.Name, e.o.RegistryName))
	return message{to: to, about: a.Name, data: []byte(b.String())}
}

// link is a page's address: absolute when the registry's address is known.
func (e *Email) link(path string) string { return e.o.BaseURL + path }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// headerSafe keeps a header value on one line whatever it holds.
func headerSafe(v string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
}

func randomID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
