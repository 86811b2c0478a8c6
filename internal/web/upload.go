package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/httpx"
)

type uploadData struct {
	MaxSize int64
	Error   string
}

// uploadForm serves GET /upload.
func (w *Web) uploadForm(rw http.ResponseWriter, r *http.Request) error {
	if _, err := requireUser(r); err != nil {
		return err
	}
	w.render(rw, r, http.StatusOK, "upload", meta{Title: "Upload a package", Description: "Publish a Dryad package from a .tar.gz archive", NoIndex: true},
		uploadData{MaxSize: w.reg.MaxPackageSize()})
	return nil
}

// upload serves POST /upload: the multipart field "package" holds the
// archive, which streams to the registry without being buffered. The CSRF
// token comes in the X-CSRF-Token header (scripts) or in the field "csrf"
// before the archive (a plain form post). Scripts asking for JSON get
// JSON; a plain form post is redirected to the new version's page, or
// shown its error on the upload page.
func (w *Web) upload(rw http.ResponseWriter, r *http.Request) error {
	wantsJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	pub, err := w.publish(rw, r)
	if err != nil {
		kind := errs.KindOf(err)
		if kind == errs.Internal {
			w.log.ErrorContext(r.Context(), "web upload failed", "err", err, "request_id", httpx.RequestID(r.Context()))
		}
		if wantsJSON {
			return writeJSON(rw, kind.Status(), map[string]string{"error": kind.Code(), "message": period(errs.Message(err))})
		}
		if kind == errs.Unauthenticated || kind == errs.Forbidden && errors.Is(err, errCSRF) {
			return err
		}
		w.render(rw, r, kind.Status(), "upload", meta{Title: "Upload a package", NoIndex: true},
			uploadData{MaxSize: w.reg.MaxPackageSize(), Error: period(errs.Message(err))})
		return nil
	}
	msg := "Published " + pub.name + "@" + pub.version + "."
	// The script goes to the package page next, which shows this once.
	setFlash(rw, r, "success", msg)
	if wantsJSON {
		return writeJSON(rw, http.StatusCreated, map[string]string{
			"name": pub.name, "version": pub.version, "url": packageURL(pub.name), "message": msg,
		})
	}
	redirect(rw, r, packageURL(pub.name))
	return nil
}

type published struct{ name, version string }

func (w *Web) publish(rw http.ResponseWriter, r *http.Request) (*published, error) {
	p := stateOf(r).user
	if p == nil {
		return nil, errs.New(errs.Unauthenticated, "your session has ended; sign in again to upload")
	}
	// The CSRF token comes in the header (scripts) or in a field before
	// the archive (a plain form post); the archive is refused without one.
	checked := false
	if tok := r.Header.Get(csrfHeader); tok != "" {
		if err := w.checkSessionCSRF(r, tok); err != nil {
			return nil, err
		}
		checked = true
	}
	up := httpx.ArchiveUpload{Max: w.reg.MaxPackageSize(), Field: func(name, value string) error {
		switch {
		case name == csrfField && !checked:
			if err := w.checkSessionCSRF(r, value); err != nil {
				return err
			}
			checked = true
		case name == "" && !checked:
			return errCSRF
		}
		return nil
	}}
	body, err := up.Open(rw, r)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	pub, err := w.reg.Publish(r.Context(), p, body, httpx.ClientOf(r).IP)
	if err != nil {
		return nil, up.Failed(rw, err)
	}
	return &published{name: pub.Package, version: pub.Version}, nil
}

// writeJSON answers a script.
func writeJSON(rw http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(status)
	rw.Write(append(b, '\n'))
	return nil
}
