package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dryad-lang/registry/internal/archive"
	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/blob"
	blobfs "github.com/dryad-lang/registry/internal/blob/fs"
	blobs3 "github.com/dryad-lang/registry/internal/blob/s3"
	"github.com/dryad-lang/registry/internal/cache"
	cachememory "github.com/dryad-lang/registry/internal/cache/memory"
	cacheredis "github.com/dryad-lang/registry/internal/cache/redis"
	"github.com/dryad-lang/registry/internal/config"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/logging"
	"github.com/dryad-lang/registry/internal/notify"
	"github.com/dryad-lang/registry/internal/ratelimit"
	limitmemory "github.com/dryad-lang/registry/internal/ratelimit/memory"
	limitredis "github.com/dryad-lang/registry/internal/ratelimit/redis"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/store"
	"github.com/dryad-lang/registry/internal/store/postgres"
	"github.com/dryad-lang/registry/internal/store/sqlite"
	"github.com/dryad-lang/registry/internal/tlog"
)

// app is the registry's components, wired from a Config. Every backend is
// chosen here, in one place.
type app struct {
	cfg      *config.Config
	log      *slog.Logger
	store    store.Store
	blobs    blob.Store
	redis    *goredis.Client
	health   *cache.Health
	limiter  ratelimit.Limiter
	cache    cache.Cache // the registry's cache, resilient over Redis when configured
	registry *registry.Service
	closers  []func() error
	// gitWake wakes the git worker when the registry queued git work.
	gitWake chan struct{}
	// webhookWake wakes the webhook worker when deliveries were queued.
	webhookWake chan struct{}
}

