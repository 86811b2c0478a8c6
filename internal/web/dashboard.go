package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/httpx"
	"github.com/dryad-lang/registry/internal/registry"
)

type option struct {
	Value string
	Label string
	Help  string
}

// tokenScopes are the scopes offered when creating a token.
var tokenScopes = []option{
	{string(auth.ScopePublish), "Publish", "publish new packages and versions"},
	{string(auth.ScopeYank), "Yank", "yank and unyank versions"},
	{string(auth.ScopeOwners), "Owners", "add and remove co-owners"},
}

// tokenExpiries are the lifetimes offered when creating a token.
var tokenExpiries = []option{
	{"30", "30 days", ""}, {"90", "90 days", ""}, {"365", "1 year", ""}, {"0", "Never", ""},
}

type tokenForm struct {
	Name     string
	Scopes   map[string]bool
	Packages string
	Expires  string
}

type dashboardData struct {
	Packages  []registry.PackageSummary
	Tokens    []registry.Token
	NewToken  *registry.NewToken
	Form      tokenForm
	Errors    fieldErrors
	PwErrors  fieldErrors
	Scopes    []option
	Expiries  []option
	MaxUpload int64
}

// dashboard serves GET /dashboard: the visitor's packages, API tokens and
// password.
func (w *Web) dashboard(rw http.ResponseWriter, r *http.Request) error {
	if _, err := requireUser(r); err != nil {
		return err
	}
	return w.showDashboard(rw, r, http.StatusOK, dashboardData{})
}

func (w *Web) showDashboard(rw http.ResponseWriter, r *http.Request, status int, d dashboardData) error {
	p := stateOf(r).user
	var err error
	if d.Packages, err = w.reg.UserPackages(r.Context(), p.UserID); err != nil {
		return err
	}
	if d.Tokens, err = w.reg.Tokens(r.Context(), p); err != nil {
		return err
	}
	if d.Form.Scopes == nil {
		d.Form = tokenForm{Scopes: map[string]bool{string(auth.ScopePublish): true}, Expires: "90"}
	}
	if d.Errors == nil {
		d.Errors = fieldErrors{}
	}
	if d.PwErrors == nil {
		d.PwErrors = fieldErrors{}
	}
	d.Scopes, d.Expiries, d.MaxUpload = tokenScopes, tokenExpiries, w.reg.MaxPackageSize()
	w.render(rw, r, status, "dashboard", meta{Title: "Dashboard", NoIndex: true}, d)
	return nil
}

// createToken serves POST /dashboard/tokens. The new token's secret is
// shown on this response only: it is never stored, nor put in a URL.
func (w *Web) createToken(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.form(rw, r)
	if err != nil {
		return err
	}
	f := r.PostForm
	form := tokenForm{Name: strings.TrimSpace(f.Get("name")), Scopes: map[string]bool{}, Packages: strings.TrimSpace(f.Get("packages")), Expires: f.Get("expires")}
	for _, s := range f["scope"] {
		form.Scopes[s] = true
	}
	req := registry.TokenRequest{Name: form.Name, Scopes: f["scope"], Packages: strings.Fields(strings.ReplaceAll(form.Packages, ",", " "))}
	d := dashboardData{Form: form, Errors: fieldErrors{}}
	if req.ExpiresInDays, err = strconv.Atoi(form.Expires); err != nil {
		d.Errors["expires"] = "Choose how long the token lasts."
		return w.showDashboard(rw, r, http.StatusBadRequest, d)
	}
	tok, err := w.reg.CreateToken(r.Context(), p, req, httpx.ClientOf(r).IP)
	if err != nil {
		if errs.KindOf(err) == errs.Internal {
			return err
		}
		d.Errors.add(err, "name", "scopes=scope", "packages", "expires_in_days=expires")
		return w.showDashboard(rw, r, errs.KindOf(err).Status(), d)
	}
	d = dashboardData{NewToken: tok}
	return w.showDashboard(rw, r, http.StatusCreated, d)
}

