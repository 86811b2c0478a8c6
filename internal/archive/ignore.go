package archive

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// ignorePattern is one line of a .gitignore or .oakignore file.
type ignorePattern struct {
	re      *regexp.Regexp // matches a slash-separated path relative to the file's folder
	negate  bool           // "!pattern": the path is included again
	dirOnly bool           // "pattern/": matches directories only
}

// parseIgnore reads the patterns of an ignore file, with gitignore's syntax:
// blank lines and "#" comments are skipped, "\" escapes, "!" negates, a
// trailing "/" matches only directories, a "/" at the start or in the middle
// anchors the pattern to the file's folder (otherwise it matches a name at
// any depth), and "*", "?", "[...]" and "**" are globs. Lines that do not
// compile are skipped, as git matches nothing with them.
func parseIgnore(text string) []ignorePattern {
	var out []ignorePattern
	for _, line := range strings.Split(text, "\n") {
		if p, ok := parseIgnoreLine(line); ok {
			out = append(out, p)
		}
	}
	return out
}

func parseIgnoreLine(line string) (ignorePattern, bool) {
	line = strings.TrimSuffix(line, "\r")
	// Trailing spaces are dropped unless escaped with a backslash.
	for strings.HasSuffix(line, " ") && !strings.HasSuffix(line, `\ `) {
		line = line[:len(line)-1]
	}
	if line == "" || line[0] == '#' {
		return ignorePattern{}, false
	}
	var p ignorePattern
	if line[0] == '!' {
		p.negate = true
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") {
		p.dirOnly = true
		line = strings.TrimRight(line, "/")
	}
	anchored := strings.Contains(line, "/")
	line = strings.TrimPrefix(line, "/")
	if line == "" {
		return ignorePattern{}, false
	}
	expr := globToRegexp(line)
	if !anchored {
		expr = "(?:.*/)?" + expr
	}
	re, err := regexp.Compile("^" + expr + "$")
	if err != nil {
		return ignorePattern{}, false
	}
	p.re = re
	return p, true
}

// globToRegexp translates a gitignore glob into a regular expression.
// Go's regexp runs in linear time, so no pattern can make matching slow.
func globToRegexp(g string) string {
	var b strings.Builder
	for i := 0; i < len(g); {
		switch c := g[i]; {
		case strings.HasPrefix(g[i:], "**"):
			startsSeg := i == 0 || g[i-1] == '/'
			endsSeg := i+2 == len(g) || g[i+2] == '/'
			switch {
			case startsSeg && i+2 == len(g):
				b.WriteString(".*") // "dir/**": everything inside
				i += 2
			case startsSeg && endsSeg:
				b.WriteString("(?:.*/)?") // "**/" : zero or more folders
				i += 3
			default:
				b.WriteString("[^/]*") // "a**b" is just a star
				i += 2
			}
		case c == '*':
			b.WriteString("[^/]*")
			i++
		case c == '?':
			b.WriteString("[^/]")
			i++
		case c == '[':
			class, n := globClass(g[i:])
			if n == 0 {
				b.WriteString(`\[`)
				i++
				break
			}
			b.WriteString(class)
			i += n
		case c == '\\' && i+1 < len(g):
			r, size := utf8.DecodeRuneInString(g[i+1:])
			b.WriteString(regexp.QuoteMeta(string(r)))
			i += 1 + size
		default:
			r, size := utf8.DecodeRuneInString(g[i:])
			b.WriteString(regexp.QuoteMeta(string(r)))
			i += size
		}
	}
	return b.String()
}

// globClass translates the bracket expression at the start of g and returns
// it with the number of bytes it took, or 0 when the "[" opens no class.
func globClass(g string) (string, int) {
	var b strings.Builder
	i := 1
	b.WriteByte('[')
	if i < len(g) && (g[i] == '!' || g[i] == '^') {
		// A negated class never matches "/" either.
		b.WriteString("^/")
		i++
	}
	first := true
	for i < len(g) {
		c := g[i]
		switch {
		case c == ']' && !first:
			b.WriteByte(']')
			return b.String(), i + 1
		case c == '[' && strings.HasPrefix(g[i:], "[:"):
			end := strings.Index(g[i+2:], ":]")
			if end < 0 {
				return "", 0
			}
			b.WriteString(g[i : i+2+end+2]) // [:alpha:] and friends, as in RE2
			i += 2 + end + 2
		case c == '\\' && i+1 < len(g):
			r, size := utf8.DecodeRuneInString(g[i+1:])
			fmt.Fprintf(&b, `\x{%x}`, r)
			i += 1 + size
		case c == '-':
			b.WriteByte('-')
			i++
		case c == '/':
			i++ // a class never matches "/"; "[/]" then matches nothing
		default:
			r, size := utf8.DecodeRuneInString(g[i:])
			if r < utf8.RuneSelf && (('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')) {
				b.WriteRune(r)
			} else {
				fmt.Fprintf(&b, `\x{%x}`, r)
			}
			i += size
		}
		first = false
	}
	return "", 0
}

// ignorer answers whether a path of a folder being packed is ignored, from
// the ignore files found in it and its parents so far.
type ignorer struct {
	byDir map[string][]ignorePattern // folder ("" for the root) -> its patterns
}

func newIgnorer() *ignorer { return &ignorer{byDir: make(map[string][]ignorePattern)} }

// add records the patterns of folder dir ("" for the root). The patterns of
// .oakignore are added after those of .gitignore, so that they win.
func (ig *ignorer) add(dir string, patterns []ignorePattern) {
	if len(patterns) > 0 {
		ig.byDir[dir] = append(ig.byDir[dir], patterns...)
	}
}

// ignored reports whether path p (relative to the root) is ignored. As in
// git, the last matching pattern decides, and the patterns of deeper
// folders come after those of their parents.
func (ig *ignorer) ignored(p string, isDir bool) bool {
	ignored := false
	dir := ""
	for {
		rel := p
		if dir != "" {
			rel = p[len(dir)+1:]
		}
		for _, pat := range ig.byDir[dir] {
			if pat.dirOnly && !isDir {
				continue
			}
			if pat.re.MatchString(rel) {
				ignored = !pat.negate
			}
		}
		next := strings.IndexByte(rel, '/')
		if next < 0 {
			return ignored
		}
		if dir == "" {
			dir = rel[:next]
		} else {
			dir = dir + "/" + rel[:next]
		}
	}
}
