package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/httpx"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/store"
)

// getPackage answers GET /api/packages/{name}: the Oak contract. The
// document comes from the cache with an ETag; If-None-Match gets 304.
func (a *API) getPackage(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var doc *registry.Document
	var err error
	if v := r.URL.Query().Get("version"); v != "" {
		doc, err = a.reg.PackageVersionDocument(r.Context(), name, v)
	} else {
		doc, err = a.reg.PackageDocument(r.Context(), name)
	}
	if err != nil {
		return err
	}
	body, etag := a.reg.RenderDocument(doc, httpx.ClientOf(r).BaseURL)
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
	return nil
}

// etagMatches implements If-None-Match's weak comparison over a list.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// withBase puts the base URL into documents holding the placeholder.
func withBase(r *http.Request, docs ...*registry.VersionDoc) {
	base := httpx.ClientOf(r).BaseURL
	for _, d := range docs {
		d.DownloadURL = strings.Replace(d.DownloadURL, registry.BasePlaceholder, base, 1)
	}
}

func (a *API) versions(w http.ResponseWriter, r *http.Request) error {
	vl, err := a.reg.Versions(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	for i := range vl.Versions {
		withBase(r, &vl.Versions[i])
	}
	return writeJSON(w, http.StatusOK, vl)
}

func (a *API) version(w http.ResponseWriter, r *http.Request) error {
	v, err := a.reg.Version(r.Context(), r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		return err
	}
	withBase(r, v)
	return writeJSON(w, http.StatusOK, v)
}

func (a *API) resolve(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if !q.Has("range") {
		return errs.New(errs.Invalid, "give a SemVer range: ?range=^1.2.0")
	}
	v, err := a.reg.Resolve(r.Context(), r.PathValue("name"), q.Get("range"))
	if err != nil {
		return err
	}
	withBase(r, v)
	return writeJSON(w, http.StatusOK, v)
}

func (a *API) stats(w http.ResponseWriter, r *http.Request) error {
	st, err := a.reg.Stats(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func (a *API) totals(w http.ResponseWriter, r *http.Request) error {
	t, err := a.reg.Totals(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (a *API) history(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := pageParams(r, 50)
	if err != nil {
		return err
	}
	if limit < 1 || limit > registry.MaxPageSize || offset < 0 {
		return errs.Errorf(errs.Invalid, "limit must be 1 to %d and offset at least 0", registry.MaxPageSize)
	}
	page, err := a.reg.History(r.Context(), r.PathValue("name"), limit, offset)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

func (a *API) search(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, offset, err := pageParams(r, 20)
	if err != nil {
		return err
	}
	res, err := a.reg.Search(r.Context(), q.Get("q"), q.Get("sort"), limit, offset)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

func (a *API) yank(w http.ResponseWriter, r *http.Request) error {
	v, err := a.reg.SetYanked(r.Context(), principal(r), r.PathValue("name"), r.PathValue("version"), true, clientIP(r))
	if err != nil {
		return err
	}
	withBase(r, v)
	return writeJSON(w, http.StatusOK, v)
}

func (a *API) unyank(w http.ResponseWriter, r *http.Request) error {
	v, err := a.reg.SetYanked(r.Context(), principal(r), r.PathValue("name"), r.PathValue("version"), false, clientIP(r))
	if err != nil {
		return err
	}
	withBase(r, v)
	return writeJSON(w, http.StatusOK, v)
}

func (a *API) deleteVersion(w http.ResponseWriter, r *http.Request) error {
	if err := a.requireAdminPath(r); err != nil {
		return err
	}
	name, version := r.PathValue("name"), r.PathValue("version")
	v, err := a.reg.DeleteVersion(r.Context(), principal(r), name, version, clientIP(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"name": v.Name, "version": v.Version, "deleted": v.Name + "@" + v.Version})
}

func (a *API) deletePackage(w http.ResponseWriter, r *http.Request) error {
	if err := a.requireAdminPath(r); err != nil {
		return err
	}
	name := r.PathValue("name")
	canonical, err := a.reg.DeletePackage(r.Context(), principal(r), name, clientIP(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"name": canonical, "deleted": canonical})
}

// requireAdminPath keeps /api/admin/… for admins even where the same
// action is open to owners under /api/packages/….
func (a *API) requireAdminPath(r *http.Request) error {
	if !strings.HasPrefix(r.URL.Path, "/api/admin/") {
		return nil
	}
	p := principal(r)
	if p == nil {
		return errs.New(errs.Unauthenticated, "log in first")
	}
	if !p.IsAdmin() {
		return errs.New(errs.Forbidden, "this needs an admin account (signed in with its password, not an API token)")
	}
	return nil
}

type usersBody struct {
	Users []string `json:"users"`
}

func (a *API) owners(w http.ResponseWriter, r *http.Request) error {
	ol, err := a.reg.Owners(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ol)
}

func (a *API) addOwners(w http.ResponseWriter, r *http.Request) error {
	var b usersBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	ol, err := a.reg.AddOwners(r.Context(), principal(r), r.PathValue("name"), b.Users, clientIP(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ol)
}

func (a *API) removeOwners(w http.ResponseWriter, r *http.Request) error {
	var b usersBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	ol, err := a.reg.RemoveOwners(r.Context(), principal(r), r.PathValue("name"), b.Users, clientIP(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ol)
}

func (a *API) adminUsers(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := pageParams(r, 50)
	if err != nil {
		return err
	}
	res, err := a.reg.ListUsers(r.Context(), principal(r), r.URL.Query().Get("q"), limit, offset)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

func (a *API) adminUpdateUser(w http.ResponseWriter, r *http.Request) error {
	var c registry.UserChange
	if err := decodeJSON(w, r, &c); err != nil {
		return err
	}
	u, err := a.reg.UpdateUser(r.Context(), principal(r), r.PathValue("username"), c, clientIP(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

func (a *API) adminAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, offset, err := pageParams(r, 50)
	if err != nil {
		return err
	}
	page, err := a.reg.Audit(r.Context(), principal(r), store.AuditFilter{
		Actor: q.Get("actor"), Package: q.Get("package"), Action: q.Get("action"), Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	out := auditPage{Events: make([]auditEvent, 0, len(page.Events)), Total: page.Total}
	for _, e := range page.Events {
		ae := auditEvent{ID: e.ID, At: e.At.UTC(), Actor: e.Actor, IP: e.IP, Action: e.Action,
			Package: e.Package, Target: e.Target, Outcome: e.Outcome, Detail: e.Detail}
		if e.ActorID != 0 {
			ae.ActorID = &e.ActorID
		}
		out.Events = append(out.Events, ae)
	}
	return writeJSON(w, http.StatusOK, out)
}

// auditPage is the answer of GET /api/admin/audit.
type auditPage struct {
	Events []auditEvent `json:"events"`
	Total  int          `json:"total"`
}

// auditEvent is one audit log entry on the wire; actor_id is null for
// anonymous requests.
type auditEvent struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	ActorID *int64    `json:"actor_id"`
	Actor   string    `json:"actor"`
	IP      string    `json:"ip"`
	Action  string    `json:"action"`
	Package string    `json:"package"`
	Target  string    `json:"target"`
	Outcome string    `json:"outcome"`
	Detail  string    `json:"detail"`
}

// adminPackage answers GET /api/admin/packages/{name}: the package's git
// and mirror state, for admins.
func (a *API) adminPackage(w http.ResponseWriter, r *http.Request) error {
	if err := a.requireAdminPath(r); err != nil {
		return err
	}
	st, err := a.reg.PackageGitState(r.Context(), principal(r), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}