// revokeToken serves POST /dashboard/tokens/{id}/revoke.
func (w *Web) revokeToken(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.form(rw, r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return errs.Errorf(errs.NotFound, "no API token %q", r.PathValue("id"))
	}
	if err := w.reg.RevokeToken(r.Context(), p, id, httpx.ClientOf(r).IP); err != nil {
		return err
	}
	name := r.PostForm.Get("name")
	if name == "" {
		name = "The token"
	} else {
		name = "The token \u201c" + name + "\u201d"
	}
	setFlash(rw, r, "success", name+" was revoked; it no longer works anywhere.")
	redirect(rw, r, "/dashboard#tokens")
	return nil
}

// changePassword serves POST /dashboard/password. Every session and token
// issued before is revoked by the registry; this browser gets a new session.
func (w *Web) changePassword(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.form(rw, r)
	if err != nil {
		return err
	}
	f := r.PostForm
	d := dashboardData{PwErrors: fieldErrors{}}
	if f.Get("current") == "" {
		d.PwErrors["current"] = "Enter your current password."
	}
	if f.Get("new") == "" {
		d.PwErrors["new"] = "Choose a new password."
	} else if f.Get("new") != f.Get("confirm") {
		d.PwErrors["confirm"] = "The two passwords differ; type the same password twice."
	}
	if len(d.PwErrors) > 0 {
		return w.showDashboard(rw, r, http.StatusBadRequest, d)
	}
	ip := httpx.ClientOf(r).IP
	if err := w.reg.ChangePassword(r.Context(), p, f.Get("current"), f.Get("new"), ip); err != nil {
		if errs.KindOf(err) == errs.Internal {
			return err
		}
		d.PwErrors.add(err, "current_password=current", "new_password=new")
		return w.showDashboard(rw, r, errs.KindOf(err).Status(), d)
	}
	// The change ended every session, this one included: start a new one.
	stateOf(r).sid = ""
	sess, err := w.reg.SignIn(r.Context(), p.Username, f.Get("new"), ip)
	if err != nil {
		setFlash(rw, r, "success", "Your password was changed; sign in with the new one.")
		redirect(rw, r, "/login")
		return nil
	}
	if err := w.startSession(rw, r, sess); err != nil {
		return err
	}
	setFlash(rw, r, "success", "Your password was changed. Every other session and every API token was revoked.")
	redirect(rw, r, "/dashboard")
	return nil
}

type manageData struct {
	*packageView
	Git   *registry.GitState
	Hooks *hooksView
	Error string
	// OwnerErrors are the add-owner form's errors, by field, and
	// NewOwner the username typed there.
	OwnerErrors fieldErrors
	NewOwner    string
	// Created is a webhook just created, whose secret the page shows this
	// once.
	Created *registry.Webhook
}

// managePage serves GET /dashboard/packages/{name}: versions to yank,
// unyank or delete, and the owners.
func (w *Web) managePage(rw http.ResponseWriter, r *http.Request) error {
	if _, err := requireUser(r); err != nil {
		return err
	}
	return w.showManage(rw, r, http.StatusOK, "")
}

func (w *Web) showManage(rw http.ResponseWriter, r *http.Request, status int, msg string) error {
	return w.showManageData(rw, r, status, manageData{Error: msg})
}

// showManageData renders the manage page with d's errors and typed values.
func (w *Web) showManageData(rw http.ResponseWriter, r *http.Request, status int, d manageData) error {
	name := r.PathValue("name")
	if err := w.requireManage(r, name); err != nil {
		return err
	}
	v, err := w.packagePageView(r.Context(), name, "")
	if err != nil {
		return err
	}
	git, err := w.reg.PackageGitState(r.Context(), stateOf(r).user, name)
	if err != nil {
		return err
	}
	hooks, err := w.hooks(r, name, manageHooksAction(v.Name))
	if err != nil {
		return err
	}
	hooks.Created = d.Created
	d.packageView, d.Git, d.Hooks = v, git, hooks
	if d.OwnerErrors == nil {
		d.OwnerErrors = fieldErrors{}
	}
	w.render(rw, r, status, "manage", meta{Title: "Manage " + v.Name, NoIndex: true}, d)
	return nil
}

// requireManage refuses visitors who may not change the package.
func (w *Web) requireManage(r *http.Request, name string) error {
	p := stateOf(r).user
	ok, err := w.reg.CanManage(r.Context(), p, name)
	if err != nil {
		return err
	}
	if !ok {
		return errs.Errorf(errs.Forbidden, "you are not an owner of %q; ask one of its owners to add you", name)
	}
	return nil
}

