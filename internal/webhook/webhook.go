// Package webhook delivers the registry's webhook events: a worker claims
// due deliveries from the registry's durable queue, signs each body with
// the hook's secret, posts it, and records the attempt, retrying failures
// with exponential backoff and jitter until the attempts run out.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/jobs"
	"github.com/dryad-lang/registry/internal/registry"
)

// Headers of a delivery.
const (
	// SignatureHeader carries "sha256=" and the lowercase hex HMAC-SHA256
	// of the exact body, keyed with the hook's secret.
	SignatureHeader = "X-Dryad-Signature-256"
	EventHeader     = "X-Dryad-Event"
	DeliveryHeader  = "X-Dryad-Delivery"
)

// Sign returns the SignatureHeader value of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature (a SignatureHeader value) signs body
// under secret, comparing in constant time as a receiver should.
func Verify(secret string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(signature))
}

// Queue is the durable delivery queue; registry.Service.WebhookQueue
// implements it.
type Queue interface {
	Claim(ctx context.Context, now time.Time, lease time.Duration, n int) ([]registry.PendingDelivery, error)
	Record(ctx context.Context, d registry.PendingDelivery, at time.Time, status int, errText string, took time.Duration, delivered bool, next *time.Time) error
}

// Options configure a Worker. Queue is required.
type Options struct {
	Queue Queue
	// Wake receives a value whenever deliveries were queued.
	Wake   <-chan struct{}
	Logger *slog.Logger
	// UserAgent names the registry to receivers.
	UserAgent string
	// Poll is how often the queue is read without a wake-up (default 2s).
	Poll time.Duration
	// Timeout bounds one attempt (default 10s); Lease keeps a claimed
	// delivery from other workers (default a minute, at least 3 Timeouts).
	Timeout, Lease time.Duration
	// RetryBase is the wait after a first failure (default 30s), doubled
	// after each further one up to RetryMax (default 1h), each spread by
	// jitter; MaxAttempts bounds the attempts (default 8).
	RetryBase, RetryMax time.Duration
	MaxAttempts         int
	// AllowPrivate lets deliveries reach loopback, private and link-local
	// addresses; otherwise every connection is checked as it is dialled,
	// so a name that resolves elsewhere later is refused too.
	AllowPrivate bool
	// Concurrency is how many deliveries are sent at once (default 4).
	Concurrency int
	// OnOutcome is told each attempt's outcome: delivered, retry or failed.
	OnOutcome func(outcome string)
}

// Worker sends webhook deliveries.
type Worker struct {
	opts   Options
	log    *slog.Logger
	client *http.Client
}

// maxLogBody is how much of a receiver's answer the delivery log keeps.
const maxLogBody = 512

// NewWorker returns a Worker.
func NewWorker(o Options) (*Worker, error) {
	if o.Queue == nil {
		return nil, errors.New("webhook: NewWorker needs a queue")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Poll, 2*time.Second)
	def(&o.Timeout, 10*time.Second)
	def(&o.Lease, max(time.Minute, 3*o.Timeout))
	def(&o.RetryBase, 30*time.Second)
	def(&o.RetryMax, time.Hour)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.UserAgent == "" {
		o.UserAgent = "Dryad-Registry-Hookshot"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	w := &Worker{opts: o, log: o.Logger}
	dialer := &net.Dialer{Timeout: o.Timeout}
	if !o.AllowPrivate {
		dialer.Control = checkAddr
	}
	w.client = &http.Client{
		Timeout: o.Timeout,
		Transport: &http.Transport{
			// No proxy from the environment: the address check must see
			// the receiver's own address.
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   o.Timeout,
			ResponseHeaderTimeout: o.Timeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       30 * time.Second,
		},
		CheckRedirect: sameHostRedirects,
	}
	return w, nil
}

// checkAddr refuses, as a connection is made, an address webhooks must not
// reach: the name was resolved just before, so a DNS answer that changed
// since the hook was created (rebinding) cannot lead inside.
func checkAddr(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook: unexpected address %q", address)
	}
	if registry.ForbiddenWebhookAddr(ap.Addr()) {
		return fmt.Errorf("refused to connect to %s: a loopback, private or link-local address (WEBHOOK_ALLOW_PRIVATE is off)", ap.Addr())
	}
	return nil
}

