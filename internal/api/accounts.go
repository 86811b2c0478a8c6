package api

import (
	"net/http"
	"strconv"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry"
)

func (a *API) register(w http.ResponseWriter, r *http.Request) error {
	var reg registry.Registration
	if err := decodeJSON(w, r, &reg); err != nil {
		return err
	}
	u, err := a.reg.Register(r.Context(), reg, clientIP(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"user": u})
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
	return writeJSON(w, http.StatusOK, res)
}

func (a *API) profile(w http.ResponseWriter, r *http.Request) error {
	u, err := a.reg.Profile(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
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
	return writeJSON(w, http.StatusOK, map[string]any{"tokens": ts})
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request) error {
	var b registry.TokenRequest
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	t, err := a.reg.CreateToken(r.Context(), principal(r), b, clientIP(r))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, t)
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
