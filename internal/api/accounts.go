package api

import (
	"net/http"
	"strconv"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry"
)

// registerBody is what a new user sends.
type registerBody struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
	FullName string `json:"full_name"`
}

func (a *API) register(w http.ResponseWriter, r *http.Request) error {
	var b registerBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	u, err := a.reg.Register(r.Context(), registry.Registration{Username: b.Username, Email: b.Email, Password: b.Password, FullName: b.FullName}, clientIP(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"user": newUserJSON(u)})
}

type loginBody struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (a *API) login(w http.ResponseWriter, r *http.Request) error {
	var b loginBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	login := b.Username
	if login == "" {
		login = b.Email
	}
	res, err := a.reg.Login(r.Context(), login, b.Password, clientIP(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, loginJSON{Token: res.Token, ExpiresAt: res.ExpiresAt, User: newUserJSON(&res.User)})
}

func (a *API) profile(w http.ResponseWriter, r *http.Request) error {
	u, err := a.reg.Profile(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newUserJSON(u))
}

type passwordBody struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request) error {
	var b passwordBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	if err := a.reg.ChangePassword(r.Context(), principal(r), b.CurrentPassword, b.NewPassword, clientIP(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"message": "password changed; every session and token issued before was revoked, log in again"})
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := a.reg.Tokens(r.Context(), principal(r))
	if err != nil {
		return err
	}
	out := make([]tokenJSON, len(ts))
	for i := range ts {
		out[i] = newTokenJSON(&ts[i])
	}
	return writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

// tokenBody asks for a new API token.
type tokenBody struct {
	Name          string   `json:"name"`
	Scopes        []string `json:"scopes"`
	Packages      []string `json:"packages"`
	ExpiresInDays int      `json:"expires_in_days"`
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) error {
	var b tokenBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	t, err := a.reg.CreateToken(r.Context(), principal(r), registry.TokenRequest{Name: b.Name, Scopes: b.Scopes, Packages: b.Packages, ExpiresInDays: b.ExpiresInDays}, clientIP(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, newTokenAnswer{tokenJSON: newTokenJSON(&t.Token), Token: t.Secret})
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return errs.Errorf(errs.NotFound, "no API token with id %q", r.PathValue("id"))
	}
	if err := a.reg.RevokeToken(r.Context(), principal(r), id, clientIP(r)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"revoked": id})
}

// revokeCurrentToken serves DELETE /api/tokens/current: the API token that
// authenticates the request revokes itself (logout from a command line,
// which has the token but not the password).
func (a *API) revokeCurrentToken(w http.ResponseWriter, r *http.Request) error {
	id, err := a.reg.RevokeOwnToken(r.Context(), principal(r), clientIP(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"revoked": id})
}
