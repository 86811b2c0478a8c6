package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/client"
	"github.com/dryad-lang/registry/internal/errs"
)

// cliScopes are the scopes of the token login creates: everything the
// command line does with a stored token.
var cliScopes = []string{"publish", "yank", "owners"}

// loginAnswer is the --json output of login.
type loginAnswer struct {
	Registry        string     `json:"registry"`
	Username        string     `json:"username"`
	TokenID         int64      `json:"token_id"`
	TokenName       string     `json:"token_name"`
	Scopes          []string   `json:"scopes"`
	ExpiresAt       *time.Time `json:"expires_at"`
	CredentialsFile string     `json:"credentials_file"`
	// RevokedTokenID is the token of an earlier login, revoked.
	RevokedTokenID int64 `json:"revoked_token_id,omitempty"`
}

// runLogin logs in with a password, creates an API token for this
// machine and stores it in the credentials file, so that the other
// commands need no --token.
func runLogin(ctx context.Context, env *environment, args []string) error {
	var o remoteOptions
	fs := newFlagSet(env, "login", "login [--registry URL|NAME] [--username NAME] [--expires-in-days N] [--json]")
	o.addRegistryFlags(fs)
	username := fs.String("username", "", "the account's username or e-mail (default: asked on the terminal)")
	days := fs.Int("expires-in-days", 0, "days until the stored token expires (0: it does not expire; logout revokes it)")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &exitError{code: 2, msg: "login: unexpected argument " + fs.Arg(0) + "; give the registry with --registry URL"}
	}
	r, err := newRemote(env, "login", o.registry)
	if err != nil {
		return err
	}
	creds, err := r.credentials()
	if err != nil {
		return r.fail(err)
	}
	jwt, user, err := r.passwordLogin(ctx, *username)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	name := "cli on " + host
	if host == "" {
		name = "cli"
	}
	if len(name) > 64 {
		name = name[:64]
	}
	api := r.api(jwt)
	tok, err := api.CreateToken(ctx, client.TokenRequest{Name: name, Scopes: cliScopes, ExpiresInDays: *days})
	if err != nil {
		return r.fail(err)
	}
	ans := loginAnswer{Registry: r.reg.BaseURL, Username: user, TokenID: tok.ID, TokenName: tok.Name, Scopes: tok.Scopes,
		ExpiresAt: tok.ExpiresAt, CredentialsFile: creds.Path}
	// The token of an earlier login on this machine is replaced: revoke
	// it rather than leave it working unseen.
	if old := creds.For(r.reg.BaseURL); old != nil && old.TokenID != 0 {
		if err := api.RevokeToken(ctx, old.TokenID); err == nil {
			ans.RevokedTokenID = old.TokenID
		} else if !errors.Is(err, errs.NotFound) {
			fmt.Fprintf(env.stderr, "login: could not revoke the token of the earlier login (id %d): %s\n", old.TokenID, errs.Message(err))
		}
	}
	creds.Registries[r.reg.BaseURL] = &client.Credential{Username: user, Token: tok.Secret, TokenID: tok.ID, TokenName: tok.Name,
		CreatedAt: tok.CreatedAt, ExpiresAt: tok.ExpiresAt}
	if err := creds.Save(); err != nil {
		// Nobody can use a token that was not stored.
		_ = api.RevokeToken(ctx, tok.ID)
		return r.fail(err)
	}
	if o.json {
		return printJSON(env, ans)
	}
	fmt.Fprintf(env.stdout, "logged in to %s as %s\n", ans.Registry, user)
	fmt.Fprintf(env.stdout, "  token     %q, id %d, scopes %s, %s\n", tok.Name, tok.ID, strings.Join(tok.Scopes, ", "), expiry(tok.ExpiresAt))
	fmt.Fprintf(env.stdout, "  stored in %s (mode 0600)\n", creds.Path)
	if ans.RevokedTokenID != 0 {
		fmt.Fprintf(env.stdout, "  the token of the earlier login (id %d) is revoked\n", ans.RevokedTokenID)
	}
	return nil
}

// passwordLogin asks for the password (and the username, unless given)
// and logs in; it returns a login token, which alone may manage API
// tokens, and the username.
func (r *remote) passwordLogin(ctx context.Context, username string) (string, string, error) {
	user, password, err := client.ReadLogin(r.env.stdin, r.env.stderr, username)
	if err != nil {
		return "", "", r.fail(err)
	}
	res, err := r.api("").Login(ctx, user, password)
	if err != nil {
		if errs.KindOf(err) == errs.Unauthenticated {
			return "", "", &exitError{code: 1, msg: r.cmd + ": " + errs.Message(err) + "; check the username and password (the password is read from the terminal, or the first line of standard input)"}
		}
		return "", "", r.fail(err)
	}
	if res.User.Username != "" {
		user = res.User.Username
	}
	return res.Token, user, nil
}

