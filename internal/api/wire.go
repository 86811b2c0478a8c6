package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/dryad-lang/registry/internal/httpx"
	"github.com/dryad-lang/registry/internal/registry"
)

// The API's wire format: every answer is one of these, with snake_case
// fields and RFC 3339 times (a test walks every route to keep it so), built
// from the registry's read models by the functions beside them.

var errMalformed = errors.New("malformed cache entry")

// baseURL is the registry's address as the client should use it in links.
func baseURL(r *http.Request) string { return httpx.ClientOf(r).BaseURL }

type userJSON struct {
	ID          int64      `json:"id"`
	Username    string     `json:"username"`
	Email       string     `json:"email"`
	FullName    string     `json:"full_name"`
	Role        string     `json:"role"`
	Disabled    bool       `json:"disabled"`
	CreatedAt   time.Time  `json:"created_at"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
}

func newUserJSON(u *registry.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, Email: u.Email, FullName: u.FullName, Role: u.Role,
		Disabled: u.Disabled, CreatedAt: u.CreatedAt, LastLoginAt: u.LastLoginAt}
}

type loginJSON struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      userJSON  `json:"user"`
}

type userListJSON struct {
	Users []userJSON `json:"users"`
	Total int        `json:"total"`
}

type tokenJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	Packages   []string   `json:"packages"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
}

func newTokenJSON(t *registry.Token) tokenJSON {
	return tokenJSON{ID: t.ID, Name: t.Name, Scopes: t.Scopes, Packages: t.Packages, CreatedAt: t.CreatedAt,
		LastUsedAt: t.LastUsedAt, ExpiresAt: t.ExpiresAt}
}

// newTokenAnswer is a token just created: the only answer with its secret.
type newTokenAnswer struct {
	tokenJSON
	Token string `json:"token"`
}

type summaryJSON struct {
	Name        string    `json:"name"`
	Version     string    `json:"version"`
	Description string    `json:"description"`
	Keywords    []string  `json:"keywords"`
	License     string    `json:"license,omitempty"`
	Downloads   int64     `json:"downloads"`
	UpdatedAt   time.Time `json:"updated_at"`
}

type searchJSON struct {
	Packages []summaryJSON `json:"packages"`
	Total    int           `json:"total"`
	Limit    int           `json:"limit"`
	Offset   int           `json:"offset"`
	HasMore  bool          `json:"has_more"`
}

func newSearchJSON(r *registry.SearchResult) searchJSON {
	out := searchJSON{Packages: make([]summaryJSON, len(r.Packages)), Total: r.Total, Limit: r.Limit, Offset: r.Offset, HasMore: r.HasMore}
	for i, p := range r.Packages {
		out.Packages[i] = summaryJSON{Name: p.Name, Version: p.Version, Description: p.Description, Keywords: p.Keywords,
			License: p.License, Downloads: p.Downloads, UpdatedAt: p.UpdatedAt}
	}
	return out
}

type dayJSON struct {
	Day       string `json:"day"`
	Downloads int64  `json:"downloads"`
}

func newDaysJSON(days []registry.DayCount) []dayJSON {
	out := make([]dayJSON, len(days))
	for i, d := range days {
		out[i] = dayJSON{Day: d.Day, Downloads: d.Downloads}
	}
	return out
}

type versionStatsJSON struct {
	Version string    `json:"version"`
	Total   int64     `json:"total"`
	Daily   []dayJSON `json:"daily"`
}

type statsJSON struct {
	Name     string             `json:"name"`
	Total    int64              `json:"total"`
	Since    string             `json:"since"`
	Daily    []dayJSON          `json:"daily"`
	Versions []versionStatsJSON `json:"versions"`
}

func newStatsJSON(st *registry.PackageStats) statsJSON {
	out := statsJSON{Name: st.Name, Total: st.Total, Since: st.Since, Daily: newDaysJSON(st.Daily), Versions: []versionStatsJSON{}}
	for _, v := range st.Versions {
		out.Versions = append(out.Versions, versionStatsJSON{Version: v.Version, Total: v.Total, Daily: newDaysJSON(v.Daily)})
	}
	return out
}

type diffJSON struct {
	Name         string                 `json:"name"`
	From         string                 `json:"from"`
	To           string                 `json:"to"`
	Files        []fileChangeJSON       `json:"files"`
	Unchanged    int                    `json:"unchanged"`
	Manifest     []fieldChangeJSON      `json:"manifest"`
	Dependencies []dependencyChangeJSON `json:"dependencies"`
}

type fileChangeJSON struct {
	Path        string `json:"path"`
	Change      string `json:"change"`
	OldSize     *int64 `json:"old_size"`
	NewSize     *int64 `json:"new_size"`
	ModeChanged bool   `json:"mode_changed"`
	Binary      bool   `json:"binary"`
}

type fieldChangeJSON struct {
	Field string  `json:"field"`
	Old   *string `json:"old"`
	New   *string `json:"new"`
}

type dependencyChangeJSON struct {
	Name   string  `json:"name"`
	Dev    bool    `json:"dev"`
	Change string  `json:"change"`
	Old    *string `json:"old"`
	New    *string `json:"new"`
}