// openApp opens the store, blob store, cache and limiter and builds the
// registry service.
func openApp(ctx context.Context, cfg *config.Config, log *slog.Logger, obs registry.Observer) (*app, error) {
	a := &app{cfg: cfg, log: log, gitWake: make(chan struct{}, 1), webhookWake: make(chan struct{}, 1)}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("DATA_DIR=%q: %v", cfg.DataDir, err)
	}
	generated, err := cfg.EnsureJWTSecret()
	if err != nil {
		return nil, fmt.Errorf("JWT secret: %v", err)
	}
	if generated {
		log.Warn("no JWT_SECRET configured: generated one in DATA_DIR/jwt_secret; set JWT_SECRET to share it between instances")
	}
	if cfg.GitPerInstance {
		for _, name := range []string{"JWT_SECRET", "LOG_SIGNING_KEY"} {
			if _, set := cfg.Sources[name]; !set {
				log.Warn("GIT_PER_INSTANCE=true: instances sharing no folder must be given the same " + name + " in their settings; this one reads its own from DATA_DIR")
			}
		}
	}
	if generated, err = cfg.EnsureLogSigningKey(); err != nil {
		return nil, fmt.Errorf("log signing key: %v", err)
	}
	if generated {
		log.Warn("no LOG_SIGNING_KEY configured: generated one in DATA_DIR/log_signing_key; keep it for ever, and set LOG_SIGNING_KEY to share it between instances")
	}
	logSigner, err := tlog.NewSigner(cfg.LogSigningKey)
	if err != nil {
		return nil, err
	}

	// Metadata store.
	switch {
	case cfg.DatabaseURL == "":
		path := filepath.Join(cfg.DataDir, "registry.db")
		if a.store, err = sqlite.Open(ctx, path); err != nil {
			return nil, fmt.Errorf("opening SQLite database %s: %w", path, err)
		}
		log.Info("metadata store: SQLite", "path", path)
	case strings.HasPrefix(cfg.DatabaseURL, "postgres://"), strings.HasPrefix(cfg.DatabaseURL, "postgresql://"):
		if a.store, err = postgres.Open(ctx, cfg.DatabaseURL); err != nil {
			return nil, fmt.Errorf("DATABASE_URL=%s: %w", config.MaskURL(cfg.DatabaseURL), err)
		}
		log.Info("metadata store: PostgreSQL", "url", config.MaskURL(cfg.DatabaseURL))
	default:
		return nil, fmt.Errorf("DATABASE_URL: unsupported scheme; want empty or postgres://")
	}
	a.closers = append(a.closers, a.store.Close)

	// Package archives.
	if a.blobs, err = openBlobs(ctx, cfg, log); err != nil {
		return nil, err
	}

	// Cache, counters, locks and rate limits: in-process, or Redis with an
	// in-process fallback while Redis is down.
	var c cache.Cache
	var counters cache.Counters
	var locker cache.Locker
	memCache := cachememory.NewCache(cachememory.CacheOptions{})
	memCounters := cachememory.NewCounters()
	memLocker := cachememory.NewLocker(nil)
	memLimiter := limitmemory.New(limitmemory.Options{})
	if cfg.RedisURL == "" {
		c, counters, locker, a.limiter = memCache, memCounters, memLocker, memLimiter
	} else {
		if a.redis, err = cacheredis.Connect(cfg.RedisURL, log); err != nil {
			return nil, fmt.Errorf("REDIS_URL=%s: %v", config.MaskURL(cfg.RedisURL), err)
		}
		a.closers = append(a.closers, a.redis.Close)
		const prefix = "dryad:"
		rc := cacheredis.NewCache(a.redis, prefix)
		a.health = cache.NewHealth("redis", rc, cache.HealthOptions{Logger: log})
		c = cache.NewResilientCache(rc, a.health)
		// Downloads are counted in memory and pushed to Redis at each
		// flush: no network round trip per download.
		counters = cache.NewBufferedCounters(cache.NewResilientCounters(cacheredis.NewCounters(a.redis, prefix, cacheredis.CountersOptions{}), memCounters, a.health))
		locker = cache.NewResilientLocker(cacheredis.NewLocker(a.redis, prefix), memLocker, a.health)
		a.limiter = ratelimit.NewResilient(limitredis.New(a.redis, prefix), memLimiter, ratelimit.ResilientOptions{Logger: log})
		if err := a.health.Check(ctx); err != nil {
			log.Warn("Redis unreachable at start: serving with in-process cache and limits until it answers", "url", config.MaskURL(cfg.RedisURL), "err", err)
		} else {
			log.Info("cache and rate limits: Redis", "url", config.MaskURL(cfg.RedisURL))
		}
	}

	a.cache = c

	hasher, err := auth.NewHasher(cfg.BcryptCost)
	if err != nil {
		return nil, err
	}
	signer, err := auth.NewSigner([]byte(cfg.JWTSecret), cfg.SessionTimeout)
	if err != nil {
		return nil, err
	}
	lim := archive.DefaultLimits()
	lim.MaxUnpackedSize = cfg.MaxUnpackedSize
	notifier, err := openNotifier(cfg, log)
	if err != nil {
		return nil, err
	}
	if notifier != nil {
		// Closed before the store (closers run last first); what is still
		// queued gets a few seconds to go out.
		a.closers = append(a.closers, func() error { notifier.Close(10 * time.Second); return nil })
	}
	a.registry, err = registry.New(registry.Options{
		Store: a.store, Blobs: a.blobs, Cache: c, Counters: counters, Locker: locker, Limiter: a.limiter,
		Hasher: hasher, Signer: signer, Logger: log,
		MaxPackageSize: cfg.MaxPackageSize, RedirectDownloads: cfg.S3.RedirectDownloads, StaleTempAge: cfg.UploadTimeout, OrphanQuarantine: cfg.OrphanQuarantine, ArchiveLimits: lim, SessionTimeout: cfg.SessionTimeout,
		Domain: cfg.Domain, Observer: obs, OnGitWork: a.wakeGit, LogSigner: logSigner,
		Notifier:      notifiers(notifier),
		OnWebhookWork: a.wakeWebhooks, WebhookAllowPrivate: cfg.WebhookAllowPrivate, PublicURL: cfg.PublicURL,
	})
	if err != nil {
		return nil, err
	}
	ok = true
	return a, nil
}

