package client

import (
	"io"
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/testenv"
)

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestProgressSilentAfterFinish checks that the progress report writes
// nothing once the request is over, even though the HTTP transport may
// go on reading the body after an early answer: the command prints that
// answer to the same stream meanwhile.
func TestProgressSilentAfterFinish(t *testing.T) {
	var out testenv.Buffer
	const size = 4 << 20
	p := newProgress(&out, size, "pkg", false)
	rd := p.reader(io.LimitReader(zeros{}, size))
	buf := make([]byte, size/4)
	rd.Read(buf)
	before := out.String()
	if !strings.Contains(before, "uploading pkg:  20%") && !strings.Contains(before, "uploading pkg:  10%") {
		t.Fatalf("no progress line for the first quarter: %q", before)
	}
	p.finish()
	io.Copy(io.Discard, rd)
	if got := out.String(); got != before {
		t.Errorf("progress written after finish: %q", strings.TrimPrefix(got, before))
	}
}
