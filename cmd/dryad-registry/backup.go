package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/dryad-lang/registry/internal/backup"
	"github.com/dryad-lang/registry/internal/client"
	"github.com/dryad-lang/registry/internal/errs"
)

func runBackup(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "backup", "backup --out DIR [--keep N] [--with-git] [flags]")
	out := fs.String("out", "", "folder to write the backup file into (created if missing)")
	keep := fs.Int("keep", 0, "after the backup, remove all but the newest N backups in the folder (0 keeps all)")
	withGit := fs.Bool("with-git", false, "include the git repositories (GIT_DIR)")
	load := configFlags(fs, env)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *out == "" {
		return &exitError{code: 2, msg: "backup: --out DIR is required"}
	}
	if *keep < 0 {
		return &exitError{code: 2, msg: "backup: --keep must be 0 (keep all) or more"}
	}
	a, err := openConfigured(ctx, env, load)
	if err != nil {
		return err
	}
	defer a.Close()
	cfg, log := a.cfg, a.log

	start := time.Now()
	o := backup.Options{Store: a.store, Blobs: a.blobs, RegistryVersion: version, Logger: log}
	if *withGit {
		o.GitDir = cfg.GitDir
	}
	path, m, err := backup.Create(ctx, *out, o)
	if err != nil {
		return &exitError{code: 1, msg: "backup failed, no backup written: " + err.Error()}
	}
	size := int64(0)
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(env.stdout, "backup written: %s (%s; %d versions, %d archives, %d git files) in %s\n",
		path, client.HumanSize(size), m.Counts.Rows["versions"], m.Counts.Archives, m.Counts.GitFiles, time.Since(start).Round(time.Millisecond))
	if *keep > 0 {
		removed, err := backup.Prune(*out, *keep)
		for _, p := range removed {
			fmt.Fprintf(env.stdout, "removed old backup %s\n", p)
		}
		if err != nil {
			return &exitError{code: 1, msg: "backup written, but removing old backups failed: " + err.Error()}
		}
	}
	return nil
}

func runRestore(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "restore", "restore --in FILE [--force] [flags]")
	in := fs.String("in", "", "the backup file to restore")
	force := fs.Bool("force", false, "delete everything the target registry holds (records, archives, git repositories) before restoring")
	load := configFlags(fs, env)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *in == "" {
		return &exitError{code: 2, msg: "restore: --in FILE is required"}
	}
	a, err := openConfigured(ctx, env, load)
	if err != nil {
		return err
	}
	defer a.Close()
	cfg, log := a.cfg, a.log

	start := time.Now()
	m, err := backup.Restore(ctx, *in, backup.RestoreOptions{
		Store: a.store, Blobs: a.blobs, GitDir: cfg.GitDir, Force: *force, Logger: log,
	})
	switch {
	case errors.Is(err, errs.Conflict):
		return &exitError{code: 1, msg: "restore refused: " + errs.Message(err) + "; restore into an empty DATA_DIR and database, or pass --force to delete what it holds first"}
	case err != nil:
		return &exitError{code: 1, msg: "restore failed, the target is left empty: " + err.Error()}
	}
	fmt.Fprintf(env.stdout, "restored %s (made %s by dryad-registry %s on %s) into %s: %d users, %d packages, %d versions, %d archives, %d git files in %s\n",
		*in, m.Created.Format(time.RFC3339), m.RegistryVersion, m.Engine, a.store.Driver(),
		m.Counts.Rows["users"], m.Counts.Rows["packages"], m.Counts.Rows["versions"], m.Counts.Archives, m.Counts.GitFiles,
		time.Since(start).Round(time.Millisecond))
	return nil
}
