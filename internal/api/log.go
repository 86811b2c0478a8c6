package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/manifest"
	"github.com/dryad-lang/registry/internal/registry"
	"github.com/dryad-lang/registry/internal/tlog"
)

// logRecord is one record of the transparency log on the wire: the exact
// line the tree hashes, and its fields.
type logRecord struct {
	Index   int64     `json:"index"`
	Data    string    `json:"data"`
	Kind    string    `json:"kind"`
	Package string    `json:"package"`
	Version string    `json:"version,omitempty"`
	SHA256  string    `json:"sha256,omitempty"`
	User    string    `json:"user,omitempty"`
	Actor   string    `json:"actor,omitempty"`
	Time    time.Time `json:"time"`
}

func newLogRecord(e *registry.LogEntry) logRecord {
	r := e.Record
	return logRecord{Index: e.Index, Data: string(e.Data), Kind: string(r.Kind), Package: r.Package,
		Version: r.Version, SHA256: r.SHA256, User: r.User, Actor: r.Actor, Time: r.Time}
}

// logLookup is a version's publish record with its inclusion proof.
type logLookup struct {
	// Name is the package's canonical name.
	Name   string    `json:"name"`
	Record logRecord `json:"record"`
	// Later are the version's yank, unyank and delete records.
	Later []logRecord `json:"later"`
	// TreeSize and TreeHash are those of Checkpoint, which Proof is against.
	TreeSize   int64    `json:"tree_size"`
	TreeHash   string   `json:"tree_hash"`
	Proof      []string `json:"proof"`
	Checkpoint string   `json:"checkpoint"`
}

// immutable marks an answer that never changes at its URL.
func immutable(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
}

func writeText(w http.ResponseWriter, contentType string, body []byte) error {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, err := w.Write(body)
	return err
}

// logKey serves GET /api/log/key: the verifier key of the checkpoints.
func (a *API) logKey(w http.ResponseWriter, r *http.Request) error {
	key := a.reg.LogKey()
	if key == "" {
		return errs.New(errs.Unavailable, "this registry signs no log checkpoints")
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	return writeText(w, "text/plain; charset=utf-8", []byte(key+"\n"))
}

// logCheckpoint serves GET /api/log/checkpoint: the latest signed tree head.
func (a *API) logCheckpoint(w http.ResponseWriter, r *http.Request) error {
	cp, _, err := a.reg.LogCheckpoint(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-cache")
	return writeText(w, "text/plain; charset=utf-8", cp)
}

// logTile serves GET /api/log/tile/{height}/{level}/{path...}: a tile of
// hashes, or of records (level data). A partial tile's path names its width, so every
// tile is immutable.
func (a *API) logTile(w http.ResponseWriter, r *http.Request) error {
	path := "tile/" + r.PathValue("height") + "/" + r.PathValue("level") + "/" + r.PathValue("path")
	data, err := a.reg.LogTile(r.Context(), path)
	if err != nil {
		return err
	}
	immutable(w)
	return writeText(w, "application/octet-stream", data)
}

// logRecordAt serves GET /api/log/records/{index}.
func (a *API) logRecordAt(w http.ResponseWriter, r *http.Request) error {
	n, err := strconv.ParseInt(r.PathValue("index"), 10, 64)
	if err != nil || n < 0 {
		return errs.Errorf(errs.Invalid, "record index %q: want a whole number from 0", r.PathValue("index"))
	}
	e, err := a.reg.LogRecord(r.Context(), n)
	if err != nil {
		return err
	}
	immutable(w)
	return writeJSON(w, http.StatusOK, newLogRecord(e))
}

// logLookup serves GET /api/log/lookup/{name}@{version}.
func (a *API) logLookup(w http.ResponseWriter, r *http.Request) error {
	spec := r.PathValue("spec")
	name, version, ok := manifest.SplitSpec(spec)
	if !ok {
		return errs.Errorf(errs.Invalid, "%q: look up name@version", spec)
	}
	p, err := a.reg.LogLookup(r.Context(), name, version)
	if err != nil {
		return err
	}
	out := logLookup{Name: p.Package, Record: newLogRecord(&p.Publish), Later: []logRecord{}, TreeSize: p.Tree.N,
		TreeHash: p.Tree.Hash.String(), Proof: hashStrings(p.Proof), Checkpoint: string(p.Checkpoint)}
	for i := range p.Later {
		out.Later = append(out.Later, newLogRecord(&p.Later[i]))
	}
	w.Header().Set("Cache-Control", "no-cache")
	return writeJSON(w, http.StatusOK, out)
}

func hashStrings(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.String()
	}
	return out
}
