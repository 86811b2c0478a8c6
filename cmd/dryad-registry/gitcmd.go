package main

import (
	"context"
	"fmt"

	"github.com/dryad-lang/registry/internal/gitrepo"
)

// runGit runs the git subcommands: `git rebuild [NAME...]`.
func runGit(ctx context.Context, env *environment, args []string) error {
	return runSubcommand(ctx, env, args, subcommand{
		usage: "Usage: dryad-registry git rebuild [flags] [NAME...]\n\n" +
			"  rebuild   recreate package repositories (all when no NAME is given) from the stored archives\n",
		name: "git", want: "git rebuild [NAME...]",
		run: map[string]func(context.Context, *environment, []string) error{"rebuild": runGitRebuild},
	})
}

// runGitRebuild recreates repositories from the stored archives and the
// metadata store, reproducing the commit ids the live path records, and
// prints one line per package. The exit status is 1 when a package failed.
func runGitRebuild(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "git rebuild", "git rebuild [flags] [NAME...]")
	load := configFlags(fs, env)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	a, err := openConfigured(ctx, env, load)
	if err != nil {
		return err
	}
	defer a.Close()
	cfg, log := a.cfg, a.log
	repos, err := gitrepo.Open(cfg.GitDir, gitrepo.Options{Logger: log})
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	if err := repos.Check(ctx); err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("GIT_DIR=%s: %v", cfg.GitDir, err)}
	}
	mirror, err := openMirror(cfg, repos, log)
	if err != nil {
		return startupError(err)
	}
	w, err := gitrepo.NewWorker(repos, gitrepo.WorkerOptions{Source: a.registry.Git(), Mirror: mirror, Domain: cfg.Domain, Logger: log})
	if err != nil {
		return startupError(err)
	}
	names := fs.Args()
	if len(names) == 0 {
		if names, err = a.registry.Git().PackageNames(ctx); err != nil {
			return err
		}
	}
	failed := 0
	for _, name := range names {
		res, err := w.Rebuild(ctx, name)
		if err != nil {
			failed++
			fmt.Fprintf(env.stderr, "%s: %v\n", name, err)
			continue
		}
		fmt.Fprintln(env.stdout, res)
		for _, c := range res.Changed {
			fmt.Fprintf(env.stdout, "  %s %s\n", res.Package, c)
		}
	}
	if failed > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d of %d packages could not be rebuilt", failed, len(names))}
	}
	return nil
}
