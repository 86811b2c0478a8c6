package logging

import (
	"context"
	"io"
	"log/slog"
	"sync"
)

// BatchWriter batches the server's log lines into fewer writes. One access
// log line per request, written straight to stderr, costs a system call on
// every request; here lines are appended to a buffer and a background
// goroutine writes whatever has gathered, so under load many lines share
// one write, and when idle each line is written at once. Warnings and
// errors are flushed before their logging call returns (see flushing),
// and Close writes everything left.
type BatchWriter struct {
	out io.Writer

	mu      sync.Mutex // guards pending
	pending []byte

	writeMu sync.Mutex // orders the writes to out
	wake    chan struct{}
	done    chan struct{}
	stop    sync.Once
}

// maxPending bounds the buffer: past it, the writer writes inline rather
// than let a stuck output grow memory.
const maxPending = 1 << 20

// NewBatchWriter starts a BatchWriter writing to out.
func NewBatchWriter(out io.Writer) *BatchWriter {
	w := &BatchWriter{out: out, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go w.loop()
	return w
}

func (w *BatchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.pending = append(w.pending, p...)
	full := len(w.pending) >= maxPending
	w.mu.Unlock()
	if full {
		return len(p), w.Flush()
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *BatchWriter) loop() {
	defer close(w.done)
	for range w.wake {
		w.Flush()
	}
}

// Flush writes every line gathered so far.
func (w *BatchWriter) Flush() error {
	w.writeMu.Lock()
	defer w.writeMu.Unlock()
	w.mu.Lock()
	batch := w.pending
	w.pending = nil
	w.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	_, err := w.out.Write(batch)
	return err
}

// Close stops the background writer and writes what is left.
func (w *BatchWriter) Close() error {
	w.stop.Do(func() {
		close(w.wake)
		<-w.done
	})
	return w.Flush()
}

// flushing flushes the batch writer after each warning or error, so
// that problems reach the log before the call that reports them returns.
type flushing struct {
	slog.Handler
	w *BatchWriter
}

func (h flushing) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		h.w.Flush()
	}
	return err
}

func (h flushing) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushing{h.Handler.WithAttrs(attrs), h.w}
}

func (h flushing) WithGroup(name string) slog.Handler {
	return flushing{h.Handler.WithGroup(name), h.w}
}
