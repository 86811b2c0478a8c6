package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/httpx"
	"github.com/dryad-lang/registry/internal/ratelimit"
	"github.com/dryad-lang/registry/internal/registry"
)

type loginData struct {
	Login  string
	Next   string
	Errors fieldErrors
}

// loginForm serves GET /login.
func (w *Web) loginForm(rw http.ResponseWriter, r *http.Request) error {
	next := localPath(r.URL.Query().Get("next"), "")
	if stateOf(r).user != nil {
		redirect(rw, r, localPath(next, "/dashboard"))
		return nil
	}
	w.render(rw, r, http.StatusOK, "login", meta{Title: "Sign in", Description: "Sign in to publish and manage packages", AnonForm: true},
		loginData{Next: next, Errors: fieldErrors{}})
	return nil
}

// login serves POST /login: the password is checked by the registry (with
// its brute-force limits) and a server-side session is started.
func (w *Web) login(rw http.ResponseWriter, r *http.Request) error {
	if err := parseForm(rw, r); err != nil {
		return err
	}
	f := r.PostForm
	if err := w.checkAnonCSRF(r, f.Get(csrfField)); err != nil {
		return err
	}
	d := loginData{Login: strings.TrimSpace(f.Get("login")), Next: localPath(f.Get("next"), ""), Errors: fieldErrors{}}
	show := func(status int) error {
		w.render(rw, r, status, "login", meta{Title: "Sign in", AnonForm: true}, d)
		return nil
	}
	if d.Login == "" {
		d.Errors["login"] = "Enter your username or email address."
	}
	if f.Get("password") == "" {
		d.Errors["password"] = "Enter your password."
	}
	if len(d.Errors) > 0 {
		return show(http.StatusBadRequest)
	}
	sess, err := w.reg.SignIn(r.Context(), d.Login, f.Get("password"), httpx.ClientOf(r).IP)
	if err != nil {
		if errs.KindOf(err) == errs.Internal {
			return err
		}
		if wait, ok := errs.RetryAfter(err); ok {
			rw.Header().Set("Retry-After", ratelimit.RetrySeconds(wait))
		}
		d.Errors.add(err, "password")
		return show(errs.KindOf(err).Status())
	}
	if err := w.startSession(rw, r, sess); err != nil {
		return err
	}
	redirect(rw, r, localPath(d.Next, "/dashboard"))
	return nil
}

// startSession ends the visitor's earlier session, if any (a session id
// is never reused across sign-ins), and sets the new one's cookie.
func (w *Web) startSession(rw http.ResponseWriter, r *http.Request, sess *registry.Session) error {
	if old := stateOf(r).sid; old != "" && old != sess.ID {
		if err := w.reg.EndSession(r.Context(), old); err != nil {
			return err
		}
	}
	http.SetCookie(rw, auth.SessionCookie(sessionCookie, sess.ID, httpx.ClientOf(r).Secure, time.Until(sess.Expires)))
	return nil
}

type registerData struct {
	Username string
	Email    string
	FullName string
	Errors   fieldErrors
}

// registerForm serves GET /register.
func (w *Web) registerForm(rw http.ResponseWriter, r *http.Request) error {
	if stateOf(r).user != nil {
		redirect(rw, r, "/dashboard")
		return nil
	}
	w.render(rw, r, http.StatusOK, "register", meta{Title: "Create an account", Description: "Create an account to publish Dryad packages", AnonForm: true},
		registerData{Errors: fieldErrors{}})
	return nil
}

