package main

import (
	"context"
	"fmt"
	"time"

	"github.com/dryad-lang/registry/internal/client"
)

const ownerUsage = "owner add|remove NAME USER... | owner list NAME  [--registry URL|NAME] [--token T | --token-file F | --token-stdin] [--json]"

// runOwner lists or changes a package's owners.
func runOwner(ctx context.Context, env *environment, args []string) error {
	sub := func(action string) func(context.Context, *environment, []string) error {
		return func(ctx context.Context, env *environment, args []string) error {
			return runOwnerAction(ctx, env, action, args)
		}
	}
	return runSubcommand(ctx, env, args, subcommand{
		usage: "Usage: dryad-registry " + ownerUsage + "\n\n" +
			"  list     list a package's owners\n" +
			"  add      make users co-owners of a package (needs a token with the owners scope)\n" +
			"  remove   remove users from a package's owners\n",
		name: "owner", want: "owner add, owner remove, owner list",
		run: map[string]func(context.Context, *environment, []string) error{"add": sub("add"), "remove": sub("remove"), "list": sub("list")},
	})
}

func runOwnerAction(ctx context.Context, env *environment, action string, args []string) error {
	cmd := "owner " + action
	var o remoteOptions
	fs := newFlagSet(env, cmd, ownerUsage)
	o.addRegistryFlags(fs)
	if action != "list" {
		o.addTokenFlags(fs, "API token (scope owners) or login token")
	}
	positional, err := parseWithArgs(fs, env, args)
	if err != nil {
		return err
	}
	switch {
	case action == "list" && len(positional) != 1:
		return &exitError{code: 2, msg: "owner list: give one package NAME"}
	case action != "list" && len(positional) < 2:
		return &exitError{code: 2, msg: fmt.Sprintf("%s: give the package NAME and at least one USER, e.g. `dryad-registry %s mylib alice`", cmd, cmd)}
	}
	if _, err := o.tokenFlagsGiven(cmd); err != nil {
		return err
	}
	r, err := newRemote(env, cmd, o.registry)
	if err != nil {
		return err
	}
	name, users := positional[0], positional[1:]
	var l *client.OwnerList
	if action == "list" {
		l, err = r.api("").Owners(ctx, name)
	} else {
		tok, terr := r.token(&o)
		if terr != nil {
			return terr
		}
		if action == "add" {
			l, err = r.api(tok).AddOwners(ctx, name, users)
		} else {
			l, err = r.api(tok).RemoveOwners(ctx, name, users)
		}
	}
	if err != nil {
		return r.fail(err)
	}
	if o.json {
		return printJSON(env, l)
	}
	fmt.Fprintf(env.stdout, "owners of %s:\n", l.Name)
	for _, ow := range l.Owners {
		fmt.Fprintf(env.stdout, "  %-24s since %s\n", ow.Username, ow.AddedAt.UTC().Format(time.DateOnly))
	}
	return nil
}
