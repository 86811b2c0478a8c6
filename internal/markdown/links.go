package markdown

import (
	"net/url"
	"path"
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// Links says where the relative links and images of a package's README
// point: a README's "docs/usage.md" is a file of the package, shown by the
// registry's file browser at the version the README belongs to, and its
// "img/logo.png" is that file's bytes.
type Links struct {
	// Dir is the folder of the README in the package ("" for the root);
	// relative paths resolve from there.
	Dir string
	// File and Raw return the registry paths showing, and serving the
	// bytes of, a file of the package (p is cleaned, relative to the
	// package root, "" for the root itself).
	File func(p string) string
	Raw  func(p string) string
}

// PackageLinks are the links of the README at readmePath in name@version:
// files go to /packages/{name}/{version}/files/{path}, images to the same
// with ?raw=1, the registry's file browser and raw file addresses.
func PackageLinks(name, version, readmePath string) *Links {
	base := "/packages/" + url.PathEscape(name) + "/" + url.PathEscape(version) + "/files/"
	dir := path.Dir(readmePath)
	if dir == "." {
		dir = ""
	}
	return &Links{
		Dir:  dir,
		File: func(p string) string { return base + escapePath(p) },
		Raw:  func(p string) string { return base + escapePath(p) + "?raw=1" },
	}
}

// escapePath escapes each element of a slash-separated path.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// Resolve returns where dest, a link (image false) or image (image true)
// destination written in the README, points. Absolute URLs (with a scheme,
// or protocol-relative), anchors and empty destinations are returned
// as they are (keep true, the sanitiser judges them). A relative path is
// resolved from the README's folder (a leading "/" from the package root,
// as code hosts do) to the package's file; ok is false when it cannot be
// (it climbs out of the package with "..", or is malformed): the link is
// then removed.
func (l *Links) Resolve(dest string, image bool) (out string, ok bool) {
	if dest == "" || strings.HasPrefix(dest, "#") || strings.HasPrefix(dest, "//") {
		return dest, true
	}
	u, err := url.Parse(dest)
	if err != nil {
		return "", false
	}
	if u.Scheme != "" || u.Host != "" {
		return dest, true
	}
	if l == nil {
		return "", false
	}
	p := u.Path
	if p == "" {
		// "?x" alone: no file named.
		return "", false
	}
	dir := strings.HasSuffix(p, "/")
	if !strings.HasPrefix(p, "/") {
		p = l.Dir + "/" + p
	}
	clean, ok := cleanInside(p)
	if !ok {
		return "", false
	}
	if image {
		if clean == "" || dir {
			return "", false
		}
		return l.Raw(clean), true
	}
	out = l.File(clean)
	if dir && clean != "" {
		out += "/"
	}
	if u.Fragment != "" {
		out += "#" + url.PathEscape(u.Fragment)
	}
	return out, true
}

// cleanInside cleans a slash-separated path relative to the package root;
// ok is false when ".." climbs above the root.
func cleanInside(p string) (string, bool) {
	var out []string
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(out) == 0 {
				return "", false
			}
			out = out[:len(out)-1]
		default:
			out = append(out, s)
		}
	}
	return strings.Join(out, "/"), true
}

// linkTransformer rewrites the README's links and images with Links.
type linkTransformer struct {
	links *Links
}

func (t *linkTransformer) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	var unlink []*ast.Link
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			if out, ok := t.links.Resolve(string(n.Destination), false); ok {
				n.Destination = []byte(out)
			} else {
				unlink = append(unlink, n)
			}
		case *ast.Image:
			if out, ok := t.links.Resolve(string(n.Destination), true); ok {
				n.Destination = []byte(out)
			} else {
				// An empty source is dropped with the other foreign
				// images, leaving its explanation.
				n.Destination = nil
			}
		}
		return ast.WalkContinue, nil
	})
	// A link that cannot be resolved keeps its text, unlinked.
	for _, l := range unlink {
		parent := l.Parent()
		for c := l.FirstChild(); c != nil; {
			next := c.NextSibling()
			parent.InsertBefore(parent, l, c)
			c = next
		}
		parent.RemoveChild(parent, l)
	}
}
