package api

import (
	"net/http"
	"strings"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/registry"
)

func (a *API) versions(w http.ResponseWriter, r *http.Request) error {
	p, err := a.reg.Package(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	base := baseURL(r)
	out := versionListJSON{Name: p.Name, Versions: make([]versionDoc, len(p.Versions))}
	for i := range p.Versions {
		out.Versions[i] = standalone(base, &p.Versions[i])
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) version(w http.ResponseWriter, r *http.Request) error {
	v, err := a.reg.Version(r.Context(), r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, standalone(baseURL(r), v))
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
	return writeJSON(w, http.StatusOK, standalone(baseURL(r), v))
}

// versionImpact serves GET /api/packages/{name}/versions/{version}/impact
// and packageImpact GET /api/packages/{name}/impact: what yanking or
// deleting would change for other packages. They are public like the
// dependents list of a package page: dependents, their ranges and their
// owners are public already, and users of a package may want to know
// what its owners' yank would do to them.
func (a *API) versionImpact(w http.ResponseWriter, r *http.Request) error {
	action := r.URL.Query().Get("action")
	if action == "" {
		return errs.New(errs.Invalid, "say which change to preview: ?action=yank or ?action=delete")
	}
	return a.impact(w, r, r.PathValue("version"), action)
}

func (a *API) packageImpact(w http.ResponseWriter, r *http.Request) error {
	action := r.URL.Query().Get("action")
	if action != "" && action != string(registry.ImpactDelete) {
		return errs.Errorf(errs.Invalid, "action %q: a whole package can only be deleted (action=delete or none); yanks apply to versions", action)
	}
	return a.impact(w, r, "", string(registry.ImpactDelete))
}

func (a *API) impact(w http.ResponseWriter, r *http.Request, version, action string) error {
	limit, err := intParam(r, "limit", registry.DefaultImpactLimit)
	if err != nil {
		return err
	}
	if limit < 1 || limit > registry.MaxImpactLimit {
		return errs.Errorf(errs.Invalid, "limit must be 1 to %d", registry.MaxImpactLimit)
	}
	imp, err := a.reg.Impact(r.Context(), registry.ImpactQuery{Name: r.PathValue("name"), Version: version,
		Action: registry.ImpactAction(action), Limit: limit})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newImpactJSON(imp))
}

func (a *API) stats(w http.ResponseWriter, r *http.Request) error {
	st, err := a.reg.Stats(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newStatsJSON(st))
}

// diff serves GET /api/packages/{name}/diff/{from}/{to}: the files and
// dependencies that changed between two versions (no line diffs; the web
// page shows them).
func (a *API) diff(w http.ResponseWriter, r *http.Request) error {
	d, err := a.reg.DiffVersions(r.Context(), r.PathValue("name"), r.PathValue("from"), r.PathValue("to"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newDiffJSON(d))
}

func (a *API) totals(w http.ResponseWriter, r *http.Request) error {
	t, err := a.reg.Totals(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, totalsJSON{Packages: t.Packages, Versions: t.Versions, Users: t.Users, Downloads: t.Downloads})
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
	return writeJSON(w, http.StatusOK, newHistoryJSON(page))
}

func (a *API) search(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, offset, err := pageParams(r, 20)
	if err != nil {
		return err
	}
	res, err := a.reg.Find(r.Context(), registry.SearchQuery{Text: q.Get("q"), Keyword: q.Get("keyword"),
		Owner: q.Get("owner"), Updated: q.Get("updated"), Sort: q.Get("sort"), Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newSearchJSON(res))
}

func (a *API) yank(w http.ResponseWriter, r *http.Request) error   { return a.setYanked(w, r, true) }
func (a *API) unyank(w http.ResponseWriter, r *http.Request) error { return a.setYanked(w, r, false) }

func (a *API) setYanked(w http.ResponseWriter, r *http.Request, yanked bool) error {
	v, err := a.reg.SetYanked(r.Context(), principal(r), r.PathValue("name"), r.PathValue("version"), yanked, clientIP(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, standalone(baseURL(r), v))
}

func (a *API) deleteVersion(w http.ResponseWriter, r *http.Request) error {
	if err := a.requireAdminPath(r); err != nil {
		return err
	}
	v, err := a.reg.DeleteVersion(r.Context(), principal(r), r.PathValue("name"), r.PathValue("version"), clientIP(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, deletedJSON{Name: v.Package, Version: v.Version, Deleted: v.Package + "@" + v.Version})
}

func (a *API) deletePackage(w http.ResponseWriter, r *http.Request) error {
	if err := a.requireAdminPath(r); err != nil {
		return err
	}
	canonical, err := a.reg.DeletePackage(r.Context(), principal(r), r.PathValue("name"), clientIP(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, deletedJSON{Name: canonical, Deleted: canonical})
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
	return writeJSON(w, http.StatusOK, newOwnerListJSON(ol))
}

func (a *API) addOwners(w http.ResponseWriter, r *http.Request) error {
	return a.changeOwners(w, r, true)
}
func (a *API) removeOwners(w http.ResponseWriter, r *http.Request) error {
	return a.changeOwners(w, r, false)
}

func (a *API) changeOwners(w http.ResponseWriter, r *http.Request, add bool) error {
	var b usersBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	change := a.reg.RemoveOwners
	if add {
		change = a.reg.AddOwners
	}
	ol, err := change(r.Context(), principal(r), r.PathValue("name"), b.Users, clientIP(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newOwnerListJSON(ol))
}
