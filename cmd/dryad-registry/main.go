// Command dryad-registry is the Dryad package registry: JSON API, web
// interface, git server and metrics in one binary, plus the commands that
// operate it. With no configuration it runs on embedded defaults (SQLite and
// files under ./data, in-process cache) on http://127.0.0.1:4000.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/dryad-lang/registry/internal/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// command is one subcommand.
type command struct {
	name    string
	summary string
	usage   string
	// run gets the arguments after the command name.
	run func(ctx context.Context, env *environment, args []string) error
}

// environment is what commands read from and write to, so tests can run
// them in-process.
type environment struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string
	workDir        string
}

var commands []*command

func init() {
	commands = []*command{
		{name: "serve", summary: "run the registry server (the default command)", usage: "serve [flags]", run: runServe},
		{name: "config", summary: "print the effective configuration, secrets masked", usage: "config [flags]", run: runConfig},
		{name: "create-admin", summary: "create an admin account or promote an existing user", usage: "create-admin --username U --email E [--password-stdin] [flags]", run: runCreateAdmin},
		{name: "publish", summary: "pack a folder (or take a .tar.gz) and publish it to a registry", usage: publishUsage, run: runPublish},
		{name: "login", summary: "log in to a registry and store an API token for the other commands", usage: "login [--registry URL] [--username NAME]", run: runLogin},
		{name: "logout", summary: "revoke the stored token on the registry and remove it here", usage: "logout [--registry URL] [--revoke]", run: runLogout},
		{name: "yank", summary: "yank a version (--undo unyanks it): yank NAME@VERSION", usage: "yank NAME@VERSION [--undo]", run: runYank},
		{name: "owner", summary: "a package's owners: owner list NAME, owner add|remove NAME USER...", usage: ownerUsage, run: runOwner},
		{name: "token", summary: "your API tokens: token create --name N, token list, token revoke ID", usage: tokenUsage, run: runToken},
		{name: "search", summary: "search a registry's packages: search QUERY [--keyword K] [--owner USER] [--updated week|month|year]", usage: "search [QUERY] [--keyword K] [--owner USER] [--updated week|month|year] [--limit N]", run: runSearch},
		{name: "backup", summary: "write a consistent backup of the whole registry into a folder", usage: "backup --out DIR [--keep N] [--with-git] [flags]", run: runBackup},
		{name: "restore", summary: "load a backup into an empty registry (SQLite or PostgreSQL)", usage: "restore --in FILE [--force] [flags]", run: runRestore},
		{name: "verify", summary: "check every stored archive against its version, and the reverse", usage: "verify [flags]", run: runVerify},
		{name: "log", summary: "audit a registry's transparency log: log verify --registry URL [--key K]", usage: "log verify --registry URL [--key KEY] [--state FILE]", run: runLog},
		{name: "sweep", summary: "list archives no version refers to; --remove quarantines them, --restore brings the quarantine back", usage: "sweep [--remove | --restore] [flags]", run: runSweep},
		{name: "git", summary: "git repositories: rebuild [NAME...] recreates them from the stored archives", usage: "git rebuild [flags] [NAME...]", run: runGit},
		{name: "version", summary: "print the version", usage: "version", run: func(_ context.Context, env *environment, _ []string) error {
			fmt.Fprintln(env.stdout, "dryad-registry", version)
			return nil
		}},
	}
}

// exitError carries a process exit status.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	wd, _ := os.Getwd()
	env := &environment{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ(), workDir: wd}
	os.Exit(run(ctx, env, os.Args[1:]))
}

// run runs the command line and returns the exit status.
func run(ctx context.Context, env *environment, args []string) int {
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		printUsage(env.stdout)
		return 0
	}
	if name == "help" {
		printUsage(env.stdout)
		return 0
	}
	var cmd *command
	for _, c := range commands {
		if c.name == name {
			cmd = c
		}
	}
	if cmd == nil {
		fmt.Fprintf(env.stderr, "dryad-registry: unknown command %q\n\n", name)
		printUsage(env.stderr)
		return 2
	}
	err := cmd.run(ctx, env, args)
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(env.stderr, "dryad-registry:", ee.msg)
		}
		return ee.code
	}
	var ce *config.Error
	if errors.As(err, &ce) {
		fmt.Fprintln(env.stderr, "dryad-registry:", ce.Error())
		return 2
	}
	fmt.Fprintln(env.stderr, "dryad-registry:", err)
	return 1
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "dryad-registry %s: the Dryad package registry\n\nUsage:\n  dryad-registry [command] [flags]\n\nCommands:\n", version)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'dryad-registry COMMAND --help' for a command's flags.")
	fmt.Fprintln(w, "Configuration is read from defaults, ./.env (or --env-file), the environment and flags, later wins.")
}

// configFlags adds --env-file and one flag per configuration variable
// (PORT is --port) to fs, and returns a function that loads the config.
func configFlags(fs *flag.FlagSet, env *environment) func() (*config.Config, error) {
	envFile := fs.String("env-file", "", "read configuration from this .env file instead of ./.env")
	set := map[string]string{}
	for _, v := range config.Vars() {
		name := v.Name
		usage := v.Doc
		if v.Default != "" {
			usage += " (default " + v.Default + ")"
		}
		fs.Func(config.FlagName(name), usage+" ["+name+"]", func(s string) error {
			set[name] = s
			return nil
		})
	}
	return func() (*config.Config, error) {
		return config.Load(config.Options{EnvFile: *envFile, WorkDir: env.workDir, Environ: env.environ, Flags: set})
	}
}

// newFlagSet returns a flag set for a command whose errors are returned,
// not printed as a usage dump and exit.
func newFlagSet(env *environment, cmd, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: dryad-registry %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; --help prints to stdout and ends with flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, env *environment, args []string) error {
	for _, a := range args {
		if a == "--help" || a == "-help" || a == "-h" {
			fs.SetOutput(env.stdout)
			fs.Usage = func() {
				fmt.Fprintf(env.stdout, "Usage: dryad-registry %s\n\nFlags:\n", fs.Name())
				fs.PrintDefaults()
			}
			fs.Usage()
			return flag.ErrHelp
		}
	}
	if err := fs.Parse(args); err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	return nil
}

// subcommand describes the subcommands of a command such as `git rebuild`.
type subcommand struct {
	usage string
	// name is the command's; want lists its subcommands for an error.
	name, want string
	run        map[string]func(ctx context.Context, env *environment, args []string) error
}

// runSubcommand runs the subcommand args[0], or prints the usage: on
// standard output when asked for, on standard error (status 2) when no
// subcommand was given.
func runSubcommand(ctx context.Context, env *environment, args []string, c subcommand) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) == 0 {
			fmt.Fprint(env.stderr, c.usage)
			return &exitError{code: 2}
		}
		fmt.Fprint(env.stdout, c.usage)
		return nil
	}
	run, ok := c.run[args[0]]
	if !ok {
		return &exitError{code: 2, msg: fmt.Sprintf("unknown %s command %q; want: %s", c.name, args[0], c.want)}
	}
	return run(ctx, env, args[1:])
}
