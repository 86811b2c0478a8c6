package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/httpx"
)

// multipartOverhead is what multipart framing and the CSRF field may add
// to an upload's size beyond the archive itself.
const multipartOverhead = 64 << 10

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
	maxSize := w.reg.MaxPackageSize()
	if r.ContentLength > maxSize+multipartOverhead {
		// Refused before reading: the connection is closed, not drained.
		rw.Header().Set("Connection", "close")
		return nil, errs.Errorf(errs.TooLarge, "the archive is %s; the largest accepted is %s", formatBytes(r.ContentLength), formatBytes(maxSize))
	}
	// The API's key: one budget per user whichever way they upload.
	if err := w.limit(r.Context(), rw, w.opts.Limits.Upload, "user:"+strconv.FormatInt(p.UserID, 10)); err != nil {
		return nil, err
	}
	// The whole upload, body and processing, must finish in UPLOAD_TIMEOUT.
	deadline := time.Now().Add(w.opts.UploadTimeout)
	rc := http.NewResponseController(rw)
	rc.SetReadDeadline(deadline)
	rc.SetWriteDeadline(deadline.Add(10 * time.Second))
	ctx, cancel := context.WithDeadline(r.Context(), deadline)
	defer cancel()

	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, errs.New(errs.Invalid, `send the archive as the multipart/form-data field "package"`)
	}
	body := http.MaxBytesReader(rw, r.Body, maxSize+multipartOverhead)
	part, err := w.packagePart(r, body, params["boundary"])
	if err != nil {
		rw.Header().Set("Connection", "close")
		return nil, err
	}
	defer part.Close()
	pub, err := w.reg.Publish(ctx, p, part, httpx.ClientOf(r).IP)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) || errs.KindOf(err) == errs.TooLarge {
			rw.Header().Set("Connection", "close")
		}
		if errors.As(err, &tooBig) {
			return nil, errs.Errorf(errs.TooLarge, "the archive is larger than the limit of %s", formatBytes(maxSize))
		}
		return nil, err
	}
	return &published{name: pub.Package, version: pub.Version}, nil
}

// packagePart checks the CSRF token and returns the multipart part holding
// the archive, streaming: nothing before it is kept but the token.
func (w *Web) packagePart(r *http.Request, body io.Reader, boundary string) (*multipart.Part, error) {
	if boundary == "" {
		return nil, errs.New(errs.Invalid, "multipart upload without a boundary")
	}
	checked := false
	if tok := r.Header.Get(csrfHeader); tok != "" {
		if err := w.checkSessionCSRF(r, tok); err != nil {
			return nil, err
		}
		checked = true
	}
	mr := multipart.NewReader(body, boundary)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, errs.New(errs.Invalid, `the upload has no file in the field "package"; choose a .tar.gz file`)
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, errs.New(errs.TooLarge, "the upload is larger than the limit")
			}
			return nil, errs.Errorf(errs.Invalid, "malformed multipart upload: %v", err)
		}
		switch part.FormName() {
		case csrfField:
			if !checked {
				tok, _ := io.ReadAll(io.LimitReader(part, 256))
				if err := w.checkSessionCSRF(r, string(tok)); err != nil {
					part.Close()
					return nil, err
				}
				checked = true
			}
		case "package":
			if !checked {
				part.Close()
				return nil, errCSRF
			}
			fn := strings.ToLower(part.FileName())
			if fn == "" {
				part.Close()
				return nil, errs.New(errs.Invalid, "choose a .tar.gz or .tgz file to upload")
			}
			if !strings.HasSuffix(fn, ".tar.gz") && !strings.HasSuffix(fn, ".tgz") {
				part.Close()
				return nil, errs.Errorf(errs.Invalid, "%q is not a .tar.gz or .tgz file; pack the package folder with tar czf", part.FileName())
			}
			return part, nil
		}
		part.Close()
	}
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