// expiry describes a token's expiry.
func expiry(t *time.Time) string {
	if t == nil {
		return "no expiry"
	}
	return "expires " + t.UTC().Format(time.DateOnly)
}

// logoutAnswer is the --json output of logout.
type logoutAnswer struct {
	Registry string `json:"registry"`
	Removed  bool   `json:"removed"`
	TokenID  int64  `json:"token_id,omitempty"`
	Revoked  bool   `json:"revoked"`
	// Revocation says what the registry answered: "revoked", "already
	// invalid" (the token was revoked or had expired), "unreachable" or
	// "failed"; RevokeError is the registry's message when it did not
	// revoke.
	Revocation      string `json:"revocation,omitempty"`
	RevokeError     string `json:"revoke_error,omitempty"`
	CredentialsFile string `json:"credentials_file"`
}

// runLogout revokes the stored token on the registry (the token revokes
// itself, so no password is needed) and removes it from the credentials
// file. The local copy is removed whatever the registry answered: a
// registry that cannot be reached must not keep a user logged in here.
// --revoke asks for the password instead, for a registry too old to let
// a token revoke itself.
func runLogout(ctx context.Context, env *environment, args []string) error {
	var o remoteOptions
	fs := newFlagSet(env, "logout", "logout [--registry URL|NAME] [--revoke [--username NAME]] [--json]")
	o.addRegistryFlags(fs)
	revoke := fs.Bool("revoke", false, "revoke the token with your password (asked, or read from standard input), for a registry where a token cannot revoke itself")
	username := fs.String("username", "", "with --revoke: the account to log in as (default: the one that logged in)")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	// A file others may read is removed all the same: that is the fix.
	r, err := (&remote{cmd: "logout", env: env, anyMode: true}).find(o.registry)
	if err != nil {
		return err
	}
	creds, err := r.credentials()
	if err != nil {
		return r.fail(err)
	}
	ans := logoutAnswer{Registry: r.reg.BaseURL, CredentialsFile: creds.Path}
	cred := creds.For(r.reg.BaseURL)
	if cred == nil {
		if o.json {
			return printJSON(env, ans)
		}
		fmt.Fprintf(env.stdout, "not logged in to %s; nothing to remove\n", r.reg.BaseURL)
		return nil
	}
	ans.TokenID = cred.TokenID
	var revokeErr error
	if *revoke {
		user := *username
		if user == "" {
			user = cred.Username
		}
		jwt, _, err := r.passwordLogin(ctx, user)
		if err != nil {
			return err
		}
		revokeErr = r.api(jwt).RevokeToken(ctx, cred.TokenID)
		if errors.Is(revokeErr, errs.NotFound) {
			// Revoked already, or expired: it no longer works either way.
			revokeErr = errs.New(errs.Unauthenticated, "the token was already revoked or expired")
		}
	} else {
		revokeErr = r.api(cred.Token).RevokeCurrentToken(ctx)
	}
	switch {
	case revokeErr == nil:
		ans.Revoked, ans.Revocation = true, "revoked"
	case errors.Is(revokeErr, errs.Unauthenticated):
		ans.Revocation = "already invalid"
	case errors.Is(revokeErr, errs.Unavailable):
		ans.Revocation = "unreachable"
	default:
		ans.Revocation = "failed"
	}
	if revokeErr != nil {
		ans.RevokeError = errs.Message(revokeErr)
	}
	delete(creds.Registries, r.reg.BaseURL)
	if err := creds.Save(); err != nil {
		return r.fail(err)
	}
	ans.Removed = true
	if o.json {
		return printJSON(env, ans)
	}
	fmt.Fprintf(env.stdout, "logged out of %s: token id %d removed from %s\n", r.reg.BaseURL, cred.TokenID, creds.Path)
	still := fmt.Sprintf("it may still work until revoked: `dryad-registry token revoke %d --registry %s`", cred.TokenID, r.reg.BaseURL)
	switch ans.Revocation {
	case "revoked":
		fmt.Fprintln(env.stdout, "  and revoked on the registry")
	case "already invalid":
		fmt.Fprintln(env.stdout, "  the registry no longer accepted it (revoked or expired before): nothing left to revoke")
	case "unreachable":
		fmt.Fprintf(env.stdout, "  NOT revoked on the registry, which could not be reached (%s);\n  %s\n", ans.RevokeError, still)
	default:
		fmt.Fprintf(env.stdout, "  NOT revoked on the registry: %s\n  %s (or logout --revoke next time, with your password)\n", ans.RevokeError, still)
	}
	return nil
}
