package gitrepo

import (
	"regexp"
	"strings"
)

// varRE matches ${VAR} in a mirror URL template.
var varRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// MirrorURL expands a mirror URL template (GIT_MIRROR_URL) for a package:
// {name} becomes the package name and ${VAR} the value env gives for VAR
// (nil env expands to ""), inserted as is. Secrets such as a token can stay
// out of the template itself, e.g.
// https://oauth2:${GITEA_TOKEN}@git.example.org/dryad/{name}.git.
func MirrorURL(template, pkg string, env func(string) string) string {
	s := varRE.ReplaceAllStringFunc(template, func(m string) string {
		if env == nil {
			return ""
		}
		return env(m[2 : len(m)-1])
	})
	return strings.ReplaceAll(s, "{name}", pkg)
}

// userinfoRE finds the credentials of a URL: scheme://userinfo@host. The
// last "@" before the path ends them, since a password may hold an "@".
var userinfoRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)@`)

// Redact hides the credentials of a URL for logs, health output and error
// messages: the password becomes ***, and so does a user name given alone
// (Gitea accepts a bare token there). URLs without credentials (local paths,
// scp-like ssh addresses) are returned unchanged.
func Redact(url string) string {
	m := userinfoRE.FindStringSubmatch(url)
	if m == nil {
		return url
	}
	redacted := "***"
	if user, _, ok := strings.Cut(m[2], ":"); ok {
		redacted = user + ":***"
	}
	return m[1] + redacted + "@" + url[len(m[0]):]
}
