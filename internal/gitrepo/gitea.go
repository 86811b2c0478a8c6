package gitrepo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dryad-lang/registry/internal/errs"
)

// Gitea creates mirror repositories through the API of a Gitea or Forgejo
// server (GITEA_URL, GITEA_TOKEN, GITEA_ORG).
type Gitea struct {
	// BaseURL is the server's address, e.g. https://git.example.org.
	BaseURL string
	// Token is an access token allowed to create repositories in Org.
	Token string
	// Org owns the mirrors; default "dryad".
	Org string
	// Client sends the requests; default: a client with a 30 s timeout.
	Client *http.Client
}

// giteaCreateRepo is the body of POST /api/v1/orgs/{org}/repos
// (Gitea's CreateRepoOption).
type giteaCreateRepo struct {
	Name          string `json:"name"`
	Description   string `json:"description"`
	Private       bool   `json:"private"`
	AutoInit      bool   `json:"auto_init"`
	DefaultBranch string `json:"default_branch"`
}

// giteaMaxDescription is Gitea's limit on a repository description.
const giteaMaxDescription = 2048

// EnsureRepo makes sure the organisation has a public repository for the
// package: it asks for it (GET /api/v1/repos/{org}/{name}) and creates it,
// empty with default branch main, when it is missing
// (POST /api/v1/orgs/{org}/repos). A repository created meanwhile by
// someone else (409) is fine. Errors are Unavailable, with a message that
// says what to fix (token, organisation).
func (g *Gitea) EnsureRepo(ctx context.Context, name, description string) error {
	if err := checkName(name); err != nil {
		return err
	}
	status, msg, err := g.do(ctx, http.MethodGet, "/api/v1/repos/"+url.PathEscape(g.org())+"/"+url.PathEscape(name), nil)
	if err != nil {
		return err
	}
	switch status {
	case http.StatusOK:
		return nil
	case http.StatusNotFound:
	default:
		return g.fail("looking up", name, status, msg)
	}
	body, err := json.Marshal(giteaCreateRepo{
		Name: name, Description: truncate(description, giteaMaxDescription), DefaultBranch: "main",
	})
	if err != nil {
		return err
	}
	status, msg, err = g.do(ctx, http.MethodPost, "/api/v1/orgs/"+url.PathEscape(g.org())+"/repos", body)
	if err != nil {
		return err
	}
	switch status {
	case http.StatusCreated, http.StatusConflict:
		return nil
	case http.StatusNotFound:
		return errs.Errorf(errs.Unavailable,
			"Gitea at %s has no organisation %q (GITEA_ORG): create it, or set GITEA_ORG to an existing one", g.BaseURL, g.org())
	default:
		return g.fail("creating", name, status, msg)
	}
}

func (g *Gitea) org() string {
	if g.Org == "" {
		return "dryad"
	}
	return g.Org
}

// do sends one API request and returns the status and, for errors, the
// message Gitea gave.
func (g *Gitea) do(ctx context.Context, method, path string, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(g.BaseURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return 0, "", errs.Wrap(errs.Invalid, err, "invalid GITEA_URL")
	}
	req.Header.Set("Authorization", "token "+g.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := g.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", errs.Wrap(errs.Unavailable, err, "Gitea cannot be reached at "+g.BaseURL)
	}
	defer resp.Body.Close()
	var apiErr struct {
		Message string `json:"message"`
	}
	if resp.StatusCode >= 300 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(raw, &apiErr) != nil {
			apiErr.Message = strings.TrimSpace(string(raw))
		}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, truncate(apiErr.Message, 300), nil
}

func (g *Gitea) fail(doing, name string, status int, msg string) error {
	detail := fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
	if msg != "" {
		detail += ": " + msg
	}
	switch status {
	case http.StatusUnauthorized:
		return errs.Errorf(errs.Unavailable, "Gitea at %s rejected GITEA_TOKEN while %s repository %s/%s (%s): check that the token is valid",
			g.BaseURL, doing, g.org(), name, detail)
	case http.StatusForbidden:
		return errs.Errorf(errs.Unavailable, "Gitea at %s refused %s repository %s/%s (%s): the GITEA_TOKEN user must be allowed to create repositories in organisation %s",
			g.BaseURL, doing, g.org(), name, detail, g.org())
	default:
		return errs.Errorf(errs.Unavailable, "Gitea at %s failed %s repository %s/%s (%s)", g.BaseURL, doing, g.org(), name, detail)
	}
}

// truncate shortens s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