// register serves POST /register: the account is created, then signed in.
func (w *Web) register(rw http.ResponseWriter, r *http.Request) error {
	if err := parseForm(rw, r); err != nil {
		return err
	}
	f := r.PostForm
	if err := w.checkAnonCSRF(r, f.Get(csrfField)); err != nil {
		return err
	}
	d := registerData{Username: strings.TrimSpace(f.Get("username")), Email: strings.TrimSpace(f.Get("email")),
		FullName: strings.TrimSpace(f.Get("full_name")), Errors: fieldErrors{}}
	show := func(status int) error {
		w.render(rw, r, status, "register", meta{Title: "Create an account", AnonForm: true}, d)
		return nil
	}
	password := f.Get("password")
	if d.Username == "" {
		d.Errors["username"] = "Choose a username."
	}
	if d.Email == "" {
		d.Errors["email"] = "Enter your email address."
	}
	if password == "" {
		d.Errors["password"] = "Choose a password."
	} else if password != f.Get("confirm") {
		d.Errors["confirm"] = "The two passwords differ; type the same password twice."
	}
	if len(d.Errors) > 0 {
		return show(http.StatusBadRequest)
	}
	ip := httpx.ClientOf(r).IP
	if _, err := w.reg.Register(r.Context(), registry.Registration{Username: d.Username, Email: d.Email, Password: password, FullName: d.FullName}, ip); err != nil {
		if errs.KindOf(err) == errs.Internal {
			return err
		}
		d.Errors.add(err, "username", "email", "full_name", "password")
		return show(errs.KindOf(err).Status())
	}
	sess, err := w.reg.SignIn(r.Context(), d.Username, password, ip)
	if err != nil {
		// The account exists; only the automatic sign-in failed.
		setFlash(rw, r, "success", "Your account was created; sign in to continue.")
		redirect(rw, r, "/login")
		return nil
	}
	if err := w.startSession(rw, r, sess); err != nil {
		return err
	}
	setFlash(rw, r, "success", "Welcome, "+sess.User.Username+"! Your account is ready: create an API token or upload your first package.")
	redirect(rw, r, "/dashboard")
	return nil
}

// sentence starts a message with a capital letter and ends it with a full
// stop, as a form shows it. Only for messages about accounts, tokens and
// passwords: a message that may start with a package name goes through
// period instead, since capitalising would change the name.
func sentence(s string) string {
	s = period(s)
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// period ends a message with a full stop. Its first word is capitalised
// only when it is one of the plain words the registry's messages start
// with, never when it may be a package or user name.
func period(s string) string {
	s = strings.TrimSpace(s)
	if s != "" && !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	first, _, _ := strings.Cut(s, " ")
	if plainWords[first] {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

// plainWords start registry messages and are never names.
var plainWords = map[string]bool{
	"a": true, "action": true, "admins": true, "choose": true, "dependency": true, "internal": true, "log": true,
	"malformed": true, "multipart": true, "no": true, "package": true, "send": true, "sign": true, "the": true,
	"there": true, "this": true, "too": true, "unknown": true, "upload": true, "user": true, "you": true, "your": true,
}

// logoutForm serves GET /logout: a button, since signing out changes state
// and must not happen on a mere link (or a prefetch).
func (w *Web) logoutForm(rw http.ResponseWriter, r *http.Request) error {
	if stateOf(r).user == nil {
		redirect(rw, r, "/")
		return nil
	}
	w.render(rw, r, http.StatusOK, "logout", meta{Title: "Sign out", NoIndex: true}, nil)
	return nil
}

// logout serves POST /logout: the session is deleted on the server, so a
// copied cookie stops working too.
func (w *Web) logout(rw http.ResponseWriter, r *http.Request) error {
	st := stateOf(r)
	if st.user == nil {
		redirect(rw, r, "/")
		return nil
	}
	if err := parseForm(rw, r); err != nil {
		return err
	}
	if err := w.checkSessionCSRF(r, r.PostForm.Get(csrfField)); err != nil {
		return err
	}
	if err := w.reg.EndSession(r.Context(), st.sid); err != nil {
		return err
	}
	http.SetCookie(rw, auth.ExpiredCookie(sessionCookie, httpx.ClientOf(r).Secure))
	setFlash(rw, r, "success", "You are signed out.")
	redirect(rw, r, "/")
	return nil
}