type yankData struct {
	// Name and Version are the version to yank.
	Name, Version string
	// Impact is what the yank changes for dependents.
	Impact *registry.Impact
}

// yankConfirm serves GET /dashboard/packages/{name}/yank?version=V: what
// yanking would change for the packages that depend on this one, and the
// button that does it.
func (w *Web) yankConfirm(rw http.ResponseWriter, r *http.Request) error {
	if _, err := requireUser(r); err != nil {
		return err
	}
	version := r.URL.Query().Get("version")
	if version == "" {
		return errs.New(errs.Invalid, "say which version to yank: ?version=1.2.3")
	}
	_, err := w.showYank(rw, r, r.PathValue("name"), version, false)
	return err
}

// showYank renders the yank confirmation; with onlyIfImpact, only when
// the yank would change something for dependents. It reports whether it
// rendered.
func (w *Web) showYank(rw http.ResponseWriter, r *http.Request, name, version string, onlyIfImpact bool) (bool, error) {
	if err := w.requireManage(r, name); err != nil {
		return false, err
	}
	imp, err := w.reg.Impact(r.Context(), registry.ImpactQuery{Name: name, Version: version, Action: registry.ImpactYank})
	if err != nil {
		return false, err
	}
	if onlyIfImpact && imp.Versions == 0 {
		return false, nil
	}
	w.render(rw, r, http.StatusOK, "yank", meta{Title: "Yank " + imp.Package + "@" + imp.Version, NoIndex: true},
		yankData{Name: imp.Package, Version: imp.Version, Impact: imp})
	return true, nil
}

// yank serves POST /dashboard/packages/{name}/yank: the field version, and
// action "yank" or "unyank". A yank that would change how other packages'
// ranges resolve first shows them and asks again (the field confirm);
// one that changes nothing for anyone happens at once. Unyanking takes a
// version back into ranges and needs no preview.
func (w *Web) yank(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.form(rw, r)
	if err != nil {
		return err
	}
	name, version, action := r.PathValue("name"), r.PostForm.Get("version"), r.PostForm.Get("action")
	if action != "yank" && action != "unyank" {
		return errs.New(errs.Invalid, `action must be "yank" or "unyank"`)
	}
	if action == "yank" && r.PostForm.Get("confirm") == "" {
		shown, err := w.showYank(rw, r, name, version, true)
		if err != nil {
			return w.manageError(rw, r, err)
		}
		if shown {
			return nil
		}
	}
	doc, err := w.reg.SetYanked(r.Context(), p, name, version, action == "yank", httpx.ClientOf(r).IP)
	if err != nil {
		return w.manageError(rw, r, err)
	}
	if action == "yank" {
		setFlash(rw, r, "success", "Yanked "+doc.Package+"@"+doc.Version+": ranges no longer pick it, and lockfiles that name it still install it.")
	} else {
		setFlash(rw, r, "success", "Restored "+doc.Package+"@"+doc.Version+": ranges may pick it again.")
	}
	redirect(rw, r, "/dashboard/packages/"+pathEscape(doc.Package))
	return nil
}

// manageError shows a refused change on the management page, with the
// status of its kind.
func (w *Web) manageError(rw http.ResponseWriter, r *http.Request, err error) error {
	switch errs.KindOf(err) {
	case errs.Internal, errs.Unauthenticated, errs.NotFound, errs.Gone:
		return err
	}
	return w.showManage(rw, r, errs.KindOf(err).Status(), period(errs.Message(err)))
}

type deleteData struct {
	*packageView
	// Target is the version to delete; "" deletes the whole package.
	Target string
	// Doomed are the versions that go.
	Doomed []versionView
	// Dependents are read afresh: they are what the deletion may break.
	Dependents []registry.Dependent
	// Impact lists the dependents' versions whose ranges would resolve
	// differently.
	Impact *registry.Impact
	Error  string
}

// deleteConfirm serves GET /dashboard/packages/{name}/delete[?version=V]:
// what deleting would break, and the button that does it.
func (w *Web) deleteConfirm(rw http.ResponseWriter, r *http.Request) error {
	if _, err := requireUser(r); err != nil {
		return err
	}
	return w.showDelete(rw, r, http.StatusOK, r.URL.Query().Get("version"), "")
}

