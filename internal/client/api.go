package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
)

// API calls a registry's JSON API for the account and package commands
// (login, token, yank, owner, search). Errors keep the kind of the
// registry's answer (401 is errs.Unauthenticated, 404 errs.NotFound, …),
// so that a command can add the fix that fits.
type API struct {
	Registry *Registry
	// Token is sent as a bearer token when set.
	Token     string
	UserAgent string
	// HTTP is the client to use; http.DefaultClient when nil.
	HTTP *http.Client
}

// LoginResult is the registry's answer to a login with a password.
type LoginResult struct {
	// Token is a login token (a JWT): it may create API tokens.
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      struct {
		Username string `json:"username"`
	} `json:"user"`
}

// Token is an API token as the registry lists it; Secret is set only in
// the answer that created it.
type Token struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	Packages   []string   `json:"packages"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	Secret     string     `json:"token,omitempty"`
}

// TokenRequest asks for a new API token (POST /api/tokens).
type TokenRequest struct {
	Name          string   `json:"name"`
	Scopes        []string `json:"scopes"`
	Packages      []string `json:"packages,omitempty"`
	ExpiresInDays int      `json:"expires_in_days,omitempty"`
}

// VersionState is a version after a yank or unyank.
type VersionState struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Yanked  bool   `json:"yanked"`
}

// Owner is one owner of a package.
type Owner struct {
	Username string    `json:"username"`
	AddedAt  time.Time `json:"added_at"`
}

// OwnerList is a package's owners.
type OwnerList struct {
	Name   string  `json:"name"`
	Owners []Owner `json:"owners"`
}

// SearchHit is one package found by a search.
type SearchHit struct {
	Name        string    `json:"name"`
	Version     string    `json:"version"`
	Description string    `json:"description"`
	Keywords    []string  `json:"keywords"`
	Downloads   int64     `json:"downloads"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// SearchResult is a page of search hits.
type SearchResult struct {
	Packages []SearchHit `json:"packages"`
	Total    int         `json:"total"`
	HasMore  bool        `json:"has_more"`
}

// Login logs in with a username (or e-mail) and password.
func (a *API) Login(ctx context.Context, username, password string) (*LoginResult, error) {
	var res LoginResult
	body := map[string]string{"username": username, "password": password}
	if err := a.call(ctx, http.MethodPost, "/api/auth/login", body, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// CreateToken creates an API token; the caller must be logged in with a
// password (a login token), not an API token.
func (a *API) CreateToken(ctx context.Context, r TokenRequest) (*Token, error) {
	var t Token
	if err := a.call(ctx, http.MethodPost, "/api/tokens", r, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Tokens lists the caller's live API tokens.
func (a *API) Tokens(ctx context.Context) ([]Token, error) {
	var res struct {
		Tokens []Token `json:"tokens"`
	}
	if err := a.call(ctx, http.MethodGet, "/api/tokens", nil, &res); err != nil {
		return nil, err
	}
	return res.Tokens, nil
}

// RevokeToken revokes one of the caller's API tokens.
func (a *API) RevokeToken(ctx context.Context, id int64) error {
	return a.call(ctx, http.MethodDelete, "/api/tokens/"+strconv.FormatInt(id, 10), nil, nil)
}

// RevokeCurrentToken revokes the token the API is called with (Token).
func (a *API) RevokeCurrentToken(ctx context.Context) error {
	return a.call(ctx, http.MethodDelete, "/api/tokens/current", nil, nil)
}

// SetYanked yanks (or, with yanked false, unyanks) name@version.
func (a *API) SetYanked(ctx context.Context, name, version string, yanked bool) (*VersionState, error) {
	method := http.MethodPut
	if !yanked {
		method = http.MethodDelete
	}
	var v VersionState
	path := "/api/packages/" + url.PathEscape(name) + "/versions/" + url.PathEscape(version) + "/yank"
	if err := a.call(ctx, method, path, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Owners lists a package's owners.
func (a *API) Owners(ctx context.Context, name string) (*OwnerList, error) {
	return a.owners(ctx, http.MethodGet, name, nil)
}

// AddOwners makes users co-owners of a package.
func (a *API) AddOwners(ctx context.Context, name string, users []string) (*OwnerList, error) {
	return a.owners(ctx, http.MethodPut, name, users)
}

// RemoveOwners removes users from a package's owners.
func (a *API) RemoveOwners(ctx context.Context, name string, users []string) (*OwnerList, error) {
	return a.owners(ctx, http.MethodDelete, name, users)
}

func (a *API) owners(ctx context.Context, method, name string, users []string) (*OwnerList, error) {
	var body any
	if users != nil {
		body = map[string][]string{"users": users}
	}
	var l OwnerList
	if err := a.call(ctx, method, "/api/packages/"+url.PathEscape(name)+"/owners", body, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// Search finds packages matching query, best first.
func (a *API) Search(ctx context.Context, query string, limit int) (*SearchResult, error) {
	return a.Find(ctx, SearchParams{Query: query, Limit: limit})
}

// SearchParams are a search's text and filters (GET /api/search); empty
// fields are left out.
type SearchParams struct {
	Query, Keyword, Owner, Updated string
	Limit                          int
}

// Find searches packages with filters.
func (a *API) Find(ctx context.Context, p SearchParams) (*SearchResult, error) {
	q := url.Values{"q": {p.Query}, "limit": {strconv.Itoa(p.Limit)}}
	for k, v := range map[string]string{"keyword": p.Keyword, "owner": p.Owner, "updated": p.Updated} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var res SearchResult
	if err := a.call(ctx, http.MethodGet, "/api/search?"+q.Encode(), nil, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// call sends a JSON request and decodes a 2xx answer into out (unless
// nil); any other answer is an error of the matching kind, carrying the
// registry's message.
func (a *API) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return errs.Wrap(errs.Invalid, err, err.Error())
		}
		body = bytes.NewReader(b)
	}
	base := a.Registry.BaseURL
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return errs.Wrap(errs.Invalid, err, err.Error())
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", a.UserAgent)
	if a.Token != "" {
		req.Header.Set("Authorization", "Bearer "+a.Token)
	}
	hc := a.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return errs.Wrap(errs.Unavailable, err, "interrupted")
		}
		return errs.Wrap(errs.Unavailable, err, fmt.Sprintf("cannot reach the registry at %s: %v", base, err))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return errs.New(statusKind(resp.StatusCode), problemText(resp, b))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return errs.Errorf(errs.Unavailable, "%s %s: the registry answered %d with an unexpected body: %.200s", method, path, resp.StatusCode, b)
	}
	return nil
}

// statusKind is the error kind of an HTTP status the registry answered.
func statusKind(status int) errs.Kind {
	for _, k := range []errs.Kind{errs.Invalid, errs.Unauthenticated, errs.Forbidden, errs.NotFound, errs.Conflict,
		errs.Gone, errs.TooLarge, errs.Unprocessable, errs.RateLimited, errs.StorageFull} {
		if k.Status() == status {
			return k
		}
	}
	return errs.Unavailable
}
