package client

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// progressThreshold is the upload size from which progress is reported even
// when the report does not go to a terminal (a log, CI).
const progressThreshold = 1 << 20

// progress reports an upload's progress on standard error: a bar redrawn
// in place on a terminal, a line every 10% elsewhere when the upload is
// large enough for that to help, and nothing for small ones.
type progress struct {
	w     io.Writer
	total int64
	label string
	tty   bool
	off   bool

	mu sync.Mutex
	// finished is set once the request is over: the HTTP transport may
	// still be reading the body in its own goroutine after the registry
	// answered early (a refusal before the whole body arrived), and
	// nothing may reach the writer after the command moved on to print
	// the answer.
	finished  bool
	done      int64
	start     time.Time
	lastDraw  time.Time
	lastTenth int64
	drawn     bool
}

func newProgress(w io.Writer, total int64, label string, quiet bool) *progress {
	p := &progress{w: w, total: total, label: label, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	p.off = quiet || total <= 0 || (!p.tty && total < progressThreshold)
	if p.label == "" {
		p.label = "package"
	}
	return p
}

// reader counts what r yields; a new reader (a resent body) starts over.
func (p *progress) reader(r io.Reader) io.Reader {
	p.mu.Lock()
	p.done, p.lastTenth, p.finished = 0, 0, false
	p.mu.Unlock()
	return &progressReader{r: r, p: p}
}

type progressReader struct {
	r io.Reader
	p *progress
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	if n > 0 {
		pr.p.add(int64(n))
	}
	return n, err
}

func (p *progress) add(n int64) {
	if p.off || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.done += n
	if p.tty {
		if now := time.Now(); now.Sub(p.lastDraw) >= 100*time.Millisecond || p.done >= p.total {
			p.lastDraw = now
			p.draw()
		}
		return
	}
	if tenth := p.done * 10 / p.total; tenth > p.lastTenth {
		p.lastTenth = tenth
		fmt.Fprintf(p.w, "uploading %s: %3d%% (%s of %s)\n", p.label, min(tenth*10, 100), HumanSize(min(p.done, p.total)), HumanSize(p.total))
	}
}

// draw redraws the bar: [#####.....]  45%  45.0 MiB / 100.0 MiB  12.3 MiB/s
func (p *progress) draw() {
	const width = 30
	done := min(p.done, p.total)
	filled := int(done * width / p.total)
	rate := ""
	if secs := time.Since(p.start).Seconds(); secs > 0.2 {
		rate = "  " + HumanSize(int64(float64(done)/secs)) + "/s"
	}
	fmt.Fprintf(p.w, "\r\x1b[Kuploading %s [%s%s] %3d%%  %s / %s%s", p.label,
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), done*100/p.total,
		HumanSize(done), HumanSize(p.total), rate)
	p.drawn = true
}

// finish ends the bar's line once the upload is over.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finished = true
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}
