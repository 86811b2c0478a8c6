package markdown

import (
	"strings"
	"testing"
)

func TestRenderGFM(t *testing.T) {
	r := New()
	got, err := r.Render([]byte("# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n\n~~old~~ https://example.org\n\n```dryad\nprint(1)\n```\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<h1 id="title">Title</h1>`, "<table>", "<del>old</del>", `<a href="https://example.org" rel="nofollow">`, `class="language-dryad"`, `type="checkbox"`} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

func TestRenderXSS(t *testing.T) {
	payloads := []string{
		`<script>alert(1)</script>`,
		`<img src=x onerror=alert(1)>`,
		`[click](javascript:alert(1))`,
		`[click](JaVaScRiPt:alert(1))`,
		`<a href="javascript:alert(1)">x</a>`,
		`![x](javascript:alert(1))`,
		`![x](data:image/svg+xml;base64,PHN2Zz48c2NyaXB0PmFsZXJ0KDEpPC9zY3JpcHQ+PC9zdmc+)`,
		`<iframe src="https://evil.example"></iframe>`,
		`<div onmouseover="alert(1)">hover</div>`,
		`<svg onload=alert(1)>`,
		`<style>body{display:none}</style>`,
		`[x](vbscript:msgbox)`,
		`<object data="x.swf"></object>`,
		`<form action="https://evil.example"><input name=p></form>`,
		"`<script>` in code is text",
	}
	r := New()
	got, err := r.Render([]byte(strings.Join(payloads, "\n\n")))
	if err != nil {
		t.Fatal(err)
	}
	lower := strings.ToLower(got)
	for _, bad := range []string{"<script", "onerror", "onload", "onmouseover", "javascript:", "vbscript:", "data:image", "<iframe", "<style", "<object", "<form", "<svg"} {
		if strings.Contains(lower, bad) {
			t.Errorf("%q survived:\n%s", bad, got)
		}
	}
	if !strings.Contains(got, "&lt;script&gt;") {
		t.Errorf("code text lost:\n%s", got)
	}
}

func TestImages(t *testing.T) {
	r := New()
	got, _ := r.Render([]byte("![ok](https://img.example/a.png) ![rel](docs/a.png) ![proto](//evil.example/a.png)"))
	if !strings.Contains(got, `src="https://img.example/a.png"`) {
		t.Errorf("https image dropped:\n%s", got)
	}
	if strings.Contains(got, "docs/a.png") || strings.Contains(got, "//evil.example") {
		t.Errorf("non-http image kept:\n%s", got)
	}
}
