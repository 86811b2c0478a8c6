package markdown

import (
	"strings"
	"testing"
)

func TestResolveLinks(t *testing.T) {
	root := PackageLinks("foo", "1.2.0", "README.md")
	nested := PackageLinks("foo", "1.2.0", "docs/guide/README.md")
	const files = "/packages/foo/1.2.0/files/"
	cases := []struct {
		name  string
		links *Links
		dest  string
		image bool
		want  string
		ok    bool
	}{
		{"relative", root, "docs/usage.md", false, files + "docs/usage.md", true},
		{"dot slash", root, "./LICENSE", false, files + "LICENSE", true},
		{"fragment kept", root, "docs/usage.md#install", false, files + "docs/usage.md#install", true},
		{"folder", root, "src/", false, files + "src/", true},
		{"root slash", nested, "/LICENSE", false, files + "LICENSE", true},
		{"escapes root", root, "../secret", false, "", false},
		{"escapes root deep", root, "docs/../../x", false, "", false},
		{"dotdot inside", root, "docs/../LICENSE", false, files + "LICENSE", true},
		{"nested relative", nested, "usage.md", false, files + "docs/guide/usage.md", true},
		{"nested parent", nested, "../../LICENSE", false, files + "LICENSE", true},
		{"nested escapes", nested, "../../../x", false, "", false},
		{"absolute http", root, "https://example.org/a", false, "https://example.org/a", true},
		{"protocol relative", root, "//example.org/a", false, "//example.org/a", true},
		{"anchor", root, "#usage", false, "#usage", true},
		{"mailto", root, "mailto:a@example.org", false, "mailto:a@example.org", true},
		{"javascript left to sanitiser", root, "javascript:alert(1)", false, "javascript:alert(1)", true},
		{"image", root, "img/logo.png", true, files + "img/logo.png?raw=1", true},
		{"image nested", nested, "./img/a b.png", true, files + "docs/guide/img/a%20b.png?raw=1", true},
		{"image escapes", root, "../logo.png", true, "", false},
		{"image absolute", root, "https://img.example/a.png", true, "https://img.example/a.png", true},
		{"no package", nil, "docs/usage.md", false, "", false},
		{"no package anchor", nil, "#x", false, "#x", true},
		{"query only", root, "?x=1", false, "", false},
		{"percent escaped", root, "docs/odd%20name.txt", false, files + "docs/odd%20name.txt", true},
	}
	for _, c := range cases {
		got, ok := c.links.Resolve(c.dest, c.image)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: Resolve(%q) = %q, %v; want %q, %v", c.name, c.dest, got, ok, c.want, c.ok)
		}
	}
}

func TestRenderPackageLinks(t *testing.T) {
	r := New()
	src := "[usage](docs/usage.md) [license](./LICENSE) [out](../x) [site](https://example.org) [top](#top) " +
		"[mail](mailto:a@example.org)\n\n![logo](img/logo.png) ![far](../far.png) ![ext](https://img.example/a.png)\n"
	got, err := r.RenderPackage([]byte(src), PackageLinks("foo", "1.2.0", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<a href="/packages/foo/1.2.0/files/docs/usage.md" rel="nofollow">usage</a>`,
		`<a href="/packages/foo/1.2.0/files/LICENSE" rel="nofollow">license</a>`,
		` out `,
		`<a href="https://example.org" rel="nofollow">site</a>`,
		`<a href="#top" rel="nofollow">top</a>`,
		`href="mailto:a@example.org"`,
		`<img src="/packages/foo/1.2.0/files/img/logo.png?raw=1" alt="logo"`,
		`src="https://img.example/a.png"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in\n%s", want, got)
		}
	}
	if strings.Contains(got, "../") || strings.Contains(got, "far.png") {
		t.Errorf("a path out of the package survived:\n%s", got)
	}
	// Without a package nothing points into the registry.
	got, _ = r.Render([]byte(src))
	if strings.Contains(got, "/packages/") || strings.Contains(got, "docs/usage.md") || strings.Contains(got, "img/logo.png") {
		t.Errorf("relative links kept without a package:\n%s", got)
	}
}