// newDiffJSON writes a diff; what one side lacks is null.
func newDiffJSON(d *registry.VersionDiff) diffJSON {
	out := diffJSON{Name: d.Package, From: d.From, To: d.To, Unchanged: d.Unchanged,
		Files: []fileChangeJSON{}, Manifest: []fieldChangeJSON{}, Dependencies: []dependencyChangeJSON{}}
	orNil := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	for _, f := range d.Files {
		c := fileChangeJSON{Path: f.Path, Change: string(f.Kind), ModeChanged: f.ModeChanged, Binary: f.Binary}
		if f.Kind != registry.FileAdded {
			c.OldSize = &f.OldSize
		}
		if f.Kind != registry.FileRemoved {
			c.NewSize = &f.NewSize
		}
		out.Files = append(out.Files, c)
	}
	for _, m := range d.Manifest {
		out.Manifest = append(out.Manifest, fieldChangeJSON{Field: m.Field, Old: orNil(m.Old), New: orNil(m.New)})
	}
	for _, dep := range d.Dependencies {
		change := "changed"
		switch {
		case dep.Old == "":
			change = "added"
		case dep.New == "":
			change = "removed"
		}
		out.Dependencies = append(out.Dependencies, dependencyChangeJSON{Name: dep.Name, Dev: dep.Dev, Change: change, Old: orNil(dep.Old), New: orNil(dep.New)})
	}
	return out
}

type totalsJSON struct {
	Packages  int64 `json:"packages"`
	Versions  int64 `json:"versions"`
	Users     int64 `json:"users"`
	Downloads int64 `json:"downloads"`
}

type versionListJSON struct {
	Name     string       `json:"name"`
	Versions []versionDoc `json:"versions"`
}

type historyJSON struct {
	Name   string      `json:"name"`
	Events []eventJSON `json:"events"`
	Total  int         `json:"total"`
}

type eventJSON struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	Actor  string    `json:"actor"`
	Target string    `json:"target"`
}

func newHistoryJSON(h *registry.HistoryPage) historyJSON {
	out := historyJSON{Name: h.Name, Events: make([]eventJSON, len(h.Events)), Total: h.Total}
	for i, e := range h.Events {
		out.Events[i] = eventJSON{At: e.At, Action: e.Action, Actor: e.Actor, Target: e.Target}
	}
	return out
}

type ownerJSON struct {
	Username string    `json:"username"`
	AddedAt  time.Time `json:"added_at"`
}

type ownerListJSON struct {
	Name   string      `json:"name"`
	Owners []ownerJSON `json:"owners"`
}

func newOwnerListJSON(l *registry.OwnerList) ownerListJSON {
	out := ownerListJSON{Name: l.Name, Owners: make([]ownerJSON, len(l.Owners))}
	for i, o := range l.Owners {
		out.Owners[i] = ownerJSON{Username: o.Username, AddedAt: o.AddedAt}
	}
	return out
}

type gitStateJSON struct {
	Name           string     `json:"name"`
	Latest         string     `json:"latest"`
	LatestCommit   string     `json:"latest_commit"`
	Mirrored       bool       `json:"mirrored"`
	MirrorPushedAt *time.Time `json:"mirror_pushed_at"`
	MirrorError    string     `json:"mirror_error"`
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

func newAuditPage(page *registry.AuditPage) auditPage {
	out := auditPage{Events: make([]auditEvent, 0, len(page.Events)), Total: page.Total}
	for _, e := range page.Events {
		ae := auditEvent{ID: e.ID, At: e.At, Actor: e.Actor, IP: e.IP, Action: e.Action,
			Package: e.Package, Target: e.Target, Outcome: e.Outcome, Detail: e.Detail}
		if e.ActorID != 0 {
			id := e.ActorID
			ae.ActorID = &id
		}
		out.Events = append(out.Events, ae)
	}
	return out
}

// publishedJSON is the 201 answer of a publish.
type publishedJSON struct {
	Name        string    `json:"name"`
	Version     string    `json:"version"`
	Checksum    string    `json:"checksum"`
	FileSize    int64     `json:"file_size"`
	Files       int       `json:"files"`
	Latest      string    `json:"latest"`
	PublishedAt time.Time `json:"published_at"`
	DownloadURL string    `json:"download_url"`
	URL         string    `json:"url"`
	Message     string    `json:"message"`
}

// deletedJSON answers a deletion.
type deletedJSON struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Deleted string `json:"deleted"`
}

type impactJSON struct {
	Name string `json:"name"`
	// Version is null for a whole-package delete.
	Version          *string           `json:"version"`
	Action           string            `json:"action"`
	AffectedVersions int               `json:"affected_versions"`
	AffectedPackages int               `json:"affected_packages"`
	Truncated        bool              `json:"truncated"`
	Entries          []impactEntryJSON `json:"entries"`
}

type impactEntryJSON struct {
	Package string `json:"package"`
	Version string `json:"version"`
	Range   string `json:"range"`
	From    string `json:"from"`
	// To is null when no version would satisfy the range any more.
	To     *string  `json:"to"`
	Owners []string `json:"owners"`
}

func newImpactJSON(i *registry.Impact) impactJSON {
	out := impactJSON{Name: i.Package, Action: string(i.Action), AffectedVersions: i.Versions, AffectedPackages: i.Packages,
		Truncated: i.Truncated(), Entries: make([]impactEntryJSON, len(i.Entries))}
	if i.Version != "" {
		out.Version = &i.Version
	}
	for k, e := range i.Entries {
		j := impactEntryJSON{Package: e.Package, Version: e.Version, Range: e.Range, From: e.From, Owners: e.Owners}
		if !e.Unresolvable() {
			j.To = &i.Entries[k].To
		}
		out.Entries[k] = j
	}
	return out
}
