package web

import (
	"net/http"
	"strings"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/httpx"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/textdiff"
)

// The diff page: what changed between two versions of a package. Its
// address is /packages/{name}/{from}/diff/{to}, a page below the older
// version's like its files. (/packages/{name}/diff/{from}/{to} cannot be
// routed: it overlaps /packages/{name}/{version}/files/{path...} for a
// path such as /packages/x/diff/files/y, and neither pattern is more
// specific.)

// diffURL is the address of the diff page from one version to another.
func diffURL(name, from, to string) string {
	return versionURL(name, from) + "/diff/" + pathEscape(to)
}

type diffData struct {
	*registry.VersionDiff
	// Versions are the package's versions, newest first, for the form.
	Versions []versionView
	Added    int
	Removed  int
	Changed  int
	// Lines counts the lines added and removed in the diffs shown.
	LinesAdded   int
	LinesRemoved int
}

// diffForm serves GET /packages/{name}/diff?from=&to=, the version
// selector's target: it sends the visitor to the diff page.
func (w *Web) diffForm(rw http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	from, to := strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to"))
	if from == "" || to == "" {
		return errs.Errorf(errs.Invalid, "choose two versions to compare: from=%q and to=%q, e.g. ?from=1.2.0&to=1.3.0", from, to)
	}
	httpx.Redirect(rw, r, diffURL(r.PathValue("name"), from, to), http.StatusSeeOther)
	return nil
}

// diffPage serves GET /packages/{name}/{from}/diff/{to}.
func (w *Web) diffPage(rw http.ResponseWriter, r *http.Request) error {
	name, from, to := r.PathValue("name"), r.PathValue("from"), r.PathValue("to")
	d, err := w.reg.DiffVersions(r.Context(), name, from, to)
	if err != nil {
		return err
	}
	if d.Package != name || d.From != from || d.To != to {
		httpx.Redirect(rw, r, diffURL(d.Package, d.From, d.To), http.StatusMovedPermanently)
		return nil
	}
	view, err := w.packagePageView(r.Context(), name, "")
	var versions []versionView
	if err == nil {
		versions = view.Versions
	}
	data := diffData{VersionDiff: d, Versions: versions}
	for _, f := range d.Files {
		switch f.Kind {
		case registry.FileAdded:
			data.Added++
		case registry.FileRemoved:
			data.Removed++
		default:
			data.Changed++
		}
		for _, h := range f.Hunks {
			for _, l := range h.Lines {
				switch l.Op {
				case textdiff.Insert:
					data.LinesAdded++
				case textdiff.Delete:
					data.LinesRemoved++
				}
			}
		}
	}
	title := d.Package + " " + d.From + " → " + d.To
	desc := "What changed in " + d.Package + " from " + d.From + " to " + d.To + ": files, manifest and dependencies"
	w.render(rw, r, http.StatusOK, "diff", meta{Title: title, Description: desc}, data)
	return nil
}

// diffLineClass and diffLineMark show a line of a diff.
func diffLineClass(op textdiff.Op) string {
	switch op {
	case textdiff.Insert:
		return "add"
	case textdiff.Delete:
		return "del"
	}
	return "ctx"
}

func diffLineMark(op textdiff.Op) string {
	return string(" -+"[op])
}

// diffFormURL is the selector form's address.
func diffFormURL(name string) string { return packageURL(name) + "/diff" }