// sameHostRedirects follows a few redirects within the hook's host (http
// to https, a moved path); a redirect to another host is not followed, and
// the attempt fails with the 3xx status.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 3 || !strings.EqualFold(req.URL.Hostname(), via[0].URL.Hostname()) {
		return http.ErrUseLastResponse
	}
	return nil
}

// Run sends deliveries until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	jobs.Loop{
		Step:    w.Step,
		OnError: func(err error) { w.log.Warn("reading the webhook queue", "err", err) },
		Wake:    w.opts.Wake, Poll: w.opts.Poll, Concurrency: w.opts.Concurrency,
	}.Run(ctx)
}

// Step claims a due delivery and sends it, and reports whether there was
// one. Every delivery a claim returns is sent, should it return more than
// asked: one left unsent would wait for its lease to run out.
func (w *Worker) Step(ctx context.Context) (bool, error) {
	ds, err := w.opts.Queue.Claim(ctx, time.Now(), w.opts.Lease, 1)
	if err != nil || len(ds) == 0 {
		return false, err
	}
	for _, d := range ds {
		w.send(ctx, d)
	}
	return true, nil
}

// send makes one attempt at d and records it.
func (w *Worker) send(ctx context.Context, d registry.PendingDelivery) {
	start := time.Now()
	status, errText := w.post(ctx, d)
	took := time.Since(start)
	log := w.log.With("delivery", d.GUID, "event", d.Event, "attempt", d.Attempts+1)
	delivered := errText == "" && status >= 200 && status < 300
	var next *time.Time
	outcome := "delivered"
	switch {
	case delivered:
		log.Debug("webhook delivered", "status", status, "took", took)
	case ctx.Err() != nil:
		// Stopping: not the receiver's fault. The lease runs out and the
		// delivery is sent again after the next start.
		return
	case d.Attempts+1 >= w.opts.MaxAttempts:
		outcome = "failed"
		log.Warn("webhook delivery failed; no attempts left", "status", status, "err", errText)
	default:
		t := time.Now().Add(jobs.Jitter(jobs.Backoff(w.opts.RetryBase, w.opts.RetryMax, d.Attempts)))
		next = &t
		outcome = "retry"
		log.Info("webhook delivery failed; will retry", "status", status, "err", errText, "next", t.Format(time.RFC3339))
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	err := w.opts.Queue.Record(rctx, d, start, status, errText, took, delivered, next)
	if errors.Is(err, errs.Conflict) {
		// Another worker took it over after this one's lease ran out.
		log.Warn("webhook delivery was recorded by another worker", "err", err)
		return
	}
	if err != nil {
		log.Error("recording a webhook delivery", "err", err)
		return
	}
	if w.opts.OnOutcome != nil {
		w.opts.OnOutcome(outcome)
	}
}

// post sends d once and returns the receiver's status (0 when none came)
// and, for a failure, what the log says about it (never the secret).
func (w *Worker) post(ctx context.Context, d registry.PendingDelivery) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, "bad webhook URL: " + err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", w.opts.UserAgent)
	req.Header.Set(SignatureHeader, Sign(d.Secret, d.Payload))
	req.Header.Set(EventHeader, d.Event)
	req.Header.Set(DeliveryHeader, d.GUID)
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, describe(err)
	}
	defer resp.Body.Close()
	// Only a little of the answer is read: it is for the log.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxLogBody))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, ""
	}
	msg := resp.Status
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		msg += " (redirects to other hosts are not followed): " + resp.Header.Get("Location")
	} else if b := strings.TrimSpace(strings.ToValidUTF8(string(body), "?")); b != "" {
		msg += ": " + b
	}
	return resp.StatusCode, msg
}

// describe shortens a client error for the log: the URL is on the hook.
func describe(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			err = inner
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timed out: " + err.Error()
	}
	return err.Error()
}
