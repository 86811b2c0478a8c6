package client

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/dryad-lang/registry/internal/errs"
)

// TokenSource says where a command's token comes from: the flag's value,
// a file, or standard input (prompted without echo on a terminal).
type TokenSource struct {
	Value string
	// File is read when Value is empty; a relative path is taken from Dir.
	File, Dir string
	Stdin     io.Reader
	// Prompt receives the prompt when Stdin is a terminal.
	Prompt io.Writer
}

// ReadToken returns the token, trimmed; an empty one, or one with spaces
// or several lines, is a mistake of the user's (errs.Invalid).
func ReadToken(s TokenSource) (string, error) {
	var tok string
	switch {
	case s.Value != "":
		tok = s.Value
	case s.File != "":
		p := s.File
		if !filepath.IsAbs(p) {
			p = filepath.Join(s.Dir, p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return "", errs.Errorf(errs.Unavailable, "reading --token-file: %v", err)
		}
		tok = string(b)
	default:
		if f, ok := s.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			fmt.Fprint(s.Prompt, "Token: ")
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(s.Prompt)
			if err != nil {
				return "", errs.Errorf(errs.Unavailable, "reading the token: %v", err)
			}
			tok = string(b)
			break
		}
		line, err := bufio.NewReader(s.Stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", errs.Errorf(errs.Unavailable, "reading the token from standard input: %v", err)
		}
		tok = line
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", errs.New(errs.Invalid, "the token is empty")
	}
	if strings.ContainsAny(tok, " \t\r\n") {
		return "", errs.New(errs.Invalid, "the token contains spaces or several lines; give the token alone")
	}
	return tok, nil
}
