package main

import (
	"context"
)

func runConfig(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "config", "config [flags]")
	load := configFlags(fs, env)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	return cfg.Print(env.stdout)
}
