package main

import (
	"context"
	"fmt"

	"github.com/dryad-lang/registry/internal/manifest"
)

// runYank yanks a version (or, with --undo, unyanks it): ranges no longer
// resolve to it, but exact installs and lockfiles still get it.
func runYank(ctx context.Context, env *environment, args []string) error {
	var o remoteOptions
	fs := newFlagSet(env, "yank", "yank NAME@VERSION [--undo] [--registry URL|NAME] [--token T | --token-file F | --token-stdin] [--json]")
	o.addRegistryFlags(fs)
	o.addTokenFlags(fs, "API token (scope yank) or login token")
	undo := fs.Bool("undo", false, "unyank the version: ranges resolve to it again")
	positional, err := parseWithArgs(fs, env, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return &exitError{code: 2, msg: "yank: give one NAME@VERSION, e.g. `dryad-registry yank mylib@1.2.3`"}
	}
	name, ver, ok := manifest.SplitSpec(positional[0])
	if !ok {
		return &exitError{code: 2, msg: fmt.Sprintf("yank: %q is not NAME@VERSION; e.g. `dryad-registry yank mylib@1.2.3`", positional[0])}
	}
	if _, err := o.tokenFlagsGiven("yank"); err != nil {
		return err
	}
	r, err := newRemote(env, "yank", o.registry)
	if err != nil {
		return err
	}
	tok, err := r.token(&o)
	if err != nil {
		return err
	}
	v, err := r.api(tok).SetYanked(ctx, name, ver, !*undo)
	if err != nil {
		return r.fail(err)
	}
	if o.json {
		return printJSON(env, v)
	}
	if v.Yanked {
		fmt.Fprintf(env.stdout, "yanked %s@%s: version ranges no longer resolve to it; exact installs still get it (undo with --undo)\n", v.Name, v.Version)
	} else {
		fmt.Fprintf(env.stdout, "unyanked %s@%s: version ranges resolve to it again\n", v.Name, v.Version)
	}
	return nil
}
