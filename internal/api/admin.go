package api

import (
	"net/http"

	"github.com/dryad-lang/registry/internal/registry"
)

func (a *API) adminUsers(w http.ResponseWriter, r *http.Request) error {
	limit, offset, err := pageParams(r, 50)
	if err != nil {
		return err
	}
	res, err := a.reg.ListUsers(r.Context(), principal(r), r.URL.Query().Get("q"), limit, offset)
	if err != nil {
		return err
	}
	out := userListJSON{Users: make([]userJSON, len(res.Users)), Total: res.Total}
	for i := range res.Users {
		out.Users[i] = newUserJSON(&res.Users[i])
	}
	return writeJSON(w, http.StatusOK, out)
}

// userChangeBody is an admin's change to an account; absent fields stay.
type userChangeBody struct {
	Disabled *bool   `json:"disabled"`
	Role     *string `json:"role"`
}

func (a *API) adminUpdateUser(w http.ResponseWriter, r *http.Request) error {
	var b userChangeBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	u, err := a.reg.UpdateUser(r.Context(), principal(r), r.PathValue("username"), registry.UserChange{Disabled: b.Disabled, Role: b.Role}, clientIP(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newUserJSON(u))
}

func (a *API) adminAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, offset, err := pageParams(r, 50)
	if err != nil {
		return err
	}
	page, err := a.reg.Audit(r.Context(), principal(r), registry.AuditQuery{
		Actor: q.Get("actor"), Package: q.Get("package"), Action: q.Get("action"), Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newAuditPage(page))
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
	return writeJSON(w, http.StatusOK, gitStateJSON{Name: st.Name, Latest: st.Latest, LatestCommit: st.LatestCommit,
		Mirrored: st.Mirrored, MirrorPushedAt: st.MirrorPushedAt, MirrorError: st.MirrorError})
}
