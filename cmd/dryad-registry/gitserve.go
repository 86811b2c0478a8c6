package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/dryad-lang/registry/internal/api"
	"github.com/dryad-lang/registry/internal/config"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/gitrepo"
)

// gitServer is the git side of a running registry: the repositories, the
// worker applying the git queue, the smart-HTTP handler and the health check.
type gitServer struct {
	repos   *gitrepo.Repos // nil when git cannot run here
	worker  *gitrepo.Worker
	handler http.Handler
	check   api.Check
}

// wakeGit tells the git worker that work was queued; it never blocks.
func (a *app) wakeGit() {
	select {
	case a.gitWake <- struct{}{}:
	default:
	}
}

// openGit opens the repositories in GIT_DIR, the mirror and the worker. A
// machine where git cannot run still serves the registry: the git check
// fails, /git/ answers 503 and the jobs wait in the queue for a start with
// git. Mistakes in the mirror settings stop the start.
func openGit(a *app) (*gitServer, error) {
	g := &gitServer{}
	repos, err := gitrepo.Open(a.cfg.GitDir, gitrepo.Options{Logger: a.log})
	if err != nil {
		a.log.Error("git server off: git cannot run; publishes still work and their git jobs wait in the queue", "err", err)
		g.handler = gitrepo.Unavailable("The registry's git server is unavailable: git cannot run on the registry's machine.")
		g.check = api.Check{Name: "git",
			Run: func(context.Context) error {
				return errs.Wrap(errs.Unavailable, err, "git cannot run on this machine: install git 2.36 or later and restart")
			},
			Info: func(ctx context.Context) map[string]any { return gitrepo.Health(ctx, a.registry.Git(), nil) },
		}
		return g, nil
	}
	mirror, err := openMirror(a.cfg, repos, a.log)
	if err != nil {
		return nil, err
	}
	g.repos = repos
	g.handler = repos.Handler()
	opts := gitrepo.WorkerOptions{
		Source: a.registry.Git(), Mirror: mirror, Domain: a.cfg.Domain, Wake: a.gitWake, Logger: a.log,
	}
	if a.cfg.GitPerInstance {
		opts.Changes = a.registry.Git()
	}
	if g.worker, err = gitrepo.NewWorker(repos, opts); err != nil {
		return nil, err
	}
	g.check = api.Check{Name: "git", Run: repos.Check,
		Info: func(ctx context.Context) map[string]any { return gitrepo.Health(ctx, a.registry.Git(), mirror) },
	}
	if mirror != nil {
		a.log.Info("git mirror", "url", gitrepo.Redact(a.cfg.GitMirrorURL))
	}
	return g, nil
}

// openMirror returns the mirror of GIT_MIRROR_URL, or nil when it is empty.
func openMirror(cfg *config.Config, repos *gitrepo.Repos, log *slog.Logger) (*gitrepo.Mirror, error) {
	if cfg.GitMirrorURL == "" {
		if cfg.GiteaURL != "" {
			log.Warn("GITEA_URL has no effect without GIT_MIRROR_URL")
		}
		return nil, nil
	}
	vars, err := cfg.MirrorVars()
	if err != nil {
		return nil, err
	}
	opts := gitrepo.MirrorOptions{
		URLTemplate: cfg.GitMirrorURL,
		Env:         func(k string) string { return vars[k] },
		// One attempt per job: the durable queue retries failed pushes
		// with a growing wait, and a package's later jobs (new versions)
		// do not wait behind in-process retries.
		Attempts: 1, AttemptTimeout: 2 * time.Minute,
		Logger: log,
	}
	if cfg.GiteaURL != "" {
		opts.Gitea = &gitrepo.Gitea{BaseURL: cfg.GiteaURL, Token: cfg.GiteaToken, Org: cfg.GiteaOrg}
	}
	return gitrepo.NewMirror(repos, opts)
}
