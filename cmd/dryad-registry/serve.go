package main

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/dryad-lang/registry/internal/api"
	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/cache"
	cachememory "github.com/dryad-lang/registry/internal/cache/memory"
	"github.com/dryad-lang/registry/internal/config"
	"github.com/dryad-lang/registry/internal/httpx"
	"github.com/dryad-lang/registry/internal/logging"
	"github.com/dryad-lang/registry/internal/ratelimit"
	"github.com/dryad-lang/registry/internal/server"
	"github.com/dryad-lang/registry/internal/web"
	"github.com/dryad-lang/registry/internal/webhook"
)

// downloadFlushInterval is how often buffered download counts reach the
// database.
const downloadFlushInterval = 5 * time.Second

func runServe(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "serve", "serve [flags]")
	load := configFlags(fs, env)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	return serve(ctx, env, cfg)
}

// limitTable is the rate-limit policy of the configured rates.
func limitTable(cfg *config.Config) ratelimit.Table {
	return ratelimit.NewTable(ratelimit.Rates{Install: cfg.InstallRateLimit, API: cfg.APIRateLimit, Upload: cfg.UploadRateLimit})
}

// serve runs the registry until ctx ends. Once it accepts connections it
// logs "dryad-registry serving" with its address (with PORT=0, the only
// place that tells which port it got).
func serve(ctx context.Context, env *environment, cfg *config.Config) error {
	log, closeLog := logging.NewServer(cfg, env.stderr)
	defer closeLog()
	for _, v := range cfg.Ignored {
		log.Debug("ignoring a setting of the deployment guide that has no effect here", "variable", v)
	}
	for _, v := range cfg.Unknown {
		log.Warn("unknown variable in the .env file, ignored", "variable", v)
	}
	met := newServeMetrics(cfg, log)
	a, err := openApp(ctx, cfg, log, met.observer())
	if err != nil {
		return startupError(err)
	}
	defer a.Close()
	// The database and package storage must be the same registry's before
	// anything, the orphan sweep above all, reads one against the other.
	if _, err := a.registry.CheckIdentity(ctx); err != nil {
		return startupError(err)
	}
	// Versions from before the registry kept a transparency log enter it
	// once, before anything is served from it.
	if n, err := a.registry.InitLog(ctx); err != nil {
		return startupError(fmt.Errorf("starting the transparency log: %w", err))
	} else if n > 0 {
		log.Info("transparency log started with the versions published before it", "versions", n)
	}
	met.watch(a)

	checks := []api.Check{
		{Name: "database", Critical: true, Run: a.store.Ping},
		{Name: "storage", Critical: true, Run: a.blobs.Check,
			Info: func(context.Context) map[string]any { return map[string]any{"store": cfg.BlobStore} }},
	}
	if a.health != nil {
		checks = append(checks, api.Check{Name: "redis", Run: a.health.Check})
	}
	git, err := openGit(a)
	if err != nil {
		return startupError(err)
	}
	checks = append(checks, git.check)
	started := time.Now()
	limits := limitTable(cfg)
	obs := a.registry.Observe()
	// Small archives stay in this process's memory whatever the shared
	// cache is: serving them from Redis would trade a file read for a
	// network call.
	var archives cache.Cache
	if cfg.ArchiveCacheSize > 0 {
		archives = cachememory.NewCache(cachememory.CacheOptions{MaxBytes: cfg.ArchiveCacheSize})
	}
	apiHandler := api.New(api.Options{
		Registry: a.registry, Cache: a.cache, OnCacheRead: obs.CacheHit, Logger: log, Archives: archives,
		Limits: limits, Checks: checks, Version: version, Started: started,
	})
	webUI, err := web.New(web.Options{
		Registry: a.registry, Cache: a.cache, OnCacheRead: obs.CacheHit, CSRFKey: auth.DeriveKey(cfg.JWTSecret, "csrf"),
		Logger: log, Name: cfg.RegistryName, Description: cfg.RegistryDescription,
		Limits: limits, Version: version, APIReference: api.OpenAPI(),
	})
	if err != nil {
		return startupError(err)
	}
	srv := server.New(server.Options{
		Metrics: met.mainHandler(), Observer: met.requests(),
		Addr: cfg.Addr(), API: apiHandler, Logger: log, Web: webUI,
		Limiter: a.limiter, OnRateLimited: obs.RateLimited,
		Proxies:       httpx.Proxies{Trusted: cfg.TrustedProxies, PublicURL: cfg.PublicURL},
		UploadTimeout: cfg.UploadTimeout, Git: git.handler, AllowedOrigins: cfg.AllowedOrigins,
	})

	l, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("cannot listen on %s: %v (set PORT or HOST)", cfg.Addr(), err)}
	}
	stopMetrics, err := met.listen(ctx)
	if err != nil {
		l.Close()
		return err
	}
	defer stopMetrics()
	log.Info("dryad-registry serving", "url", "http://"+l.Addr().String(), "version", version, "data_dir", cfg.DataDir)

	// Background work stops after the server has finished its requests, so
	// the final download flush counts every download served.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		a.registry.RunDownloadFlusher(bg, downloadFlushInterval)
	}()
	go func() {
		defer wg.Done()
		a.registry.RunHousekeeping(bg, time.Hour)
	}()

	if git.worker != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			git.worker.Run(bg)
		}()
	}

	hooks, err := webhook.NewWorker(webhook.Options{
		Queue: a.registry.WebhookQueue(), Wake: a.webhookWake, Logger: log,
		UserAgent: "Dryad-Registry/" + version + " (webhooks)",
		RetryBase: cfg.WebhookRetryBase, MaxAttempts: cfg.WebhookMaxAttempts,
		AllowPrivate: cfg.WebhookAllowPrivate, OnOutcome: met.webhookOutcome(),
	})
	if err != nil {
		stopBG()
		wg.Wait()
		return startupError(err)
	}
	wg.Go(func() { hooks.Run(bg) })

	if a.health != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cache.Watch(bg, a.cache, time.Second)
		}()
	}

	err = srv.Serve(ctx, l)
	stopBG()
	wg.Wait()
	log.Info("stopped")
	return err
}
