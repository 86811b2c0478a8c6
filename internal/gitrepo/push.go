package gitrepo

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"

	"github.com/dryad-lang/registry/internal/errs"
)

// Push makes the remote repository at remoteURL a copy of the package's
// published history: branch main and every tag, both forced, since the
// registry's history is the truth: main moves backwards when the latest
// version is yanked, and deleting a version rewrites the history after it
// (new ids for the later versions' commits and tags). Tags deleted here are
// deleted there; other refs of the remote are left alone. A package without
// a repository is NotFound (see Withdraw).
//
// Credentials in an http(s) URL are sent as an Authorization header given to
// git through its environment, so they appear neither on git's command line
// (visible to every local user) nor in its messages.
func (r *Repos) Push(ctx context.Context, pkg, remoteURL string) (err error) {
	defer wrapf(&err, "pushing %s to %s", pkg, Redact(remoteURL))
	if _, err := r.readRefs(ctx, pkg); err != nil {
		return err
	}
	return r.pushRefs(ctx, r.dir(pkg), remoteURL)
}

// pushRefs force-pushes main (when the repository has it) and every tag of
// the repository dir to remoteURL, deleting the remote's other tags.
func (r *Repos) pushRefs(ctx context.Context, dir, remoteURL string) error {
	refs, err := r.refs(ctx, dir)
	if err != nil {
		return err
	}
	target, header, secrets := splitCredentials(remoteURL)
	var config [][2]string
	if header != "" {
		config = append(config, [2]string{"http.extraHeader", header})
	}
	env := append(baseEnv(r.git, config), r.pushEnv...)

	args := []string{"push", "--quiet", "--prune", "--", target}
	if _, ok := refs[mainRef]; ok {
		args = append(args, "+"+mainRef+":"+mainRef)
	}
	args = append(args, "+"+tagsPrefix+"*:"+tagsPrefix+"*")
	if _, err := r.run(ctx, command{gitDir: dir, args: args, env: env}); err != nil {
		return errs.Wrap(errs.Unavailable, scrub(err, secrets), "the git mirror refused the push or cannot be reached")
	}
	return nil
}

// splitCredentials takes the user and password out of an http(s) URL and
// returns the URL without them, the equivalent Basic Authorization header,
// and the secret strings to scrub from messages.
func splitCredentials(raw string) (target, header string, secrets []string) {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil || (u.Scheme != "http" && u.Scheme != "https") {
		return raw, "", nil
	}
	user := u.User.Username()
	pass, _ := u.User.Password()
	u.User = nil
	for _, s := range []string{user, pass} {
		if len(s) >= 4 {
			secrets = append(secrets, s)
		}
	}
	return u.String(), "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)), secrets
}

// scrub removes secrets from an error's text, in case a remote echoes them.
func scrub(err error, secrets []string) error {
	msg := err.Error()
	clean := msg
	for _, s := range secrets {
		clean = strings.ReplaceAll(clean, s, "***")
	}
	if clean == msg {
		return err
	}
	return errs.New(errs.Internal, clean)
}
