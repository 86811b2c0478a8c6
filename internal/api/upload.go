package api

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/dryad-lang/registry/internal/blob"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/httpx"
	"github.com/dryad-lang/registry/internal/registry"
)

// multipartOverhead is what multipart framing may add to an upload's
// Content-Length beyond the archive itself.
const multipartOverhead = 64 << 10

// upload answers POST /api/upload: the archive is either the multipart
// field "package" (the web form) or the whole body (application/gzip or
// application/octet-stream). It is streamed to the registry, never held in
// memory.
func (a *API) upload(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p == nil {
		return errs.New(errs.Unauthenticated, "send Authorization: Bearer <login token or API token> to publish")
	}
	max := a.reg.MaxPackageSize()
	if r.ContentLength > max+multipartOverhead {
		// Refuse before reading: the client learns at once, and the
		// connection is closed rather than drained.
		w.Header().Set("Connection", "close")
		return errs.Errorf(errs.TooLarge, "package archive is %d bytes; the limit is %d bytes", r.ContentLength, max)
	}
	// The whole upload, body and processing, must finish in UPLOAD_TIMEOUT.
	deadline := time.Now().Add(a.opts.UploadTimeout)
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(deadline)
	rc.SetWriteDeadline(deadline.Add(10 * time.Second))
	ctx, cancel := context.WithDeadline(r.Context(), deadline)
	defer cancel()
	body := http.MaxBytesReader(w, r.Body, max+multipartOverhead)

	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil && r.Header.Get("Content-Type") != "" {
		return errs.New(errs.Invalid, "malformed Content-Type header")
	}
	var src io.Reader
	switch mt {
	case "multipart/form-data":
		part, err := packagePart(body, params["boundary"])
		if err != nil {
			return err
		}
		defer part.Close()
		src = part
	case "application/gzip", "application/x-gzip", "application/octet-stream", "application/x-tar+gzip", "application/x-compressed-tar", "":
		src = body
	default:
		return errs.Errorf(errs.Invalid, "Content-Type %q: send the .tar.gz as application/gzip, or as the multipart field \"package\"", mt)
	}
	pub, err := a.reg.Publish(ctx, p, src, httpx.ClientOf(r).IP)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			w.Header().Set("Connection", "close")
			return errs.Errorf(errs.TooLarge, "package archive is larger than the limit of %d bytes", max)
		}
		if errs.KindOf(err) == errs.TooLarge {
			w.Header().Set("Connection", "close")
		}
		return err
	}
	base := httpx.ClientOf(r).BaseURL
	return writeJSON(w, http.StatusCreated, map[string]any{
		"name":         pub.Package,
		"version":      pub.Version,
		"checksum":     pub.Checksum,
		"file_size":    pub.Size,
		"files":        pub.Files,
		"latest":       pub.Latest,
		"published_at": pub.Published,
		"download_url": base + "/packages/" + pub.Package + "/" + pub.Version + ".tar.gz",
		"url":          base + "/packages/" + pub.Package,
		"message":      "published " + pub.Package + "@" + pub.Version,
	})
}

// packagePart finds the multipart part named "package", streaming: parts
// before it are skipped without being kept.
func packagePart(body io.Reader, boundary string) (*multipart.Part, error) {
	if boundary == "" {
		return nil, errs.New(errs.Invalid, "multipart upload without a boundary")
	}
	mr := multipart.NewReader(body, boundary)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, errs.New(errs.Invalid, `the multipart upload has no field named "package"; put the .tar.gz in it`)
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, errs.New(errs.TooLarge, "upload larger than the limit")
			}
			return nil, errs.Errorf(errs.Invalid, "malformed multipart upload: %v", err)
		}
		if part.FormName() == "package" {
			if fn := part.FileName(); fn != "" && !strings.HasSuffix(strings.ToLower(fn), ".tar.gz") && !strings.HasSuffix(strings.ToLower(fn), ".tgz") {
				part.Close()
				return nil, errs.Errorf(errs.Invalid, "%q is not a .tar.gz or .tgz file", fn)
			}
			return part, nil
		}
		part.Close()
	}
}

// Download serves GET and HEAD /packages/{name}/{version}.tar.gz: the
// stored canonical archive with a strong ETag (its SHA-256), Range support
// and an immutable Cache-Control. Yanked versions stay downloadable;
// deleted ones answer 410.
func (a *API) Download(w http.ResponseWriter, r *http.Request, name, version string) {
	// Downloads carry no credentials: the install limit counts addresses.
	err := a.limit(r.Context(), w, &a.opts.Limits.Install, "ip:"+clientIP(r))
	if err == nil {
		err = a.download(w, r, name, version)
	}
	if err != nil {
		a.WriteError(w, r, err)
	}
}

func (a *API) download(w http.ResponseWriter, r *http.Request, name, version string) error {
	ref, err := a.reg.LookupArchive(r.Context(), name, version)
	if err != nil {
		return err
	}
	f, err := a.reg.OpenArchive(r.Context(), ref)
	if err != nil {
		return err
	}
	defer f.Close()
	h := w.Header()
	h.Set("ETag", `"`+ref.Checksum+`"`)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Type", "application/gzip")
	h.Set("Content-Disposition", `attachment; filename="`+ref.Package+"-"+ref.Version+`.tar.gz"`)
	h.Set("X-Checksum-SHA256", ref.Checksum)
	if ref.Yanked {
		h.Set("X-Yanked", "true")
	}
	// Slow clients get time for big archives, but not forever.
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(30 * time.Minute))
	if r.Method == http.MethodGet && r.Header.Get("Range") == "" && !etagMatches(r.Header.Get("If-None-Match"), `"`+ref.Checksum+`"`) {
		a.reg.CountDownload(r.Context(), ref)
	}
	var content io.ReadSeeker = f
	if o, ok := f.(blob.OSFile); ok {
		content = o.OS()
	}
	http.ServeContent(w, r, "", time.Time{}, content)
	return nil
}

// RegistryService exposes the service for the server's wiring.
func (a *API) RegistryService() *registry.Service { return a.reg }
