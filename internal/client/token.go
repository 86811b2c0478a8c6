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
		if isTerminal(s.Stdin) {
			b, err := promptSecret(s.Stdin, s.Prompt, "Token: ")
			if err != nil {
				return "", errs.Errorf(errs.Unavailable, "reading the token: %v", err)
			}
			tok = b
			break
		}
		line, err := readLine(s.Stdin)
		if err != nil {
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

// ReadPassword reads a new password: the first line of stdin when
// fromStdin, else typed twice on the terminal without echo.
func ReadPassword(stdin io.Reader, prompt io.Writer, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := readLine(stdin)
		return strings.TrimRight(line, "\r\n"), err
	}
	if !isTerminal(stdin) {
		return "", errs.New(errs.Invalid, "no terminal to prompt on; pipe the password with --password-stdin")
	}
	p1, err := promptSecret(stdin, prompt, "Password: ")
	if err != nil {
		return "", err
	}
	p2, err := promptSecret(stdin, prompt, "Repeat password: ")
	if err != nil {
		return "", err
	}
	if p1 != p2 {
		return "", errs.New(errs.Conflict, "the passwords differ")
	}
	return p1, nil
}

// ReadLogin returns the username and password of a login: the username
// given, else typed on the terminal; the password typed without echo on
// the terminal, else the first line of stdin.
func ReadLogin(stdin io.Reader, prompt io.Writer, username string) (string, string, error) {
	tty := isTerminal(stdin)
	if username == "" {
		if !tty {
			return "", "", errs.New(errs.Invalid, "no terminal to ask for the username on; pass --username NAME (and the password on standard input)")
		}
		fmt.Fprint(prompt, "Username: ")
		line, err := readLine(stdin)
		if err != nil {
			return "", "", errs.Errorf(errs.Unavailable, "reading the username: %v", err)
		}
		username = strings.TrimSpace(line)
		if username == "" {
			return "", "", errs.New(errs.Invalid, "the username is empty")
		}
	}
	var password string
	if tty {
		p, err := promptSecret(stdin, prompt, "Password for "+username+": ")
		if err != nil {
			return "", "", errs.Errorf(errs.Unavailable, "reading the password: %v", err)
		}
		password = p
	} else {
		line, err := readLine(stdin)
		if err != nil {
			return "", "", errs.Errorf(errs.Unavailable, "reading the password from standard input: %v", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	if password == "" {
		return "", "", errs.New(errs.Invalid, "the password is empty; type it at the prompt or give it as the first line of standard input")
	}
	return username, password, nil
}

// isTerminal tells whether r is a terminal, where secrets are prompted for.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// promptSecret prints label on prompt and reads a line from the terminal
// r without echo.
func promptSecret(r io.Reader, prompt io.Writer, label string) (string, error) {
	fd := int(r.(*os.File).Fd())
	fmt.Fprint(prompt, label)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(prompt)
	return string(b), err
}

// readLine reads the first line of r, its newline included; the end of
// the input ends it too.
func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err == io.EOF {
		err = nil
	}
	return line, err
}
