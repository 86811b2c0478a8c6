package gitrepo

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
)

// MirrorOptions configures a Mirror.
type MirrorOptions struct {
	// URLTemplate is GIT_MIRROR_URL; it must contain {name} (see MirrorURL).
	URLTemplate string
	// Env gives the values of ${VAR} in the template.
	Env func(string) string
	// Gitea, when set, creates each repository on the mirror before its
	// first push.
	Gitea *Gitea
	// Attempts is how many times a push is tried before Sync gives up
	// (default 5); Backoff is the wait after the first failure (default 2s),
	// doubled after each further one up to MaxBackoff (default 1m).
	Attempts            int
	Backoff, MaxBackoff time.Duration
	// AttemptTimeout bounds one push (default 5m).
	AttemptTimeout time.Duration
	// OnRetry, if set, is called after each failed attempt that will be
	// retried, e.g. to count retries in metrics.
	OnRetry func(pkg string, attempt int, err error)
	Logger  *slog.Logger
}

// MirrorState is how the last push of a package to the mirror went. The
// registry stores it with the package so that every instance, the health
// endpoint and the package's admin view can show it; URL and LastError never
// hold credentials.
type MirrorState struct {
	URL         string    `json:"url"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastPushed  time.Time `json:"last_pushed,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	// Failures counts failed attempts since the last successful push.
	Failures int `json:"failures"`
}

// Mirror pushes package repositories to a remote after every change, with
// retries and backoff, and remembers the outcome per package.
type Mirror struct {
	repos *Repos
	opts  MirrorOptions
	log   *slog.Logger

	mu      sync.Mutex
	states  map[string]MirrorState
	ensured map[string]bool
	locks   map[string]*sync.Mutex
}

// NewMirror returns a Mirror of repos configured by opts.
func NewMirror(repos *Repos, opts MirrorOptions) (*Mirror, error) {
	if !strings.Contains(opts.URLTemplate, "{name}") {
		return nil, errs.Errorf(errs.Invalid,
			"GIT_MIRROR_URL %q must contain {name}, or every package would be pushed to the same repository", Redact(opts.URLTemplate))
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 5
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 2 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Minute
	}
	if opts.AttemptTimeout <= 0 {
		opts.AttemptTimeout = 5 * time.Minute
	}
	log := opts.Logger
	if log == nil {
		log = repos.log
	}
	return &Mirror{
		repos: repos, opts: opts, log: log,
		states: map[string]MirrorState{}, ensured: map[string]bool{}, locks: map[string]*sync.Mutex{},
	}, nil
}

// URL is the mirror URL of a package, without credentials.
func (m *Mirror) URL(pkg string) string {
	return Redact(MirrorURL(m.opts.URLTemplate, pkg, m.opts.Env))
}

// Sync pushes a package's repository to the mirror (creating it on Gitea
// first when configured), retrying with exponential backoff, and returns the
// resulting state for the caller to store. The error is the last attempt's;
// the caller's durable queue decides whether to try again later.
func (m *Mirror) Sync(ctx context.Context, pkg, description string) (MirrorState, error) {
	if err := checkName(pkg); err != nil {
		return MirrorState{}, err
	}
	unlock := m.lock(pkg)
	defer unlock()
	remote := MirrorURL(m.opts.URLTemplate, pkg, m.opts.Env)
	wait := m.opts.Backoff
	var err error
	for attempt := 1; ; attempt++ {
		err = m.attempt(ctx, pkg, description, remote)
		m.record(pkg, err)
		if err == nil || errors.Is(err, errs.NotFound) || errors.Is(err, errs.Invalid) || attempt == m.opts.Attempts {
			break
		}
		m.log.Warn("git mirror push failed; retrying", "package", pkg, "attempt", attempt, "wait", wait, "err", err)
		if m.opts.OnRetry != nil {
			m.opts.OnRetry(pkg, attempt, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return m.State(pkg), errors.Join(err, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, m.opts.MaxBackoff)
	}
	if err != nil {
		m.log.Error("git mirror push failed", "package", pkg, "url", m.URL(pkg), "err", err)
	}
	return m.State(pkg), err
}

func (m *Mirror) attempt(ctx context.Context, pkg, description, remote string) error {
	ctx, cancel := context.WithTimeout(ctx, m.opts.AttemptTimeout)
	defer cancel()
	if m.opts.Gitea != nil && !m.isEnsured(pkg) {
		if err := m.opts.Gitea.EnsureRepo(ctx, pkg, description); err != nil {
			return err
		}
		m.setEnsured(pkg, true)
	}
	err := m.repos.Push(ctx, pkg, remote)
	if errors.Is(err, errs.NotFound) {
		// Every version is deleted: so is what the mirror shows.
		err = m.repos.Withdraw(ctx, pkg, remote)
	}
	if err != nil {
		// The repository may have been deleted on the mirror since.
		m.setEnsured(pkg, false)
	}
	return err
}

// lock serialises pushes of one package within this process; concurrent
// pushes of the same refs would only make each other fail.
func (m *Mirror) lock(pkg string) func() {
	m.mu.Lock()
	l, ok := m.locks[pkg]
	if !ok {
		l = &sync.Mutex{}
		m.locks[pkg] = l
	}
	m.mu.Unlock()
	l.Lock()
	return l.Unlock
}

func (m *Mirror) record(pkg string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.states[pkg]
	s.URL = Redact(MirrorURL(m.opts.URLTemplate, pkg, m.opts.Env))
	s.LastAttempt = time.Now().UTC()
	if err == nil {
		s.LastPushed, s.LastError, s.Failures = s.LastAttempt, "", 0
	} else {
		s.LastError, s.Failures = err.Error(), s.Failures+1
	}
	m.states[pkg] = s
}

// State is the mirror state of a package as this process last saw it.
func (m *Mirror) State(pkg string) MirrorState {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.states[pkg]
	if !ok {
		s.URL = Redact(MirrorURL(m.opts.URLTemplate, pkg, m.opts.Env))
	}
	return s
}

// MirrorHealth summarises the mirror for /api/health.
type MirrorHealth struct {
	URL        string    `json:"url"` // the template, without credentials
	Packages   int       `json:"packages"`
	Failing    []string  `json:"failing,omitempty"` // packages whose last push failed
	LastPushed time.Time `json:"last_pushed,omitzero"`
	LastError  string    `json:"last_error,omitempty"`
}

// Health summarises the pushes this process has made.
func (m *Mirror) Health() MirrorHealth {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := MirrorHealth{URL: Redact(m.opts.URLTemplate), Packages: len(m.states)}
	var lastErrAt time.Time
	for pkg, s := range m.states {
		if s.LastPushed.After(h.LastPushed) {
			h.LastPushed = s.LastPushed
		}
		if s.LastError != "" {
			h.Failing = append(h.Failing, pkg)
			if s.LastAttempt.After(lastErrAt) {
				lastErrAt, h.LastError = s.LastAttempt, pkg+": "+s.LastError
			}
		}
	}
	slices.Sort(h.Failing)
	return h
}

func (m *Mirror) isEnsured(pkg string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ensured[pkg]
}

func (m *Mirror) setEnsured(pkg string, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ensured[pkg] = ok
}
