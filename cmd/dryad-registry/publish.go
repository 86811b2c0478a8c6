package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dryad-lang/registry/internal/client"
	"github.com/dryad-lang/registry/internal/errs"
)

const publishUsage = "publish [DIR|FILE] [--registry URL|NAME] [--token T | --token-file F | --token-stdin] [--dry-run] [--json]"

// publishOptions are the parsed flags of the publish command.
type publishOptions struct {
	remoteOptions
	path          string
	dryRun, quiet bool
}

// runPublish packs a package folder canonically (or takes a .tar.gz as it
// is) and uploads it to a registry's POST /api/upload.
func runPublish(ctx context.Context, env *environment, args []string) error {
	o, err := parsePublishFlags(env, args)
	if err != nil {
		return err
	}
	src := o.path
	if !filepath.IsAbs(src) {
		src = filepath.Join(env.workDir, src)
	}
	info, err := os.Stat(src)
	if err != nil {
		return &exitError{code: 1, msg: fmt.Sprintf("publish: %s: no such folder or file", o.path)}
	}

	// Credentials and the registry are settled before any packing, so that
	// a mistake there is reported at once.
	var reg *client.Registry
	var rem *remote
	var token string
	if !o.dryRun {
		if rem, err = newRemote(env, "publish", o.registry); err != nil {
			return err
		}
		if token, err = rem.token(&o.remoteOptions); err != nil {
			return err
		}
		reg = rem.reg
	}

	var up *client.Upload
	if info.IsDir() {
		up, err = client.PackFolder(ctx, src)
	} else {
		up, err = client.TakeArchive(ctx, src, o.dryRun)
	}
	if err != nil {
		return publishError(err)
	}
	defer up.Close()

	if o.dryRun {
		up.PrintDryRun(env.stdout, o.path)
		return nil
	}
	what := up.Label
	if what == "" {
		what = filepath.Base(src)
	}
	via := ""
	if reg.OakName != "" {
		via = " (registry " + reg.OakName + " of " + client.OakRegistryFile + ")"
	}
	fmt.Fprintf(env.stderr, "publishing %s (%s) to %s%s\n", what, client.HumanSize(up.Size), reg.BaseURL, via)
	pub := &client.Publisher{Registry: reg, Token: token, UserAgent: "dryad-registry-publish/" + version, Progress: env.stderr, Quiet: o.quiet}
	res, err := pub.Publish(ctx, up)
	if err != nil {
		if rem.stored && errs.KindOf(err) == errs.Unauthenticated {
			return &exitError{code: 1, msg: "publish: " + errs.Message(err) + "; it was the token stored by login: run `dryad-registry login --registry " + reg.BaseURL + "` again"}
		}
		return publishError(err)
	}
	if o.json {
		return printJSON(env, res)
	}
	fmt.Fprintf(env.stdout, "published %s@%s\n", res.Name, res.Version)
	fmt.Fprintf(env.stdout, "  checksum  %s\n", res.Checksum)
	fmt.Fprintf(env.stdout, "  size      %s\n", client.HumanSize(res.FileSize))
	fmt.Fprintf(env.stdout, "  download  %s\n", res.DownloadURL)
	if res.URL != "" {
		fmt.Fprintf(env.stdout, "  page      %s\n", res.URL)
	}
	return nil
}

// publishError is the exit of a publish that failed on the package or on
// the way to the registry: status 1, even for a package the rules refuse,
// since the command line itself was right.
func publishError(err error) error {
	return &exitError{code: 1, msg: "publish: " + errs.Message(err)}
}

// parsePublishFlags reads the flags, which may come before or after the
// folder or file.
func parsePublishFlags(env *environment, args []string) (*publishOptions, error) {
	o := &publishOptions{}
	fs := newFlagSet(env, "publish", publishUsage)
	o.addRegistryFlags(fs)
	o.addTokenFlags(fs, "API token or login token to publish with")
	fs.BoolVar(&o.dryRun, "dry-run", false, "pack and list what would be published, without uploading")
	fs.BoolVar(&o.quiet, "quiet", false, "do not report upload progress")
	positional, err := parseWithArgs(fs, env, args)
	if err != nil {
		return nil, err
	}
	switch len(positional) {
	case 0:
		o.path = "."
	case 1:
		o.path = positional[0]
	default:
		return nil, &exitError{code: 2, msg: fmt.Sprintf("publish: give one folder or .tar.gz file, not %d (%s)", len(positional), strings.Join(positional, " "))}
	}
	if _, err := o.tokenFlagsGiven("publish"); err != nil {
		return nil, err
	}
	return o, nil
}
