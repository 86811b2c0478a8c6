//go:build unix

package archive

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/testenv"
)

func TestPackRefusesFIFO(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"oaklibs.json": manifestJSON})
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		testenv.Missing(t, "FIFOs on this filesystem ("+err.Error()+")")
	}
	_, _, err := pack(t, dir, Limits{})
	if errs.KindOf(err) != errs.Invalid || !strings.Contains(errs.Message(err), "pipe is not a regular file") {
		t.Errorf("err = %v, want Invalid naming the FIFO", err)
	}
	// Listed in .oakignore, it is left out.
	writeTree(t, dir, map[string]string{".oakignore": "pipe\n"})
	if _, _, err := pack(t, dir, Limits{}); err != nil {
		t.Errorf("ignored FIFO: %v", err)
	}
}
