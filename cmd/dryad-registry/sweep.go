package main

import (
	"context"
	"fmt"
	"time"

	"github.com/dryad-lang/registry/internal/config"
)

func runSweep(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "sweep", "sweep [--remove | --restore] [flags]")
	remove := fs.Bool("remove", false, "move every archive no version refers to into quarantine, however many (the server's hourly sweep stops at a tenth)")
	restore := fs.Bool("restore", false, "move every quarantined archive back into package storage")
	grace := fs.Duration("grace", time.Minute, "time between the two looks at the archives (a publish stores its archive just before committing it)")
	load := configFlags(fs, env)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *remove && *restore {
		return &exitError{code: 2, msg: "sweep: use --remove or --restore, not both"}
	}
	a, err := openConfigured(ctx, env, load)
	if err != nil {
		return err
	}
	defer a.Close()
	if *restore {
		n, err := a.registry.RestoreQuarantine(ctx)
		if err != nil {
			return &exitError{code: 1, msg: "sweep: restoring the quarantine: " + err.Error()}
		}
		fmt.Fprintf(env.stdout, "moved %d archives from quarantine back into package storage\n", n)
		return nil
	}
	sums, err := a.registry.UnreferencedArchives(ctx, *grace, *remove)
	for _, sum := range sums {
		fmt.Fprintln(env.stdout, sum)
	}
	if err != nil {
		return startupError(err)
	}
	switch {
	case *remove:
		fmt.Fprintf(env.stdout, "sweep: moved %d archives no version refers to into quarantine (kept %s, then deleted; sweep --restore brings them back)\n",
			len(sums), config.FormatDuration(a.cfg.OrphanQuarantine))
	default:
		fmt.Fprintf(env.stdout, "sweep: %d archives no version refers to; --remove moves them into quarantine\n", len(sums))
	}
	return nil
}
