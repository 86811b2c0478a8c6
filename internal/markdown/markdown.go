// Package markdown renders package READMEs to HTML that is safe to embed in
// the registry's pages: GitHub-flavoured Markdown through goldmark, then
// sanitised with bluemonday so that no script, event handler, javascript:
// link or non-http(s) image survives, whatever the README contains.
package markdown

import (
	"bytes"
	"regexp"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
)

// MaxSource is the largest README rendered; longer ones are cut there, so
// one package cannot make rendering slow for everyone.
const MaxSource = 512 << 10

// Renderer turns Markdown into sanitised HTML. It is safe for concurrent use.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

// New returns a Renderer.
func New() *Renderer {
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
		// Raw HTML in READMEs is not rendered at all (goldmark's default
		// escapes it); the sanitiser is a second line of defence.
	)
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	p.AllowAttrs("id").Matching(regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)).OnElements("h1", "h2", "h3", "h4", "h5", "h6")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[a-zA-Z0-9_+-]+$`)).OnElements("code")
	p.AllowAttrs("type", "checked", "disabled").OnElements("input")
	// Images only from http(s) URLs: no data: or relative URLs that would
	// point into the registry itself.
	p.AllowImages()
	p.RequireParseableURLs(true)
	return &Renderer{md: md, policy: p}
}

var imgSrc = regexp.MustCompile(`(?i)<img\b[^>]*\bsrc="([^"]*)"`)

// Render converts src to sanitised HTML.
func (r *Renderer) Render(src []byte) (string, error) {
	if len(src) > MaxSource {
		src = src[:MaxSource]
	}
	var buf bytes.Buffer
	if err := r.md.Convert(src, &buf); err != nil {
		return "", err
	}
	out := r.policy.SanitizeBytes(buf.Bytes())
	out = dropNonHTTPImages(out)
	return string(out), nil
}

// dropNonHTTPImages removes images whose source is not an absolute http(s)
// URL (relative paths, protocol-relative URLs and other schemes).
func dropNonHTTPImages(html []byte) []byte {
	return imgSrc.ReplaceAllFunc(html, func(tag []byte) []byte {
		src := bytes.ToLower(imgSrc.FindSubmatch(tag)[1])
		if bytes.HasPrefix(src, []byte("https://")) || bytes.HasPrefix(src, []byte("http://")) {
			return tag
		}
		return []byte(`<img alt="(image removed: only http and https images are shown)" data-removed=""`)
	})
}
