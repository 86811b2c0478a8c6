package archive

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// entryPath is the verdict on one entry name: the cleaned path, or that the
// entry is to be dropped, or what is wrong with it.
type entryPath struct {
	path    string // slash-separated, relative, no trailing slash
	root    bool   // the entry is the archive root itself ("./"): drop it
	junk    bool   // macOS metadata (__MACOSX/, ._*, .DS_Store): drop it
	problem string // why the name is refused; "" when it is fine
}

// cleanPath checks a raw tar entry name and returns the package path it
// stands for. A single leading "./" is removed, as written by
// `tar -C dir .`; any other "." segment is refused. A directory may end with
// one "/". The checks keep every path inside the package on every operating
// system Oak runs on, and acceptable to git, which stores each version.
func cleanPath(name string, isDir bool, lim Limits) entryPath {
	// Bound the work before looking at every byte: GNU and PAX headers allow
	// names of up to a megabyte.
	if len(name) > lim.MaxPathLength+3 {
		return entryPath{problem: fmt.Sprintf("path is %d bytes long; the limit is %d", len(name), lim.MaxPathLength)}
	}
	if !utf8.ValidString(name) {
		return entryPath{problem: "name is not valid UTF-8; use UTF-8 file names"}
	}
	p := strings.TrimPrefix(name, "./")
	if p == "" || p == "." {
		if !isDir {
			return entryPath{problem: "a file cannot be named after the archive root"}
		}
		return entryPath{root: true}
	}
	if strings.HasSuffix(p, "/") {
		if !isDir {
			return entryPath{problem: `a file name must not end with "/"`}
		}
		p = p[:len(p)-1]
	}
	if strings.HasPrefix(p, "/") {
		return entryPath{problem: "absolute paths are not allowed; paths must be relative to the package root"}
	}
	if strings.Contains(p, `\`) {
		return entryPath{problem: `backslashes are not allowed in paths; use "/" to separate folders`}
	}
	if len(p) > lim.MaxPathLength {
		return entryPath{problem: fmt.Sprintf("path is %d bytes long; the limit is %d", len(p), lim.MaxPathLength)}
	}
	segs := strings.Split(p, "/")
	for _, s := range segs {
		switch s {
		case "":
			return entryPath{problem: `empty path segment ("//"); paths must be relative to the package root`}
		case ".":
			return entryPath{problem: `"." path segments are not allowed`}
		case "..":
			return entryPath{problem: `".." path segments are not allowed; paths must stay inside the package`}
		}
	}
	// Junk is dropped whatever else is odd about it: it is never written.
	if isJunk(segs) {
		return entryPath{path: p, junk: true}
	}
	if len(segs) > lim.MaxDepth {
		return entryPath{problem: fmt.Sprintf("path is %d folders deep; the limit is %d", len(segs), lim.MaxDepth)}
	}
	for _, r := range p {
		if msg := badRune(r); msg != "" {
			return entryPath{problem: msg}
		}
	}
	for _, s := range segs {
		if msg := badSegment(s); msg != "" {
			return entryPath{problem: msg}
		}
	}
	return entryPath{path: p}
}

// isJunk reports whether a path is metadata macOS adds to archives: the
// __MACOSX folder, AppleDouble "._name" files and .DS_Store files.
func isJunk(segs []string) bool {
	for _, s := range segs {
		if s == "__MACOSX" || s == ".DS_Store" || strings.HasPrefix(s, "._") {
			return true
		}
	}
	return false
}

// badRune says why a character may not appear in a path, or returns "".
func badRune(r rune) string {
	switch {
	case r == 0:
		return "NUL characters are not allowed in paths"
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		return fmt.Sprintf("control character %U is not allowed in paths", r)
	case strings.ContainsRune(`<>:"|?*`, r):
		// Windows refuses these in file names; ':' would even open an
		// alternate data stream of another file there.
		return fmt.Sprintf("character %q is not allowed in paths (Windows cannot store it)", r)
	case r == utf8.RuneError:
		return "replacement character U+FFFD is not allowed in paths (the name was badly encoded)"
	case unicode.Is(unicode.Cf, r):
		// Invisible characters make two different paths look the same,
		// and macOS ignores some of them, so ".g\u200cit" would be .git.
		return fmt.Sprintf("invisible formatting character %U is not allowed in paths", r)
	}
	return ""
}

// windowsDevices are base names Windows maps to devices whatever their
// extension: a file "aux.dryad" cannot be created there.
var windowsDevices = map[string]bool{
	"con": true, "prn": true, "aux": true, "nul": true, "conin$": true, "conout$": true,
	"com0": true, "com1": true, "com2": true, "com3": true, "com4": true,
	"com5": true, "com6": true, "com7": true, "com8": true, "com9": true,
	"lpt0": true, "lpt1": true, "lpt2": true, "lpt3": true, "lpt4": true,
	"lpt5": true, "lpt6": true, "lpt7": true, "lpt8": true, "lpt9": true,
}

// badSegment says why one path segment is refused, or returns "".
func badSegment(s string) string {
	lower := strings.ToLower(s)
	// Git refuses .git in any letter case, and its 8.3 short name on NTFS.
	if lower == ".git" || lower == "git~1" {
		return `".git" is not allowed in a package; remove the .git folder from the archive`
	}
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, " ") {
		return fmt.Sprintf("name %q ends with a dot or a space, which Windows removes", s)
	}
	base, _, _ := strings.Cut(lower, ".")
	if windowsDevices[strings.TrimRight(base, " ")] {
		return fmt.Sprintf("name %q is a device name on Windows", s)
	}
	return ""
}
