package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/httpx"
	"github.com/dryad-lang/registry/internal/registry"
)

// adminPageSize is how many users and audit events the admin page lists.
const adminPageSize = 50

// auditActions are the actions the audit filter offers.
var auditActions = []string{
	"publish", "yank", "unyank", "delete", "owner_add", "owner_remove",
	"register", "login", "password_change", "token_create", "token_revoke", "admin_user_update",
	"webhook_create", "webhook_update", "webhook_delete",
}

var auditOutcomes = registry.AuditOutcomes

type adminData struct {
	UserQuery string
	Users     *registry.UserList
	UserPrev  string
	UserNext  string

	Filter    registry.AuditQuery
	Audit     *registry.AuditPage
	Actions   []string
	Outcomes  []string
	AuditPrev string
	AuditNext string

	Hooks *hooksView
	// Created is a registry-wide webhook just created, whose secret the
	// page shows this once.
	Created *registry.Webhook

	// Back is this page's address, for forms to come back to.
	Back  string
	Error string
	// RowUser is the user whose row a refused change was about, and
	// RowErrors that change's errors by field ("role", or "" beside the
	// row's buttons).
	RowUser   string
	RowErrors fieldErrors
}

// admin serves GET /admin: users (search, disable, role) and the audit
// log with filters. Admins only.
func (w *Web) admin(rw http.ResponseWriter, r *http.Request) error {
	if _, err := requireUser(r); err != nil {
		return err
	}
	return w.showAdmin(rw, r, http.StatusOK, adminData{})
}

// showAdmin renders the admin page of r's query, with d's errors.
func (w *Web) showAdmin(rw http.ResponseWriter, r *http.Request, status int, d adminData) error {
	p := stateOf(r).user
	q := r.URL.Query()
	page := func(key string) (int, error) {
		s := q.Get(key)
		if s == "" {
			return 1, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 2000 {
			return 0, errs.Errorf(errs.Invalid, "%s=%q: want a page number from 1 to 2000", key, s)
		}
		return n, nil
	}
	upage, err := page("upage")
	if err != nil {
		return err
	}
	apage, err := page("apage")
	if err != nil {
		return err
	}
	d.UserQuery, d.Actions, d.Outcomes, d.Back = strings.TrimSpace(q.Get("q")), auditActions, auditOutcomes, r.URL.RequestURI()
	if d.RowErrors == nil {
		d.RowErrors = fieldErrors{}
	}
	if d.Users, err = w.reg.ListUsers(r.Context(), p, d.UserQuery, adminPageSize, (upage-1)*adminPageSize); err != nil {
		return err
	}
	d.Filter = registry.AuditQuery{Actor: strings.TrimSpace(q.Get("actor")), Package: strings.TrimSpace(q.Get("package")),
		Action: q.Get("action"), Outcome: q.Get("outcome"), Limit: adminPageSize, Offset: (apage - 1) * adminPageSize}
	if d.Audit, err = w.reg.Audit(r.Context(), p, d.Filter); err != nil {
		return err
	}
	with := func(key string, n int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set(key, strconv.Itoa(n))
		return "/admin?" + v.Encode()
	}
	if upage > 1 {
		d.UserPrev = with("upage", upage-1)
	}
	if upage*adminPageSize < d.Users.Total {
		d.UserNext = with("upage", upage+1)
	}
	if apage > 1 {
		d.AuditPrev = with("apage", apage-1) + "#audit"
	}
	if apage*adminPageSize < d.Audit.Total {
		d.AuditNext = with("apage", apage+1) + "#audit"
	}
	if d.Hooks, err = w.hooks(r, "", "/admin/webhooks"); err != nil {
		return err
	}
	d.Hooks.Created = d.Created
	w.render(rw, r, status, "admin", meta{Title: "Administration", NoIndex: true}, d)
	return nil
}

// adminUpdateUser serves POST /admin/users/{username}: the field action
// is "disable", "enable" or "role" (with the field role).
func (w *Web) adminUpdateUser(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.form(rw, r)
	if err != nil {
		return err
	}
	f := r.PostForm
	var c registry.UserChange
	var done string
	switch f.Get("action") {
	case "disable", "enable":
		v := f.Get("action") == "disable"
		c.Disabled = &v
		done = "disabled; their sessions and API tokens were revoked"
		if !v {
			done = "enabled again"
		}
	case "role":
		role := f.Get("role")
		c.Role = &role
		done = "now has the role " + role
	default:
		return errs.New(errs.Invalid, `action must be "disable", "enable" or "role"`)
	}
	back := localPath(f.Get("back"), "/admin")
	if !strings.HasPrefix(back, "/admin") {
		back = "/admin"
	}
	u, err := w.reg.UpdateUser(r.Context(), p, r.PathValue("username"), c, httpx.ClientOf(r).IP)
	if err != nil {
		switch errs.KindOf(err) {
		case errs.Internal, errs.Unauthenticated, errs.Forbidden, errs.NotFound:
			return err
		}
		// The page the form was on is shown again, with the error in the
		// row of the user it is about (beside the role when it is about
		// the role).
		d := adminData{RowUser: r.PathValue("username"), RowErrors: fieldErrors{}}
		d.RowErrors.add(err, "role")
		page := *r
		page.URL = &url.URL{Path: "/admin"}
		if u, perr := url.Parse(back); perr == nil {
			page.URL.RawQuery = u.RawQuery
		}
		return w.showAdmin(rw, &page, errs.KindOf(err).Status(), d)
	}
	setFlash(rw, r, "success", u.Username+" is "+done+".")
	redirect(rw, r, back)
	return nil
}
