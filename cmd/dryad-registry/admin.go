package main

import (
	"context"
	"fmt"
	"io"

	"github.com/dryad-lang/registry/internal/client"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/logging"
)

func runCreateAdmin(ctx context.Context, env *environment, args []string) error {
	fs := newFlagSet(env, "create-admin", "create-admin --username U --email E [--password-stdin] [flags]")
	username := fs.String("username", "", "the admin's username (an existing user is promoted)")
	email := fs.String("email", "", "the admin's email (needed to create an account)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	load := configFlags(fs, env)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *username == "" {
		return &exitError{code: 2, msg: "create-admin: --username is required"}
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	log := logging.New(cfg, io.Discard)
	a, err := openApp(ctx, cfg, log, nil)
	if err != nil {
		return startupError(err)
	}
	defer a.Close()

	// An existing user is promoted without a password.
	if _, err := a.store.GetUserByName(ctx, *username); err == nil {
		if _, err := a.registry.EnsureAdmin(ctx, *username, "", ""); err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "%s is now an admin\n", *username)
		return nil
	}
	if *email == "" {
		return &exitError{code: 2, msg: "create-admin: --email is required to create a new account"}
	}
	password, err := client.ReadPassword(env.stdin, env.stderr, *fromStdin)
	switch errs.KindOf(err) {
	case errs.Invalid:
		return &exitError{code: 2, msg: "create-admin: " + errs.Message(err)}
	case errs.Conflict:
		return &exitError{code: 1, msg: "create-admin: " + errs.Message(err)}
	}
	if err != nil {
		return err
	}
	if _, err := a.registry.EnsureAdmin(ctx, *username, *email, password); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "created admin account %s\n", *username)
	return nil
}
