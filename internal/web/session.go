package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/httpx"
)

// Cookies of the web interface. All are HttpOnly and SameSite=Lax, and
// Secure when the registry is reached over HTTPS.
const (
	sessionCookie = "dryad_session"
	// anonCookie carries the random value of the double-submit CSRF
	// tokens of forms shown before sign-in (login, register).
	anonCookie = "dryad_csrf"
	// flashCookie carries a one-line message across a redirect.
	flashCookie = "dryad_flash"
)

// csrfField is the form field (and csrfHeader the header, for scripts)
// that carries a form's CSRF token.
const (
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
)

// errCSRF is the answer to a state-changing request without a valid token.
var errCSRF = errs.New(errs.Forbidden, "this form has expired or was sent from another site; reload the page and try again")

// state is what the web layer knows about a request's visitor.
type state struct {
	user *auth.Principal
	// sid is the session id of a signed-in visitor (the cookie's value).
	sid string
	// anon is the anonymous CSRF cookie's value, when the browser sent one.
	anon  string
	flash *flash
}

// flash is a message shown once, on the page a redirect leads to.
type flash struct {
	// Kind is "success" or "error".
	Kind string `json:"k"`
	Text string `json:"t"`
}

type stateKey struct{}

func stateOf(r *http.Request) *state {
	if s, ok := r.Context().Value(stateKey{}).(*state); ok {
		return s
	}
	return &state{}
}

// withSession resolves the visitor's session (an unknown or expired one
// is forgotten) and picks up a flash message.
func (w *Web) withSession(rw http.ResponseWriter, r *http.Request) (*http.Request, error) {
	st := &state{}
	secure := httpx.ClientOf(r).Secure
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		// The server's middleware looked the session up (identify).
		p, err := httpx.Caller(r)
		if err != nil {
			return r, err
		}
		if p != nil {
			st.user, st.sid = p, c.Value
		} else {
			http.SetCookie(rw, auth.ExpiredCookie(sessionCookie, secure))
		}
	}
	if c, err := r.Cookie(anonCookie); err == nil {
		st.anon = c.Value
	}
	if c, err := r.Cookie(flashCookie); err == nil {
		var f flash
		if b, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil && json.Unmarshal(b, &f) == nil && f.Text != "" {
			st.flash = &f
		}
		http.SetCookie(rw, auth.ExpiredCookie(flashCookie, secure))
	}
	ctx := context.WithValue(r.Context(), stateKey{}, st)
	if st.user != nil {
		ctx = auth.WithPrincipal(ctx, st.user)
	}
	return r.WithContext(ctx), nil
}

// csrfToken is the token the page's forms carry: bound to the session
// when signed in, else to the anonymous cookie (set here when missing).
func (w *Web) csrfToken(rw http.ResponseWriter, r *http.Request) string {
	st := stateOf(r)
	if st.sid != "" {
		return auth.CSRFToken(w.opts.CSRFKey, st.sid)
	}
	if st.anon == "" {
		v, err := auth.NewCSRFCookie()
		if err != nil {
			return ""
		}
		st.anon = v
		http.SetCookie(rw, auth.SessionCookie(anonCookie, v, httpx.ClientOf(r).Secure, 0))
	}
	return auth.AnonCSRFToken(w.opts.CSRFKey, st.anon)
}

// checkSessionCSRF checks the token of a signed-in visitor's form.
func (w *Web) checkSessionCSRF(r *http.Request, token string) error {
	st := stateOf(r)
	if st.sid == "" || !auth.CheckCSRF(w.opts.CSRFKey, st.sid, token) {
		return errCSRF
	}
	return nil
}

// checkAnonCSRF checks the token of a sign-in or registration form.
func (w *Web) checkAnonCSRF(r *http.Request, token string) error {
	if !auth.CheckAnonCSRF(w.opts.CSRFKey, stateOf(r).anon, token) {
		return errCSRF
	}
	return nil
}

// requireUser returns the signed-in visitor, or an error that sends a
// browser to the sign-in page.
func requireUser(r *http.Request) (*auth.Principal, error) {
	if p := stateOf(r).user; p != nil {
		return p, nil
	}
	return nil, errs.New(errs.Unauthenticated, "sign in to see this page")
}

// form parses a urlencoded form post (bounded) and checks its CSRF token
// against the session. It returns the signed-in visitor.
func (w *Web) form(rw http.ResponseWriter, r *http.Request) (*auth.Principal, error) {
	p := stateOf(r).user
	if p == nil {
		return nil, errs.New(errs.Unauthenticated, "your session has ended; sign in again")
	}
	if err := parseForm(rw, r); err != nil {
		return nil, err
	}
	if err := w.checkSessionCSRF(r, r.PostForm.Get(csrfField)); err != nil {
		return nil, err
	}
	return p, nil
}

// maxFormBody bounds urlencoded form bodies.
const maxFormBody = 64 << 10

func parseForm(rw http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(rw, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		return errs.New(errs.Invalid, "the form could not be read; reload the page and try again")
	}
	return nil
}

// setFlash makes the next page show a message once.
func setFlash(rw http.ResponseWriter, r *http.Request, kind, text string) {
	b, _ := json.Marshal(flash{Kind: kind, Text: text})
	http.SetCookie(rw, auth.SessionCookie(flashCookie, base64.RawURLEncoding.EncodeToString(b), httpx.ClientOf(r).Secure, time.Minute))
}

// redirect answers a form post with 303 to a page of this site.
func redirect(rw http.ResponseWriter, r *http.Request, to string) {
	httpx.Redirect(rw, r, to, http.StatusSeeOther)
}

// localPath returns next when a redirect to it stays on this site (see
// httpx.LocalTarget), else def.
func localPath(next, def string) string { return httpx.LocalTarget(next, def) }

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
