package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/dryad-lang/registry/internal/gitrepo"
	"github.com/dryad-lang/registry/internal/store"
)

// runGit runs the git subcommands: `git rebuild [NAME...]`.
func runGit(ctx context.Context, env *environment, args []string) error {
	usage := "Usage: dryad-registry git rebuild [flags] [NAME...]\n\n" +
		"  rebuild   recreate package repositories (all when no NAME is given) from the stored archives\n"
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) == 0 {
			fmt.Fprint(env.stderr, usage)
			return &exitError{code: 2}
		}
		fmt.Fprint(env.stdout, usage)
		return nil
	}
	switch args[0] {
	case "rebuild":
		return runGitRebuild(ctx, env, args[1:])
	default:
		return &exitError{code: 2, msg: fmt.Sprintf("unknown git command %q; want: git rebuild [NAME...]", args[0])}
	}
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
		if names, err = packageNames(ctx, a.store); err != nil {
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
		fmt.Fprintln(env.stdout, describeRebuild(res))
		for _, c := range res.Changed {
			fmt.Fprintf(env.stdout, "  %s %s\n", res.Package, c)
		}
	}
	if failed > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d of %d packages could not be rebuilt", failed, len(names))}
	}
	return nil
}

// describeRebuild is the one line a rebuild prints for a package.
func describeRebuild(r *gitrepo.RebuildResult) string {
	if r.Removed {
		return r.Package + ": every version is deleted; no repository"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d versions replayed, %d tags", r.Package, r.Versions, r.Tags)
	if r.Main != "" {
		fmt.Fprintf(&b, ", main at v%s (%s)", r.Main, r.MainCommit)
	}
	if len(r.Changed) == 0 {
		b.WriteString(", same commits as recorded")
	} else {
		fmt.Fprintf(&b, ", %d commits differ from the recorded ones (now recorded)", len(r.Changed))
	}
	if r.MirrorQueued {
		b.WriteString(", mirror push queued")
	}
	return b.String()
}

// packageNames lists every package that has versions, in publish order.
func packageNames(ctx context.Context, st store.Store) ([]string, error) {
	var names []string
	seen := map[int64]bool{}
	err := st.AllVersions(ctx, func(p *store.Package, _ *store.Version) error {
		if !seen[p.ID] {
			seen[p.ID] = true
			names = append(names, p.Name)
		}
		return nil
	})
	return names, err
}
