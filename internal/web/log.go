package web

import (
	"net/http"
)

// logView is the transparency log's page.
type logView struct {
	Key        string
	Size       int64
	Checkpoint string
}

// logPage shows the log's public key and latest checkpoint, and how to
// audit it.
func (w *Web) logPage(rw http.ResponseWriter, r *http.Request) error {
	cp, tree, err := w.reg.LogCheckpoint(r.Context())
	if err != nil {
		return err
	}
	w.render(rw, r, http.StatusOK, "log", meta{Title: "Transparency log",
		Description: "The public key and latest signed checkpoint of the " + w.opts.Name + " transparency log"},
		logView{Key: w.reg.LogKey(), Size: tree.N, Checkpoint: string(cp)})
	return nil
}
