package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dryad-lang/registry/internal/client"
	"github.com/dryad-lang/registry/internal/config"
)

const tokenUsage = "token create --name N [--scopes publish,yank,owners] [--packages P,...] [--expires-in-days D] | token list | token revoke ID  [--registry URL|NAME] [--username U] [--json]"

// runToken manages the account's API tokens. The registry lets only a
// password login do that, so each subcommand asks for the password (or
// takes a login token with --token).
func runToken(ctx context.Context, env *environment, args []string) error {
	return runSubcommand(ctx, env, args, subcommand{
		usage: "Usage: dryad-registry " + tokenUsage + "\n\n" +
			"  create   create an API token and print it (shown once)\n" +
			"  list     list your live API tokens\n" +
			"  revoke   revoke an API token at once\n\n" +
			"Each asks for your password (or reads it from standard input): API tokens cannot manage tokens.\n",
		name: "token", want: "token create, token list, token revoke",
		run: map[string]func(context.Context, *environment, []string) error{"create": runTokenCreate, "list": runTokenList, "revoke": runTokenRevoke},
	})
}

// tokenCommand is the setup the token subcommands share.
type tokenCommand struct {
	remoteOptions
	username string
}

func (t *tokenCommand) flags(env *environment, cmd, usage string) *flag.FlagSet {
	fs := newFlagSet(env, cmd, usage)
	t.addRegistryFlags(fs)
	t.addTokenFlags(fs, "a login token (from POST /api/auth/login) instead of the password")
	fs.StringVar(&t.username, "username", "", "the account to log in as (default: the one `dryad-registry login` stored, else asked)")
	return fs
}

// session logs in: with the login token given, or with the password.
func (t *tokenCommand) session(ctx context.Context, env *environment, cmd string) (*remote, *client.API, error) {
	given, err := t.tokenFlagsGiven(cmd)
	if err != nil {
		return nil, nil, err
	}
	r, err := newRemote(env, cmd, t.registry)
	if err != nil {
		return nil, nil, err
	}
	if given {
		tok, err := r.token(&t.remoteOptions)
		if err != nil {
			return nil, nil, err
		}
		return r, r.api(tok), nil
	}
	user := t.username
	if user == "" {
		if c, err := r.credentials(); err == nil {
			if cred := c.For(r.reg.BaseURL); cred != nil {
				user = cred.Username
			}
		}
	}
	jwt, _, err := r.passwordLogin(ctx, user)
	if err != nil {
		return nil, nil, err
	}
	return r, r.api(jwt), nil
}

// storedID is the id of the token login stored for r's registry, or 0.
func (r *remote) storedID() int64 {
	if c, err := r.credentials(); err == nil {
		if cred := c.For(r.reg.BaseURL); cred != nil {
			return cred.TokenID
		}
	}
	return 0
}

func runTokenCreate(ctx context.Context, env *environment, args []string) error {
	var t tokenCommand
	fs := t.flags(env, "token create", tokenUsage)
	name := fs.String("name", "", "the token's name, e.g. ci (required)")
	scopes := fs.String("scopes", "publish", "comma-separated scopes: publish, yank, owners")
	packages := fs.String("packages", "", "comma-separated package names or prefix patterns (mylib-*) the token is limited to (default: all)")
	days := fs.Int("expires-in-days", 0, "days until the token expires (0: it does not expire)")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return &exitError{code: 2, msg: "token create: give the token a name with --name, e.g. --name ci"}
	}
	r, api, err := t.session(ctx, env, "token create")
	if err != nil {
		return err
	}
	tok, err := api.CreateToken(ctx, client.TokenRequest{Name: *name, Scopes: config.SplitList(*scopes), Packages: config.SplitList(*packages), ExpiresInDays: *days})
	if err != nil {
		return r.fail(err)
	}
	if t.json {
		return printJSON(env, tok)
	}
	fmt.Fprintf(env.stderr, "created token %q (id %d, scopes %s, %s); it is shown once, here:\n", tok.Name, tok.ID, strings.Join(tok.Scopes, ", "), expiry(tok.ExpiresAt))
	fmt.Fprintln(env.stdout, tok.Secret)
	return nil
}

func runTokenList(ctx context.Context, env *environment, args []string) error {
	var t tokenCommand
	fs := t.flags(env, "token list", tokenUsage)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	r, api, err := t.session(ctx, env, "token list")
	if err != nil {
		return err
	}
	toks, err := api.Tokens(ctx)
	if err != nil {
		return r.fail(err)
	}
	if t.json {
		if toks == nil {
			toks = []client.Token{}
		}
		return printJSON(env, map[string]any{"tokens": toks})
	}
	if len(toks) == 0 {
		fmt.Fprintln(env.stderr, "no live API tokens")
		return nil
	}
	stored := r.storedID()
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tPACKAGES\tCREATED\tLAST USED\tEXPIRES")
	for _, tok := range toks {
		pkgs, used, exp := "all", "never", "never"
		if len(tok.Packages) > 0 {
			pkgs = strings.Join(tok.Packages, ",")
		}
		if tok.LastUsedAt != nil {
			used = tok.LastUsedAt.UTC().Format(time.DateOnly)
		}
		if tok.ExpiresAt != nil {
			exp = tok.ExpiresAt.UTC().Format(time.DateOnly)
		}
		name := tok.Name
		if tok.ID == stored {
			name += " (stored by login)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", tok.ID, name, strings.Join(tok.Scopes, ","), pkgs, tok.CreatedAt.UTC().Format(time.DateOnly), used, exp)
	}
	return tw.Flush()
}

func runTokenRevoke(ctx context.Context, env *environment, args []string) error {
	var t tokenCommand
	fs := t.flags(env, "token revoke", tokenUsage)
	positional, err := parseWithArgs(fs, env, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return &exitError{code: 2, msg: "token revoke: give one token ID (see `dryad-registry token list`)"}
	}
	id, err := strconv.ParseInt(positional[0], 10, 64)
	if err != nil || id <= 0 {
		return &exitError{code: 2, msg: fmt.Sprintf("token revoke: %q is not a token ID; see `dryad-registry token list`", positional[0])}
	}
	r, api, err := t.session(ctx, env, "token revoke")
	if err != nil {
		return err
	}
	if err := api.RevokeToken(ctx, id); err != nil {
		return r.fail(err)
	}
	// The stored token, once revoked, is of no use: forget it.
	forgotten := false
	if id == r.storedID() {
		delete(r.creds.Registries, r.reg.BaseURL)
		if err := r.creds.Save(); err != nil {
			return r.fail(err)
		}
		forgotten = true
	}
	if t.json {
		return printJSON(env, map[string]any{"revoked": id, "removed_from_credentials": forgotten})
	}
	fmt.Fprintf(env.stdout, "revoked token %d\n", id)
	if forgotten {
		fmt.Fprintf(env.stdout, "  it was the token login stored; removed from %s\n", r.creds.Path)
	}
	return nil
}
