package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dryad-lang/registry/internal/client"
	"github.com/dryad-lang/registry/internal/errs"
)

// tokenEnv names the variable a token is taken from when no token flag
// is given.
const tokenEnv = "DRYAD_TOKEN"

// remoteOptions are the flags of the commands that talk to a registry
// (publish, login, logout, yank, owner, token, search).
type remoteOptions struct {
	registry         string
	token, tokenFile string
	tokenStdin       bool
	json             bool
}

// addRegistryFlags adds --registry and --json to fs.
func (o *remoteOptions) addRegistryFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.registry, "registry", "", "registry URL, or the NAME of a registry in ./"+client.OakRegistryFile+" (default: its default_registry, else the one registry you are logged in to)")
	fs.BoolVar(&o.json, "json", false, "print the result as JSON")
}

// addTokenFlags adds the flags that give a token on the command line.
func (o *remoteOptions) addTokenFlags(fs *flag.FlagSet, what string) {
	fs.StringVar(&o.token, "token", "", what+" (other local users can see it in the process list: prefer --token-file, --token-stdin, "+tokenEnv+" or `dryad-registry login`)")
	fs.StringVar(&o.tokenFile, "token-file", "", "read the token from this file")
	fs.BoolVar(&o.tokenStdin, "token-stdin", false, "read the token from standard input (prompted without echo on a terminal)")
}

// tokenFlagsGiven counts the token flags set; more than one is a mistake.
func (o *remoteOptions) tokenFlagsGiven(cmd string) (bool, error) {
	n := 0
	for _, set := range []bool{o.token != "", o.tokenFile != "", o.tokenStdin} {
		if set {
			n++
		}
	}
	if n > 1 {
		return false, &exitError{code: 2, msg: cmd + ": use only one of --token, --token-file and --token-stdin"}
	}
	return n == 1, nil
}

// remote is a command talking to one registry.
type remote struct {
	cmd string
	env *environment
	reg *client.Registry
	// credsPath is the credentials file; creds is read lazily.
	credsPath string
	creds     *client.Credentials
	// anyMode reads a credentials file others may read (to remove it).
	anyMode bool
	// stored is set when the token is the one `login` stored.
	stored bool
}

// newRemote settles the registry of a command: --registry, else the
// default of ./oak-registry.json, else the only registry in the
// credentials file.
func newRemote(env *environment, cmd, registryFlag string) (*remote, error) {
	return (&remote{cmd: cmd, env: env}).find(registryFlag)
}

// find settles r's registry, as newRemote says.
func (r *remote) find(registryFlag string) (*remote, error) {
	env := r.env
	if p, err := client.DefaultCredentialsPath(); err == nil {
		r.credsPath = p
	}
	var loggedIn []string
	if registryFlag == "" && r.credsPath != "" {
		if _, err := os.Stat(filepath.Join(env.workDir, client.OakRegistryFile)); errors.Is(err, fs.ErrNotExist) {
			c, err := r.credentials()
			if err != nil {
				return nil, r.fail(err)
			}
			if u, ok := c.Only(); ok {
				r.reg = &client.Registry{BaseURL: u}
				return r, nil
			}
			loggedIn = c.URLs()
		}
	}
	reg, err := client.FindRegistry(env.workDir, registryFlag)
	if err != nil {
		if len(loggedIn) > 0 {
			err = errs.Errorf(errs.Invalid, "which registry? you are logged in to %s: pass --registry URL", strings.Join(loggedIn, " and "))
		}
		return nil, r.fail(err)
	}
	r.reg = reg
	return r, nil
}

// credentials reads the credentials file once.
func (r *remote) credentials() (*client.Credentials, error) {
	if r.creds != nil {
		return r.creds, nil
	}
	if r.credsPath == "" {
		return nil, errs.New(errs.Invalid, "no config folder to keep credentials in (set HOME or XDG_CONFIG_HOME)")
	}
	c, err := client.LoadCredentials(r.credsPath, r.anyMode)
	if err != nil {
		return nil, err
	}
	r.creds = c
	return c, nil
}

// token returns the token to act with, first found of: a token flag,
// $DRYAD_TOKEN, the token `login` stored for the registry.
func (r *remote) token(o *remoteOptions) (string, error) {
	given, err := o.tokenFlagsGiven(r.cmd)
	if err != nil {
		return "", err
	}
	if given {
		tok, err := client.ReadToken(client.TokenSource{Value: o.token, File: o.tokenFile, Dir: r.env.workDir, Stdin: r.env.stdin, Prompt: r.env.stderr})
		if err != nil {
			return "", r.fail(err)
		}
		return tok, nil
	}
	if tok := strings.TrimSpace(lookupEnv(r.env, tokenEnv)); tok != "" {
		return tok, nil
	}
	c, err := r.credentials()
	if err != nil {
		return "", r.fail(err)
	}
	if cred := c.For(r.reg.BaseURL); cred != nil {
		r.stored = true
		return cred.Token, nil
	}
	return "", &exitError{code: 2, msg: fmt.Sprintf("%s: a token is needed: run `dryad-registry login --registry %s`, or pass --token T, --token-file FILE or --token-stdin, or set %s", r.cmd, r.reg.BaseURL, tokenEnv)}
}

// api returns the API client of the registry, acting with token.
func (r *remote) api(token string) *client.API {
	return &client.API{Registry: r.reg, Token: token, UserAgent: "dryad-registry-" + r.cmd + "/" + version}
}

// fail is the exit of a command that failed: status 2 for a mistake on
// the command line, 1 for anything else; the message ends with the fix
// when the kind of failure tells it.
func (r *remote) fail(err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	code := 1
	if errs.KindOf(err) == errs.Invalid {
		code = 2
	}
	msg := errs.Message(err)
	login := "`dryad-registry login`"
	if r.reg != nil {
		login = "`dryad-registry login --registry " + r.reg.BaseURL + "`"
	}
	switch errs.KindOf(err) {
	case errs.Unauthenticated:
		if r.stored {
			msg += "; the token stored by login was refused (expired or revoked?): run " + login + " again"
		} else {
			msg += "; check the token (mistyped, expired or revoked?) or run " + login
		}
	case errs.NotFound:
		switch {
		case strings.HasPrefix(r.cmd, "token"):
			msg += "; `dryad-registry token list` shows your tokens' IDs"
		case r.cmd == "yank" || strings.HasPrefix(r.cmd, "owner"):
			msg += "; check the spelling (`dryad-registry search NAME` finds packages)"
		}
	case errs.Forbidden:
		if r.stored {
			msg += " (acting with the token stored by login in " + r.credsPath + ")"
		}
	}
	return &exitError{code: code, msg: r.cmd + ": " + msg}
}

// printJSON writes v as indented JSON.
func printJSON(env *environment, v any) error {
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// lookupEnv returns a variable of the command's environment.
func lookupEnv(env *environment, name string) string {
	for _, kv := range env.environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// parseWithArgs parses flags that may come before, between or after the
// positional arguments, and returns those.
func parseWithArgs(fs *flag.FlagSet, env *environment, args []string) ([]string, error) {
	var positional []string
	for {
		if err := parseFlags(fs, env, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
