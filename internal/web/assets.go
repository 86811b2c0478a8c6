package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"time"
)

//go:embed static
var staticFS embed.FS

// asset is one embedded static file, with a hash of its content for URLs
// that change whenever the file does.
type asset struct {
	data  []byte
	hash  string
	ctype string
}

// assets are the embedded static files by name.
type assets struct {
	files map[string]*asset
}

func loadAssets() (*assets, error) {
	a := &assets{files: map[string]*asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		a.files[path.Base(p)] = &asset{data: b, hash: hex.EncodeToString(sum[:6]), ctype: ct}
		return nil
	})
	return a, err
}

// url is the address of a static file: its content hash in the path lets
// browsers keep it forever, and a new build changes the address.
func (a *assets) url(name string) string {
	f, ok := a.files[name]
	if !ok {
		return "/static/missing/" + name
	}
	return "/static/" + f.hash + "/" + name
}

// static serves GET /static/{hash}/{file}. A hash that is not the current
// one (a page rendered by an older instance during a rolling deploy) still
// gets the file, but not for long.
func (w *Web) static(rw http.ResponseWriter, r *http.Request) {
	f, ok := w.assets.files[r.PathValue("file")]
	if !ok {
		http.NotFound(rw, r)
		return
	}
	h := rw.Header()
	h.Set("Content-Type", f.ctype)
	if r.PathValue("hash") == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=300")
	}
	h.Set("ETag", strconv.Quote(f.hash))
	http.ServeContent(rw, r, "", time.Time{}, bytes.NewReader(f.data))
}