func (w *Web) showDelete(rw http.ResponseWriter, r *http.Request, status int, version, msg string) error {
	name := r.PathValue("name")
	if err := w.requireManage(r, name); err != nil {
		return err
	}
	v, err := w.packagePageView(r.Context(), name, "")
	if err != nil {
		return err
	}
	deps, err := w.reg.Dependents(r.Context(), name)
	if err != nil {
		return err
	}
	d := deleteData{packageView: v, Target: version, Dependents: deps, Error: msg}
	for _, ver := range v.Versions {
		if version == "" || ver.Version == version {
			d.Doomed = append(d.Doomed, ver)
		}
	}
	if version != "" && len(d.Doomed) == 0 {
		return errs.Errorf(errs.NotFound, "%s has no version %q", v.Name, version)
	}
	if d.Impact, err = w.reg.Impact(r.Context(), registry.ImpactQuery{Name: name, Version: version, Action: registry.ImpactDelete}); err != nil {
		return err
	}
	title := "Delete " + v.Name
	if version != "" {
		title += "@" + version
	}
	w.render(rw, r, status, "delete", meta{Title: title, NoIndex: true}, d)
	return nil
}

// deletePackage serves POST /dashboard/packages/{name}/delete: the field
// version deletes one version; without it, the whole package goes.
func (w *Web) deletePackage(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.form(rw, r)
	if err != nil {
		return err
	}
	name, version := r.PathValue("name"), r.PostForm.Get("version")
	ip := httpx.ClientOf(r).IP
	if version != "" {
		_, err = w.reg.DeleteVersion(r.Context(), p, name, version, ip)
	} else {
		_, err = w.reg.DeletePackage(r.Context(), p, name, ip)
	}
	if err != nil {
		switch errs.KindOf(err) {
		case errs.Internal, errs.Unauthenticated, errs.NotFound, errs.Gone:
			return err
		}
		return w.showDelete(rw, r, errs.KindOf(err).Status(), version, period(errs.Message(err)))
	}
	if version != "" {
		setFlash(rw, r, "success", "Deleted "+name+"@"+version+".")
		redirect(rw, r, "/dashboard/packages/"+pathEscape(name))
		return nil
	}
	setFlash(rw, r, "success", "Deleted the package "+name+".")
	redirect(rw, r, "/dashboard")
	return nil
}

// addOwner serves POST /dashboard/packages/{name}/owners.
func (w *Web) addOwner(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.form(rw, r)
	if err != nil {
		return err
	}
	name, user := r.PathValue("name"), strings.TrimSpace(r.PostForm.Get("username"))
	d := manageData{NewOwner: user, OwnerErrors: fieldErrors{}}
	if user == "" {
		d.OwnerErrors["username"] = "Enter the username of the new owner."
		return w.showManageData(rw, r, http.StatusBadRequest, d)
	}
	if _, err := w.reg.AddOwners(r.Context(), p, name, []string{user}, httpx.ClientOf(r).IP); err != nil {
		switch errs.KindOf(err) {
		case errs.Internal, errs.Unauthenticated, errs.NotFound, errs.Gone:
			return err
		}
		d.OwnerErrors.add(err, "users=username")
		return w.showManageData(rw, r, errs.KindOf(err).Status(), d)
	}
	setFlash(rw, r, "success", user+" is now an owner of "+name+".")
	redirect(rw, r, "/dashboard/packages/"+pathEscape(name)+"#owners")
	return nil
}

// removeOwner serves POST /dashboard/packages/{name}/owners/remove.
func (w *Web) removeOwner(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.form(rw, r)
	if err != nil {
		return err
	}
	name, user := r.PathValue("name"), strings.TrimSpace(r.PostForm.Get("username"))
	if _, err := w.reg.RemoveOwners(r.Context(), p, name, []string{user}, httpx.ClientOf(r).IP); err != nil {
		return w.manageError(rw, r, err)
	}
	setFlash(rw, r, "success", user+" is no longer an owner of "+name+".")
	if strings.EqualFold(user, p.Username) && !p.IsAdmin() {
		redirect(rw, r, "/dashboard")
		return nil
	}
	redirect(rw, r, "/dashboard/packages/"+pathEscape(name)+"#owners")
	return nil
}
