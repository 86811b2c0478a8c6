package api

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"strconv"
)

// openAPIDocument describes every route of the API (and the archive
// download) in OpenAPI 3.1. A test checks it against the routes the server
// registers, both ways, so it cannot fall behind them.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the OpenAPI document, for the web interface's reference page.
func OpenAPI() []byte { return openAPIDocument }

var openAPIETag = func() string {
	sum := sha256.Sum256(openAPIDocument)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}()

// openAPI answers GET /api/openapi.json.
func (a *API) openAPI(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("ETag", openAPIETag)
	h.Set("Cache-Control", "public, max-age=3600")
	if etagMatches(r.Header.Get("If-None-Match"), openAPIETag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(openAPIDocument)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(openAPIDocument)
	}
	return nil
}
