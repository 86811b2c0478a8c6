package main

import (
	"context"
	"fmt"

	"github.com/dryad-lang/registry/internal/client"
	"github.com/dryad-lang/registry/internal/errs"
)

// runLog runs the transparency log subcommands: `log verify`.
func runLog(ctx context.Context, env *environment, args []string) error {
	return runSubcommand(ctx, env, args, subcommand{
		usage: "Usage: dryad-registry log verify --registry URL [--key KEY] [--state FILE]\n\n" +
			"  verify   audit a registry's transparency log from the outside\n",
		name: "log", want: "log verify",
		run: map[string]func(context.Context, *environment, []string) error{"verify": runLogVerify},
	})
}

// runLogVerify fetches the log's checkpoint and tiles, recomputes the
// tree, checks the signature and that the log extends the checkpoint seen
// last time, and every publish record against the checksum served now. It
// prints what differs and exits 1 when anything does.
func runLogVerify(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "log verify", "log verify --registry URL [--key KEY] [--state FILE]")
	registryFlag := fs.String("registry", "", "registry URL, or the NAME of a registry in ./"+client.OakRegistryFile)
	key := fs.String("key", "", "the verifier key the checkpoints must be signed with (default: the one of the state file, else the registry's, trusted on first use)")
	state := fs.String("state", "", "file keeping the last checkpoint verified (default: in the user's config folder, one per registry)")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	fail := func(err error) error {
		code := 1
		if errs.KindOf(err) == errs.Invalid {
			code = 2
		}
		return &exitError{code: code, msg: "log verify: " + errs.Message(err)}
	}
	reg, err := client.FindRegistry(env.workDir, *registryFlag)
	if err != nil {
		return fail(err)
	}
	if *state == "" {
		if *state, err = client.DefaultLogStatePath(reg.BaseURL); err != nil {
			return fail(err)
		}
	}
	a := &client.LogAuditor{Registry: reg, Key: *key, StatePath: *state, UserAgent: "dryad-registry-log-verify/" + version}
	rep, err := a.Verify(ctx)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(env.stdout, "registry  %s\nkey       %s (from the %s)\ntree      %d records, %s\n", reg.BaseURL, rep.Key, rep.KeySource, rep.Tree.N, rep.Tree.Hash)
	if rep.Previous != nil {
		fmt.Fprintf(env.stdout, "previous  %d records, %s\n", rep.Previous.N, rep.Previous.Hash)
	}
	fmt.Fprintf(env.stdout, "checked   %d publish records of %d packages\n", rep.Publishes, rep.Packages)
	if len(rep.Problems) > 0 {
		for _, p := range rep.Problems {
			fmt.Fprintln(env.stdout, "PROBLEM  ", p)
		}
		return &exitError{code: 1, msg: fmt.Sprintf("log verify: %d problems; the state in %s was not updated", len(rep.Problems), *state)}
	}
	fmt.Fprintf(env.stdout, "ok        the log extends every checkpoint seen before; state saved in %s\n", *state)
	return nil
}
