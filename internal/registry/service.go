// Package registry is the domain service of the Dryad Registry: publishing,
// reading, resolving, downloading, yanking and deleting packages, accounts,
// tokens, ownership and the audit log. It owns the registry's invariants
// (ARCHITECTURE.md); the HTTP layers decode requests, call it and encode its
// answers.
package registry

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/dryad-lang/registry/internal/archive"
	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/blob"
	"github.com/dryad-lang/registry/internal/cache"
	"github.com/dryad-lang/registry/internal/markdown"
	"github.com/dryad-lang/registry/internal/ratelimit"
	"github.com/dryad-lang/registry/internal/store"
	"github.com/dryad-lang/registry/internal/tlog"
)

// Options configure a Service. Store, Blobs, Cache, Counters, Locker,
// Limiter, Hasher and Signer are required.
type Options struct {
	Store    store.Store
	Blobs    blob.Store
	Cache    cache.Cache
	Counters cache.Counters
	Locker   cache.Locker
	Limiter  ratelimit.Limiter
	Hasher   *auth.Hasher
	Signer   *auth.Signer
	Logger   *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	// MaxPackageSize bounds an upload, in bytes.
	MaxPackageSize int64
	// OrphanQuarantine is how long archives the orphan sweep removed are
	// kept in the archive store's quarantine; a week when zero.
	OrphanQuarantine time.Duration
	// StaleTempAge is the age past which a file in the archive store's
	// temp folder is the leftover of an interrupted upload (the upload
	// timeout: no upload writes for longer); an hour when zero.
	StaleTempAge time.Duration
	// RedirectDownloads sends downloads to a short-lived URL of the
	// archive store (which must be a blob.Presigner) instead of streaming
	// them through the registry.
	RedirectDownloads bool
	// ArchiveLimits bound what an archive may contain.
	ArchiveLimits archive.Limits
	// SessionTimeout is the lifetime of login tokens and web sessions.
	SessionTimeout time.Duration
	// Domain is used in the placeholder emails of git commit authors.
	Domain string
	// Observer receives events for metrics; may be nil.
	Observer Observer
	// OnGitWork is called after git work was queued, to wake the worker.
	OnGitWork func()
	// Notifier is told when a yank or delete moved other packages'
	// resolutions; nil tells no one.
	Notifier Notifier
	// LogSigner signs the transparency log's checkpoints; without it the
	// log is kept but no checkpoint is served.
	LogSigner *tlog.Signer
	// OnWebhookWork is called after webhook deliveries were queued, to
	// wake the webhook worker.
	OnWebhookWork func()
	// WebhookAllowPrivate lets hooks point at loopback, private and
	// link-local addresses (tests, closed networks).
	WebhookAllowPrivate bool
	// PublicURL is the registry's address in webhook payloads
	// (https://Domain when empty).
	PublicURL string
}

// Observer is told about events worth counting.
type Observer interface {
	Published()
	PublishFailed(reason string)
	Downloaded()
	CacheHit(hit bool)
	RateLimited(scope string)
}

type nopObserver struct{}

func (nopObserver) Published()           {}
func (nopObserver) PublishFailed(string) {}
func (nopObserver) Downloaded()          {}
func (nopObserver) CacheHit(bool)        {}
func (nopObserver) RateLimited(string)   {}

// Service is the registry.
type Service struct {
	store    store.Store
	blobs    blob.Store
	cache    cache.Cache
	counters cache.Counters
	locker   cache.Locker
	limiter  ratelimit.Limiter
	hasher   *auth.Hasher
	signer   *auth.Signer
	md       *markdown.Renderer
	log      *slog.Logger
	now      func() time.Time
	obs      Observer
	opts     Options

	flushMu sync.Mutex

	// orphans are the unreferenced archives seen by the last sweep.
	orphanMu sync.Mutex
	orphans  map[string]bool

	gens cache.Generations

	totals totalsMemo
}

// New returns a Service.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Blobs == nil || o.Cache == nil || o.Counters == nil || o.Locker == nil ||
		o.Limiter == nil || o.Hasher == nil || o.Signer == nil {
		return nil, errors.New("registry: missing a required option")
	}
	if _, ok := o.Blobs.(blob.Presigner); o.RedirectDownloads && !ok {
		return nil, errors.New("registry: download redirects need an archive store that presigns URLs (S3)")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	if o.SessionTimeout == 0 {
		o.SessionTimeout = auth.DefaultSessionTimeout
	}
	if o.MaxPackageSize == 0 {
		o.MaxPackageSize = 100 << 20
	}
	if o.Domain == "" {
		o.Domain = "localhost"
	}
	return &Service{
		store: o.Store, blobs: o.Blobs, cache: o.Cache, counters: o.Counters, locker: o.Locker,
		limiter: o.Limiter, hasher: o.Hasher, signer: o.Signer, md: markdown.New(),
		log: o.Logger, now: o.Now, obs: o.Observer, opts: o,
		gens: cache.Generations{Cache: o.Cache, TTL: generationTTL},
	}, nil
}

// Observe returns the observer of metrics events.
func (s *Service) Observe() Observer { return s.obs }

// MaxPackageSize is the largest accepted upload.
func (s *Service) MaxPackageSize() int64 { return s.opts.MaxPackageSize }

func (s *Service) utcNow() time.Time { return s.now().UTC() }

// gitWork wakes the git worker, if any.
func (s *Service) gitWork() {
	if s.opts.OnGitWork != nil {
		s.opts.OnGitWork()
	}
}

// audit records an event outside any transaction; a failure to record is
// logged, not returned, because the action it describes already happened.
func (s *Service) audit(ctx context.Context, e *store.AuditEvent) {
	if e.At.IsZero() {
		e.At = s.utcNow()
	}
	if err := s.store.AddAudit(context.WithoutCancel(ctx), e); err != nil {
		s.log.ErrorContext(ctx, "recording audit event", "action", e.Action, "err", err)
	}
}

// actor fills the actor fields of an audit event from a principal.
func actor(p *auth.Principal, ip string) store.AuditEvent {
	e := store.AuditEvent{IP: ip}
	if p != nil {
		e.ActorID = p.UserID
		e.Actor = p.Username
	}
	return e
}
