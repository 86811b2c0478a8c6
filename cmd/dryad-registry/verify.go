package main

import (
	"context"
	"fmt"
	"time"

	"github.com/dryad-lang/registry/internal/backup"
)

func runVerify(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "verify", "verify [flags]")
	load := configFlags(fs, env)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	a, err := openConfigured(ctx, env, load)
	if err != nil {
		return err
	}
	defer a.Close()

	start := time.Now()
	res, err := backup.Verify(ctx, a.store, a.blobs, a.cfg.UploadTimeout, func(p backup.Problem) {
		fmt.Fprintln(env.stdout, p.String())
	})
	if err != nil {
		return &exitError{code: 1, msg: "verify could not finish: " + err.Error()}
	}
	records, logProblems, err := backup.VerifyLog(ctx, a.store, func(p backup.Problem) {
		fmt.Fprintln(env.stdout, p.String())
	})
	if err != nil {
		return &exitError{code: 1, msg: "verify could not finish the transparency log: " + err.Error()}
	}
	res.Problems += logProblems
	summary := fmt.Sprintf("%d versions, %d archives and %d log records checked in %s", res.Versions, res.Archives, records, time.Since(start).Round(time.Millisecond))
	if res.Problems > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("verify: %d problems; %s", res.Problems, summary)}
	}
	fmt.Fprintln(env.stdout, "verify: no problems;", summary)
	return nil
}
