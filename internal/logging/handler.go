// Package logging sets up the registry's structured logs (log/slog): text
// or JSON lines carrying the request id of the request in scope, written
// in batches so that a busy server does not pay a system call per line.
package logging

import (
	"context"
	"io"
	"log/slog"

	"github.com/dryad-lang/registry/internal/config"
	"github.com/dryad-lang/registry/internal/httpx"
)

// Handler is the handler of every log line: text or JSON as LOG_FORMAT
// says, at LOG_LEVEL, with the request id of the request in scope added to
// each record logged with its context.
func Handler(cfg *config.Config, w io.Writer) slog.Handler {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return requestIDHandler{h}
}

// requestIDHandler adds request_id to records logged with the context of a
// request, so every line a request causes can be found by its id (the one
// echoed in the X-Request-ID response header).
type requestIDHandler struct {
	slog.Handler
}

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		return h.Handler.Handle(ctx, r)
	}
	if id := httpx.RequestID(ctx); id != "" && !hasAttr(r, "request_id") {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// hasAttr reports whether the record already carries the attribute (the
// access log adds request_id itself).
func hasAttr(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}

// New is a logger writing every line to w at once: for commands.
func New(cfg *config.Config, w io.Writer) *slog.Logger { return slog.New(Handler(cfg, w)) }

// NewServer is the server's logger: lines are written to w in batches,
// warnings and errors at once. close writes what is left.
func NewServer(cfg *config.Config, w io.Writer) (log *slog.Logger, close func() error) {
	bw := NewBatchWriter(w)
	return slog.New(flushing{Handler(cfg, bw), bw}), bw.Close
}
