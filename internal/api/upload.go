package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
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
	var small []byte
	var f blob.File
	if a.opts.Archives != nil && ref.Size <= maxCachedArchive {
		if small, err = a.smallArchive(r.Context(), ref); err != nil {
			return err
		}
	} else {
		if f, err = a.reg.OpenArchive(r.Context(), ref); err != nil {
			return err
		}
		defer f.Close()
	}
	// Header values the registry never changes are shared slices, set
	// directly: Header.Set would allocate and canonicalize each time.
	h := w.Header()
	h["Etag"] = []string{etag}
	h["Cache-Control"] = immutableValue
	h["Content-Type"] = gzipType
	h["Content-Disposition"] = []string{`attachment; filename="` + ref.Package + "-" + ref.Version + `.tar.gz"`}
	h["X-Checksum-Sha256"] = []string{ref.Checksum}
	if ref.Yanked {
		h["X-Yanked"] = yes
	}
	if counted {
		a.reg.CountDownload(r.Context(), ref)
	}
	if small != nil {
		if plainRequest(r) {
			// What nearly every install sends: the whole archive, written
			// at once, without ServeContent's range and condition work.
			h["Accept-Ranges"] = bytesUnit
			h["Content-Length"] = []string{strconv.Itoa(len(small))}
			w.WriteHeader(http.StatusOK)
			if r.Method != http.MethodHead {
				w.Write(small)
			}
			return nil
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(small))
		return nil
	}
	var content io.ReadSeeker = f
	if o, ok := f.(blob.OSFile); ok {
		content = o.OS()
	}
	http.ServeContent(w, r, "", time.Time{}, content)
	return nil
}

var (
	immutableValue = []string{"public, max-age=31536000, immutable"}
	gzipType       = []string{"application/gzip"}
	yes            = []string{"true"}
	bytesUnit      = []string{"bytes"}
)

// maxCachedArchive is the largest archive kept in Options.Archives: most
// packages are smaller, and past this size the request's cost is the
// transfer, which sendfile already makes cheap.
const maxCachedArchive = 64 << 10

// smallArchive returns the bytes of a small archive from the in-process
// archive cache, reading them from the archive store on a miss. Archives
// are content-addressed and immutable, so an entry never goes stale; a
// deleted version is refused by LookupArchive before this is reached.
func (a *API) smallArchive(ctx context.Context, ref *registry.ArchiveRef) ([]byte, error) {
	key := "archive:" + ref.Checksum
	if b, ok, _ := a.opts.Archives.Get(ctx, key); ok {
		return b, nil
	}
	f, err := a.reg.OpenArchive(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if f.Size() > maxCachedArchive {
		return nil, errs.Errorf(errs.Internal, "the archive of %s@%s is %d bytes, not the %d recorded", ref.Package, ref.Version, f.Size(), ref.Size)
	}
	b := make([]byte, f.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "reading the archive of "+ref.Package+"@"+ref.Version)
	}
	a.opts.Archives.Set(ctx, key, b, 0)
	return b, nil
}

// plainRequest reports whether r asks for the whole archive with no
// condition: no Range and no validator that http.ServeContent would check
// (If-Modified-Since is moot, archives have no modification time).
func plainRequest(r *http.Request) bool {
	for _, k := range []string{"Range", "If-None-Match", "If-Match", "If-Range", "If-Unmodified-Since"} {
		if _, ok := r.Header[k]; ok {
			return false
		}
	}
	return true
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
