// Package markdown renders package READMEs to HTML that is safe to embed in
// the registry's pages: GitHub-flavoured Markdown through goldmark, code
// blocks highlighted on the server, relative links and images pointed at
// the package's own files, then sanitised with bluemonday so that no
// script, event handler, javascript: link or foreign image source
// survives, whatever the README contains.
package markdown

import (
	"bytes"
	"regexp"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

// MaxSource is the largest README rendered; longer ones are cut there, so
// one package cannot make rendering slow for everyone.
const MaxSource = 512 << 10

// Renderer turns Markdown into sanitised HTML. It is safe for concurrent use.
type Renderer struct {
	policy *bluemonday.Policy
}

// New returns a Renderer.
func New() *Renderer {
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	p.AllowAttrs("id").Matching(regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)).OnElements("h1", "h2", "h3", "h4", "h5", "h6")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[a-zA-Z0-9_+-]+$`)).OnElements("code")
	// Exactly the classes highlighting emits, on the spans it emits.
	p.AllowAttrs("class").Matching(highlightClass).OnElements("span")
	p.AllowAttrs("type", "checked", "disabled").OnElements("input")
	// Relative URLs pass the sanitiser because the links step has already
	// turned every relative link of the README into a registry path (or
	// removed it) and left anchors (#x); images are filtered again below.
	p.AllowRelativeURLs(true)
	p.AllowImages()
	p.RequireParseableURLs(true)
	return &Renderer{policy: p}
}

// Render converts src to sanitised HTML for a README that belongs to no
// package: relative links are removed and relative images dropped.
func (r *Renderer) Render(src []byte) (string, error) {
	return r.RenderPackage(src, nil)
}

// RenderPackage converts src, the README of a package, to sanitised HTML.
// Relative links and images are resolved by links (nil: removed).
func (r *Renderer) RenderPackage(src []byte, links *Links) (string, error) {
	if len(src) > MaxSource {
		src = src[:MaxSource]
	}
	// A goldmark instance per call carries this README's links and its
	// highlighting budget; building one costs a few allocations.
	budget := MaxHighlightTotal
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(parser.WithAutoHeadingID(),
			parser.WithASTTransformers(util.Prioritized(&linkTransformer{links: links}, 100))),
		goldmark.WithRendererOptions(renderer.WithNodeRenderers(util.Prioritized(&codeRenderer{budget: &budget}, 100))),
		// Raw HTML in READMEs is not rendered at all (goldmark's default
		// escapes it); the sanitiser is a second line of defence.
	)
	var buf bytes.Buffer
	if err := md.Convert(src, &buf); err != nil {
		return "", err
	}
	out := r.policy.SanitizeBytes(buf.Bytes())
	out = dropForeignImages(out, links != nil)
	return string(out), nil
}

// codeRenderer renders fenced and indented code blocks with highlighting.
type codeRenderer struct {
	budget *int
}

func (c *codeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindFencedCodeBlock, c.render)
	reg.Register(ast.KindCodeBlock, c.render)
}

func (c *codeRenderer) render(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	lang := ""
	if f, ok := node.(*ast.FencedCodeBlock); ok {
		if l := f.Language(source); l != nil {
			lang = string(l)
		}
	}
	var code bytes.Buffer
	lines := node.Lines()
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		code.Write(seg.Value(source))
	}
	var out bytes.Buffer
	writeCode(&out, lang, code.String(), c.budget)
	w.Write(out.Bytes())
	return ast.WalkSkipChildren, nil
}

var imgSrc = regexp.MustCompile(`(?i)<img\b[^>]*\bsrc="([^"]*)"`)

// dropForeignImages removes images whose source is neither an absolute
// http(s) URL nor, when local is set, a path of the registry (which only
// the links step writes, for the package's own files): relative paths,
// protocol-relative URLs and other schemes are dropped.
func dropForeignImages(html []byte, local bool) []byte {
	return imgSrc.ReplaceAllFunc(html, func(tag []byte) []byte {
		src := bytes.ToLower(imgSrc.FindSubmatch(tag)[1])
		if bytes.HasPrefix(src, []byte("https://")) || bytes.HasPrefix(src, []byte("http://")) ||
			(local && bytes.HasPrefix(src, []byte("/packages/"))) {
			return tag
		}
		return []byte(`<img alt="(image removed: only http and https images and the package's own files are shown)" data-removed=""`)
	})
}
