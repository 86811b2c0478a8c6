package api

import (
	"io"
	"net/http"
	"time"

	"github.com/dryad-lang/registry/internal/blob"
	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/httpx"
	"github.com/dryad-lang/registry/internal/registry"
)

// upload answers POST /api/upload: the archive is either the multipart
// field "package" (the web form) or the whole body (application/gzip or
// application/octet-stream). It is streamed to the registry, never held in
// memory; the server's middleware bounds it by UPLOAD_TIMEOUT.
func (a *API) upload(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if p == nil {
		return errs.New(errs.Unauthenticated, "send Authorization: Bearer <login token or API token> to publish")
	}
	up := httpx.ArchiveUpload{Max: a.reg.MaxPackageSize(), Raw: true}
	body, err := up.Open(w, r)
	if err != nil {
		return err
	}
	defer body.Close()
	pub, err := a.reg.Publish(r.Context(), p, body, clientIP(r))
	if err != nil {
		return up.Failed(w, err)
	}
	base := baseURL(r)
	return writeJSON(w, http.StatusCreated, publishedJSON{
		Name: pub.Package, Version: pub.Version, Checksum: pub.Checksum, FileSize: pub.Size, Files: pub.Files,
		Latest: pub.Latest, PublishedAt: pub.Published, DownloadURL: downloadURL(base, pub.Package, pub.Version),
		URL: base + "/packages/" + pub.Package, Message: "published " + pub.Package + "@" + pub.Version,
	})
}

// Download serves GET and HEAD /packages/{name}/{version}.tar.gz: the
// stored canonical archive with a strong ETag (its SHA-256), Range support
// and an immutable Cache-Control, or, when downloads are redirected to the
// archive store (S3_REDIRECT_DOWNLOADS), a 302 to a short-lived URL there.
// Yanked versions stay downloadable; deleted ones answer 410. Downloads
// are counted either way.
func (a *API) Download(w http.ResponseWriter, r *http.Request, name, version string) {
	if err := a.download(w, r, name, version); err != nil {
		a.WriteError(w, r, err)
	}
}

func (a *API) download(w http.ResponseWriter, r *http.Request, name, version string) error {
	ref, err := a.reg.LookupArchive(r.Context(), name, version)
	if err != nil {
		return err
	}
	etag := `"` + ref.Checksum + `"`
	counted := r.Method == http.MethodGet && r.Header.Get("Range") == "" && !etagMatches(r.Header.Get("If-None-Match"), etag)
	to, err := a.reg.ArchiveURL(r.Context(), ref)
	if err != nil {
		return err
	}
	if to != "" {
		return a.redirectDownload(w, r, ref, etag, to, counted)
	}
	f, err := a.reg.OpenArchive(r.Context(), ref)
	if err != nil {
		return err
	}
	defer f.Close()
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Type", "application/gzip")
	h.Set("Content-Disposition", `attachment; filename="`+ref.Package+"-"+ref.Version+`.tar.gz"`)
	h.Set("X-Checksum-SHA256", ref.Checksum)
	if ref.Yanked {
		h.Set("X-Yanked", "true")
	}
	if counted {
		a.reg.CountDownload(r.Context(), ref)
	}
	var content io.ReadSeeker = f
	if o, ok := f.(blob.OSFile); ok {
		content = o.OS()
	}
	http.ServeContent(w, r, "", time.Time{}, content)
	return nil
}

// redirectDownload answers a download with a 302 to the archive's URL in
// the archive store. The URL expires, so the redirect itself is never
// cached; a client that has the archive already (If-None-Match) gets its
// 304 here without being sent away.
func (a *API) redirectDownload(w http.ResponseWriter, r *http.Request, ref *registry.ArchiveRef, etag, to string, counted bool) error {
	h := w.Header()
	h.Set("X-Checksum-SHA256", ref.Checksum)
	if ref.Yanked {
		h.Set("X-Yanked", "true")
	}
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		h.Set("ETag", etag)
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if counted {
		a.reg.CountDownload(r.Context(), ref)
	}
	h.Set("Cache-Control", "no-store")
	http.Redirect(w, r, to, http.StatusFound)
	return nil
}