// openNotifier returns the e-mail notifier when NOTIFY_EMAIL_COMMAND is
// set, nil otherwise.
func openNotifier(cfg *config.Config, log *slog.Logger) (*notify.Email, error) {
	if len(cfg.NotifyEmailCommand) == 0 {
		return nil, nil
	}
	if _, err := exec.LookPath(cfg.NotifyEmailCommand[0]); err != nil {
		// A program that is not there is a setting to fix: exit 2.
		return nil, errs.Errorf(errs.Invalid, "NOTIFY_EMAIL_COMMAND=%q: %v; give a sendmail-compatible program such as /usr/sbin/sendmail -t -i",
			strings.Join(cfg.NotifyEmailCommand, " "), err)
	}
	host := cfg.Domain
	if host == "" {
		host = "localhost"
	}
	from := cfg.NotifyEmailFrom
	if from == "" {
		from = "noreply@" + host
	}
	base := cfg.PublicURL
	if base == "" && cfg.Domain != "" {
		base = "https://" + cfg.Domain
	}
	n, err := notify.NewEmail(notify.EmailOptions{
		Command: cfg.NotifyEmailCommand, From: from, BaseURL: base, RegistryName: cfg.RegistryName, Domain: host, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	log.Info("e-mail notices to owners of affected dependents", "command", cfg.NotifyEmailCommand[0], "from", from)
	return n, nil
}

// notifiers composes the configured notifiers into the registry's one,
// nil when there is none (a nil *notify.Email must not become a non-nil
// interface). Webhooks need no notifier: the registry queues their
// dependents.affected events itself, in the change's transaction.
func notifiers(email *notify.Email) registry.Notifier {
	var ns registry.Notifiers
	if email != nil {
		ns = append(ns, email)
	}
	if len(ns) == 0 {
		return nil
	}
	return ns
}

// wakeWebhooks tells the webhook worker that deliveries were queued; it
// never blocks.
func (a *app) wakeWebhooks() {
	select {
	case a.webhookWake <- struct{}{}:
	default:
	}
}

// openBlobs opens the package archives' store: a folder of DATA_DIR, or an
// S3 bucket that must exist and answer.
func openBlobs(ctx context.Context, cfg *config.Config, log *slog.Logger) (blob.Store, error) {
	if cfg.BlobStore != "s3" {
		return blobfs.Open(filepath.Join(cfg.DataDir, "packages"))
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s, err := blobs3.Open(ctx, blobs3.Options{
		Endpoint: cfg.S3.Endpoint, Bucket: cfg.S3.Bucket, Region: cfg.S3.Region,
		AccessKeyID: cfg.S3.AccessKeyID, SecretAccessKey: cfg.S3.SecretAccessKey,
		Prefix: cfg.S3.Prefix, ForcePathStyle: cfg.S3.ForcePathStyle,
		TempDir: filepath.Join(cfg.DataDir, "tmp"),
	})
	if err != nil {
		return nil, fmt.Errorf("BLOB_STORE=s3: %w", err)
	}
	log.Info("package archives: S3", "endpoint", cfg.S3.Endpoint, "bucket", cfg.S3.Bucket, "prefix", cfg.S3.Prefix)
	return s, nil
}

// Close releases the components, last opened first.
func (a *app) Close() error {
	var first error
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil && first == nil {
			first = err
		}
	}
	a.closers = nil
	return first
}

// startupError turns a failure to open a dependency into a one-line exit
// with status 1 (2 for configuration mistakes).
func startupError(err error) error {
	if errs.KindOf(err) == errs.Invalid {
		return &exitError{code: 2, msg: err.Error()}
	}
	return &exitError{code: 1, msg: err.Error()}
}

// openConfigured loads a command's configuration and opens the registry's
// components, logging to stderr: the start of every command that works on
// the registry's data.
func openConfigured(ctx context.Context, env *environment, load func() (*config.Config, error)) (*app, error) {
	cfg, err := load()
	if err != nil {
		return nil, err
	}
	a, err := openApp(ctx, cfg, logging.New(cfg, env.stderr), nil)
	if err != nil {
		return nil, startupError(err)
	}
	return a, nil
}
