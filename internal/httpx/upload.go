package httpx

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/dryad-lang/registry/internal/config"
	"github.com/dryad-lang/registry/internal/errs"
)

// MultipartOverhead is what multipart framing and the fields before the
// archive may add to an upload's size beyond the archive itself.
const MultipartOverhead = 64 << 10

// maxFieldValue bounds a multipart field before the archive (a CSRF token).
const maxFieldValue = 256

// ArchiveUpload reads the package archive of an upload request, streaming:
// nothing is held in memory but the small fields before the archive. Both
// the API and the web upload page read uploads through it.
type ArchiveUpload struct {
	// Max is the largest archive accepted, in bytes.
	Max int64
	// Raw accepts the archive as the whole body (Content-Type
	// application/gzip, application/octet-stream, or none) besides the
	// multipart field "package".
	Raw bool
	// Field, when set, sees every multipart field that comes before the
	// archive, its value cut at 256 bytes; an error refuses the upload.
	// Before the "package" field it is called once more with name "" so
	// that a required field can be missed.
	Field func(name, value string) error
}

// Open checks the request's size and type and returns the archive to read.
// Content-Length over the limit is refused before reading; a body that
// turns out larger fails its reads, which Failed turns into a 413. Either
// way the connection is closed rather than drained.
func (u ArchiveUpload) Open(w http.ResponseWriter, r *http.Request) (io.ReadCloser, error) {
	if r.ContentLength > u.Max+MultipartOverhead {
		w.Header().Set("Connection", "close")
		return nil, errs.Errorf(errs.TooLarge, "the archive is %s, over the limit: the largest accepted is %s", config.HumanSize(r.ContentLength), config.HumanSize(u.Max))
	}
	body := http.MaxBytesReader(w, r.Body, u.Max+MultipartOverhead)
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil && ct != "" {
		return nil, errs.New(errs.Invalid, "malformed Content-Type header")
	}
	switch {
	case mt == "multipart/form-data":
		part, err := u.packagePart(body, params["boundary"])
		if err != nil {
			w.Header().Set("Connection", "close")
			return nil, u.Failed(w, err)
		}
		return part, nil
	case !u.Raw:
		return nil, errs.New(errs.Invalid, `send the archive as the multipart/form-data field "package"`)
	case mt == "application/gzip", mt == "application/x-gzip", mt == "application/octet-stream",
		mt == "application/x-tar+gzip", mt == "application/x-compressed-tar", mt == "":
		return body, nil
	}
	return nil, errs.Errorf(errs.Invalid, "Content-Type %q: send the .tar.gz as application/gzip, or as the multipart field \"package\"", mt)
}

// packagePart finds the multipart part named "package", streaming: parts
// before it are shown to Field and skipped.
func (u ArchiveUpload) packagePart(body io.Reader, boundary string) (*multipart.Part, error) {
	if boundary == "" {
		return nil, errs.New(errs.Invalid, "multipart upload without a boundary")
	}
	mr := multipart.NewReader(body, boundary)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, errs.New(errs.Invalid, `the upload has no file in the field "package"; put the .tar.gz in it`)
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, err
			}
			return nil, errs.Errorf(errs.Invalid, "malformed multipart upload: %v", err)
		}
		if part.FormName() != "package" {
			if u.Field != nil {
				v, _ := io.ReadAll(io.LimitReader(part, maxFieldValue))
				if err := u.Field(part.FormName(), string(v)); err != nil {
					part.Close()
					return nil, err
				}
			}
			part.Close()
			continue
		}
		if u.Field != nil {
			if err := u.Field("", ""); err != nil {
				part.Close()
				return nil, err
			}
		}
		fn := part.FileName()
		if fn == "" && !u.Raw {
			part.Close()
			return nil, errs.New(errs.Invalid, "choose a .tar.gz or .tgz file to upload")
		}
		if l := strings.ToLower(fn); fn != "" && !strings.HasSuffix(l, ".tar.gz") && !strings.HasSuffix(l, ".tgz") {
			part.Close()
			return nil, errs.Errorf(errs.Invalid, "%q is not a .tar.gz or .tgz file; pack the package folder with tar czf", fn)
		}
		return part, nil
	}
}

// Failed turns an error met while reading the upload into its answer: a
// body over the limit is a 413 (and the connection is closed rather than
// drained), anything else is err.
func (u ArchiveUpload) Failed(w http.ResponseWriter, err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		w.Header().Set("Connection", "close")
		return errs.Errorf(errs.TooLarge, "the archive is larger than the limit of %s", config.HumanSize(u.Max))
	}
	if errs.KindOf(err) == errs.TooLarge {
		w.Header().Set("Connection", "close")
	}
	return err
}
