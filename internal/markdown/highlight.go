package markdown

import (
	"bytes"
	"html"
	"regexp"
	"strings"

	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/lexers"
)

// Code blocks are highlighted on the server, when the README is rendered:
// the page needs no script, and the classes below are styled for both the
// light and the dark theme by the site's style sheet. Only a handful of
// classes exist, whatever the language, so the sanitiser can allow exactly
// them and the style sheet stays small.
const (
	classKeyword  = "hl-k"
	classString   = "hl-s"
	classNumber   = "hl-m"
	classComment  = "hl-c"
	classOperator = "hl-o"
	classBuiltin  = "hl-b"
	classFunction = "hl-f"
	classType     = "hl-t"
	classAttr     = "hl-a"
	classInserted = "hl-gi"
	classDeleted  = "hl-gd"
	classHeading  = "hl-gh"
)

// highlightClass matches the classes highlighting emits, for the sanitiser.
var highlightClass = regexp.MustCompile(`^hl-(k|s|m|c|o|b|f|t|a|gi|gd|gh)$`)

// languageName matches a code block's language worth naming in a class; any
// other info string is dropped rather than escaped into an attribute.
var languageName = regexp.MustCompile(`^[a-zA-Z0-9_+-]{1,32}$`)

const (
	// MaxHighlightBlock is the largest code block highlighted; larger
	// ones are shown plain (escaped), so one block cannot make rendering
	// slow.
	MaxHighlightBlock = 32 << 10
	// MaxHighlightTotal bounds the code highlighted in one README; blocks
	// beyond it are shown plain.
	MaxHighlightTotal = 256 << 10
	// maxTokens bounds the tokens of one block, against lexers that
	// split pathological input into single characters.
	maxTokens = 20000
)

// aliases are the info strings READMEs use for languages that chroma
// knows under another name.
var aliases = map[string]string{
	"shell": "bash", "sh": "bash", "zsh": "bash", "console": "bash", "shell-session": "bash",
	"js": "javascript", "jsx": "javascript", "mjs": "javascript", "cjs": "javascript",
	"ts": "typescript", "tsx": "typescript", "golang": "go", "py": "python", "python3": "python",
	"rs": "rust", "yml": "yaml", "htm": "html", "h": "c", "patch": "diff", "jsonc": "json",
}

// token is one highlighted piece of a code block: its text and its class
// ("" for plain text).
type token struct {
	class string
	text  string
}

// lexCode splits code in language lang into tokens; ok is false when the
// language is unknown, in which case the block is shown plain.
func lexCode(lang, code string) (toks []token, ok bool) {
	lang = strings.ToLower(lang)
	if lang == "dryad" || lang == "dy" {
		return lexDryad(code), true
	}
	if a, found := aliases[lang]; found {
		lang = a
	}
	if lang == "" {
		return nil, false
	}
	lx := lexers.Get(lang)
	if lx == nil {
		return nil, false
	}
	it, err := chroma.Coalesce(lx).Tokenise(nil, code)
	if err != nil {
		return nil, false
	}
	for t := it(); t != chroma.EOF; t = it() {
		if len(toks) >= maxTokens {
			return nil, false
		}
		toks = append(toks, token{class: chromaClass(t.Type), text: t.Value})
	}
	// A lexer that failed midway may return fewer characters than it was
	// given; showing less code than the author wrote is worse than no
	// colour.
	n := 0
	for _, t := range toks {
		n += len(t.text)
	}
	if n != len(code) {
		return nil, false
	}
	return toks, true
}

// chromaClass maps chroma's fine-grained token types onto the few classes
// the registry styles.
func chromaClass(t chroma.TokenType) string {
	switch {
	case t == chroma.KeywordType:
		return classType
	case t.InCategory(chroma.Keyword):
		return classKeyword
	case t.InCategory(chroma.Comment):
		return classComment
	case t.InSubCategory(chroma.LiteralString):
		return classString
	case t.InSubCategory(chroma.LiteralNumber):
		return classNumber
	case t.InCategory(chroma.Operator):
		return classOperator
	case t == chroma.NameBuiltin || t == chroma.NameBuiltinPseudo || t == chroma.NameConstant:
		return classBuiltin
	case t == chroma.NameFunction || t == chroma.NameFunctionMagic:
		return classFunction
	case t == chroma.NameClass || t == chroma.NameTag || t == chroma.NameNamespace:
		return classType
	case t == chroma.NameAttribute || t == chroma.NameProperty:
		return classAttr
	case t == chroma.GenericInserted:
		return classInserted
	case t == chroma.GenericDeleted:
		return classDeleted
	case t == chroma.GenericHeading || t == chroma.GenericSubheading:
		return classHeading
	}
	return ""
}

// writeCode writes a code block's HTML: <pre><code> with the language's
// class when it has a sane name, the code highlighted when the language is
// known and the block small enough (budget is what is left of the README's
// allowance and is decreased), else escaped as it is.
func writeCode(buf *bytes.Buffer, lang, code string, budget *int) {
	if !languageName.MatchString(lang) {
		lang = ""
	}
	buf.WriteString("<pre><code")
	if lang != "" {
		buf.WriteString(` class="language-`)
		buf.WriteString(html.EscapeString(lang))
		buf.WriteString(`"`)
	}
	buf.WriteString(">")
	var toks []token
	ok := false
	if lang != "" && len(code) <= MaxHighlightBlock && len(code) <= *budget {
		toks, ok = lexCode(lang, code)
		if ok {
			*budget -= len(code)
		}
	}
	if !ok {
		buf.WriteString(html.EscapeString(code))
	}
	for _, t := range toks {
		if t.class == "" {
			buf.WriteString(html.EscapeString(t.text))
			continue
		}
		buf.WriteString(`<span class="`)
		buf.WriteString(t.class)
		buf.WriteString(`">`)
		buf.WriteString(html.EscapeString(t.text))
		buf.WriteString("</span>")
	}
	buf.WriteString("</code></pre>\n")
}
