package markdown

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Dryad's lexer. The language's source as packages carry it
// (lib/*.dryad, src/*.dryad) looks like:
//
//	// A trie of path segments.
//	import canopy
//	export fn router() {
//	  let app = canopy.router()
//	  app.get("/hello/:name", fn(req) { return canopy.text("Hello, " + req.param("name")) })
//	  return { routes: [], port: 8080 }
//	}
//
// so the lexer knows line and block comments, double- and single-quoted
// strings with backslash escapes, numbers (decimal with fraction and
// exponent, 0x/0o/0b, underscores), keywords, the literals true, false
// and nil, and operators. A name followed by "(" is a call. It never fails:
// anything else is plain text, and an unterminated string or comment runs
// to the end of the line or block, so the tokens always spell the input.

// dryadKeywords are Dryad's reserved words.
var dryadKeywords = map[string]bool{
	"fn": true, "let": true, "const": true, "var": true, "return": true, "if": true, "else": true,
	"while": true, "for": true, "in": true, "break": true, "continue": true, "match": true,
	"import": true, "export": true, "from": true, "as": true, "struct": true, "class": true,
	"enum": true, "try": true, "catch": true, "throw": true, "async": true, "await": true,
	"and": true, "or": true, "not": true, "self": true, "new": true, "type": true,
}

// dryadLiterals are the names that stand for values.
var dryadLiterals = map[string]bool{"true": true, "false": true, "nil": true, "null": true}

// dryadOperators are the operators, longest first so that "==" is not read
// as two "=".
var dryadOperators = []string{
	"...", "==", "!=", "<=", ">=", "&&", "||", "=>", "->", "+=", "-=", "*=", "/=", "%=", "**", "..", "::",
	"+", "-", "*", "/", "%", "=", "<", ">", "!", "&", "|", "^", "~", "?", ":",
}

// lexDryad splits Dryad source into tokens whose texts, joined, are src.
func lexDryad(src string) []token {
	var toks []token
	emit := func(class, text string) {
		if text == "" {
			return
		}
		// Adjacent plain text is merged, to keep the HTML small.
		if n := len(toks); n > 0 && toks[n-1].class == class && class == "" {
			toks[n-1].text += text
			return
		}
		toks = append(toks, token{class: class, text: text})
	}
	i := 0
	for i < len(src) {
		c := src[i]
		rest := src[i:]
		switch {
		case strings.HasPrefix(rest, "//"):
			end := strings.IndexByte(rest, '\n')
			if end < 0 {
				end = len(rest)
			}
			emit(classComment, rest[:end])
			i += end
		case strings.HasPrefix(rest, "/*"):
			end := strings.Index(rest[2:], "*/")
			if end < 0 {
				end = len(rest)
			} else {
				end += 4
			}
			emit(classComment, rest[:end])
			i += end
		case c == '"' || c == '\'':
			n := scanString(rest)
			emit(classString, rest[:n])
			i += n
		case c >= '0' && c <= '9':
			n := scanNumber(rest)
			emit(classNumber, rest[:n])
			i += n
		case isIdentStart(rest):
			n := scanIdent(rest)
			word := rest[:n]
			switch {
			case dryadKeywords[word]:
				emit(classKeyword, word)
			case dryadLiterals[word]:
				emit(classBuiltin, word)
			case strings.HasPrefix(strings.TrimLeft(rest[n:], " \t"), "("):
				emit(classFunction, word)
			default:
				emit("", word)
			}
			i += n
		default:
			if op := operatorAt(rest); op != "" {
				emit(classOperator, op)
				i += len(op)
				continue
			}
			_, size := utf8.DecodeRuneInString(rest)
			emit("", rest[:size])
			i += size
		}
	}
	return toks
}

// scanString returns the length of the string literal at the start of s,
// up to its closing quote, or to the end of the line when it has none.
func scanString(s string) int {
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) && s[i+1] != '\n' {
				i++
			}
		case q:
			return i + 1
		case '\n':
			return i
		}
	}
	return len(s)
}

// scanNumber returns the length of the number at the start of s.
func scanNumber(s string) int {
	if len(s) > 2 && s[0] == '0' && strings.ContainsRune("xXoObB", rune(s[1])) {
		i := 2
		for i < len(s) && (isHexDigit(s[i]) || s[i] == '_') {
			i++
		}
		return i
	}
	i := 0
	digits := func() {
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '_') {
			i++
		}
	}
	digits()
	// A fraction needs a digit after the dot: "1..3" is a range and
	// "x.0.y" a field access.
	if i+1 < len(s) && s[i] == '.' && s[i+1] >= '0' && s[i+1] <= '9' {
		i++
		digits()
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			i = j
			digits()
		}
	}
	return i
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isIdentStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r == '_' || unicode.IsLetter(r)
}

// scanIdent returns the length of the name at the start of s.
func scanIdent(s string) int {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			break
		}
		i += size
	}
	return i
}

// operatorAt returns the operator at the start of s, or "".
func operatorAt(s string) string {
	for _, op := range dryadOperators {
		if strings.HasPrefix(s, op) {
			return op
		}
	}
	return ""
}
