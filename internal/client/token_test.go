package client

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
)

func TestReadToken(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tok"), []byte("oak_fromfile\n"), 0o600)
	tests := []struct {
		name string
		src  TokenSource
		want string
		kind errs.Kind // when want is empty
	}{
		{"flag", TokenSource{Value: " oak_flag "}, "oak_flag", 0},
		{"file relative to dir", TokenSource{File: "tok", Dir: dir}, "oak_fromfile", 0},
		{"missing file", TokenSource{File: "nope", Dir: dir}, "", errs.Unavailable},
		{"stdin line", TokenSource{Stdin: strings.NewReader("oak_stdin\nrest\n")}, "oak_stdin", 0},
		{"stdin without newline", TokenSource{Stdin: strings.NewReader("oak_eof")}, "oak_eof", 0},
		{"empty", TokenSource{Stdin: strings.NewReader("\n")}, "", errs.Invalid},
		{"two words", TokenSource{Value: "oak_a oak_b"}, "", errs.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadToken(tt.src)
			if tt.want == "" {
				if errs.KindOf(err) != tt.kind {
					t.Fatalf("ReadToken = %q, %v; want a %v error", got, err, tt.kind)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ReadToken = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestReadPassword(t *testing.T) {
	got, err := ReadPassword(strings.NewReader("s3cret pass\r\nnext\n"), nil, true)
	if err != nil || got != "s3cret pass" {
		t.Errorf("from stdin: %q, %v", got, err)
	}
	// Not a terminal, and not asked to read standard input: nothing to
	// prompt on.
	if _, err := ReadPassword(strings.NewReader("x\n"), nil, false); errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "--password-stdin") {
		t.Errorf("without a terminal: %v", err)
	}
}
