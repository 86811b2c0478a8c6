package markdown

import (
	"strings"
	"testing"
)

func TestLexDryad(t *testing.T) {
	src := "// hi\nimport canopy\nexport fn main() {\n  let x = 0x1F + 3.5e2 - 1_000 /* note */\n  return greet(\"a \\\"b\\\"\", 'c') != nil && x >= 2\n}\n\"open"
	toks := lexDryad(src)
	var joined strings.Builder
	got := map[string]string{}
	for _, tk := range toks {
		joined.WriteString(tk.text)
		if tk.class != "" {
			got[tk.text] = tk.class
		}
	}
	if joined.String() != src {
		t.Fatalf("tokens spell %q, want %q", joined.String(), src)
	}
	want := map[string]string{
		"// hi": classComment, "import": classKeyword, "export": classKeyword, "fn": classKeyword, "let": classKeyword,
		"return": classKeyword, "0x1F": classNumber, "3.5e2": classNumber, "1_000": classNumber, "/* note */": classComment,
		`"a \"b\""`: classString, "'c'": classString, "nil": classBuiltin, "greet": classFunction, "main": classFunction,
		"!=": classOperator, "&&": classOperator, ">=": classOperator, "=": classOperator, `"open`: classString,
	}
	for text, class := range want {
		if got[text] != class {
			t.Errorf("%q: class %q, want %q", text, got[text], class)
		}
	}
	if c, ok := got["canopy"]; ok {
		t.Errorf("a plain name got class %q", c)
	}
}

func TestLexDryadNumbersAndRanges(t *testing.T) {
	for src, want := range map[string][]string{
		"1..3":   {"1", "..", "3"},
		"a.0.b":  {"0"},
		"2e":     {"2"},
		"0b1010": {"0b1010"},
	} {
		var got []string
		for _, tk := range lexDryad(src) {
			if tk.class == classNumber || tk.class == classOperator {
				got = append(got, tk.text)
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%q: numbers and operators %q, want %q", src, got, want)
		}
	}
}

func TestHighlightLanguages(t *testing.T) {
	cases := map[string]struct{ code, token, class string }{
		"go":         {"package main\nfunc main() {}\n", "func", classKeyword},
		"javascript": {"const x = \"s\";\n", "\"s\"", classString},
		"js":         {"let y = 42;\n", "42", classNumber},
		"typescript": {"let z: number = 1;\n", "let", classKeyword},
		"python":     {"def f():\n    return None\n", "def", classKeyword},
		"rust":       {"fn main() { let x = 1; }\n", "fn", classKeyword},
		"sh":         {"# comment\necho hi\n", "# comment", classComment},
		"json":       {"{\"a\": 1}\n", "1", classNumber},
		"yaml":       {"a: 1 # c\n", "# c", classComment},
		"toml":       {"[a]\nb = \"c\"\n", "\"c\"", classString},
		"html":       {"<p class=\"x\">t</p>\n", "p", classType},
		"css":        {"a { color: red; } /* c */\n", "/* c */", classComment},
		"c":          {"int main(void) { return 0; }\n", "return", classKeyword},
		"diff":       {"--- a\n+++ b\n-old\n+new\n", "+new\n", classInserted},
		"dryad":      {"let x = 1\n", "let", classKeyword},
	}
	r := New()
	for lang, c := range cases {
		got, err := r.Render([]byte("```" + lang + "\n" + c.code + "```\n"))
		if err != nil {
			t.Fatal(err)
		}
		want := `<span class="` + c.class + `">` + escape(c.token) + `</span>`
		if !strings.Contains(got, want) {
			t.Errorf("%s: missing %s in\n%s", lang, want, got)
		}
	}
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

func TestHighlightEscapesAndUnknown(t *testing.T) {
	r := New()
	got, _ := r.Render([]byte("```dryad\nprint(\"</code><script>alert(1)</script>\")\n```\n\n```nosuchlang\n<b>x</b>\n```\n\n```\n<i>plain</i>\n```\n"))
	if strings.Contains(got, "<script") || strings.Contains(got, "<b>") || strings.Contains(got, "<i>") {
		t.Errorf("markup in code survived:\n%s", got)
	}
	if !strings.Contains(got, "&lt;b&gt;x&lt;/b&gt;") || !strings.Contains(got, `class="language-nosuchlang"`) {
		t.Errorf("unknown language not shown plain:\n%s", got)
	}
	if !strings.Contains(got, `<span class="hl-f">print</span>`) {
		t.Errorf("Dryad call not highlighted:\n%s", got)
	}
}

func TestHighlightLanguageNameInjection(t *testing.T) {
	r := New()
	for _, info := range []string{
		`"><script>alert(1)</script>`,
		`x" onmouseover="alert(1)`,
		`go onclick=alert(1)`,
		`hl-k`,
	} {
		got, err := r.Render([]byte("```" + info + "\ncode\n```\n"))
		if err != nil {
			t.Fatal(err)
		}
		l := strings.ToLower(got)
		for _, bad := range []string{"<script", "onmouseover", "onclick", `class="hl-k"><`} {
			if strings.Contains(l, bad) {
				t.Errorf("info %q: %q in\n%s", info, bad, got)
			}
		}
	}
}

func TestSanitizerKeepsOnlyHighlightClasses(t *testing.T) {
	r := New()
	got, _ := r.Render([]byte("```go\nfunc f() {}\n```\n"))
	if !strings.Contains(got, `<span class="hl-k">func</span>`) {
		t.Errorf("highlight class removed by the sanitiser:\n%s", got)
	}
	// Classes the highlighter never emits are removed, wherever they come from.
	out := r.policy.Sanitize(`<span class="evil">x</span><span class="hl-k">y</span><pre class="hl-k">z</pre>`)
	if strings.Contains(out, "evil") || strings.Contains(out, `<pre class`) || !strings.Contains(out, `<span class="hl-k">y</span>`) {
		t.Errorf("sanitised to %s", out)
	}
}

func TestHighlightBounded(t *testing.T) {
	r := New()
	huge := strings.Repeat("let x = \"y\"\n", MaxHighlightBlock/12+10)
	got, err := r.Render([]byte("```dryad\n" + huge + "```\n"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got, "<span") || !strings.Contains(got, "let x = &#34;y&#34;") {
		t.Errorf("a block above MaxHighlightBlock is not plain (len %d)", len(got))
	}
	// Many blocks under the per-block cap still stop at the README's budget.
	block := "```dryad\n" + strings.Repeat("let x = 1\n", 3000) + "```\n\n"
	got, _ = r.Render([]byte(strings.Repeat(block, MaxHighlightTotal/30000+3)))
	if n := strings.Count(got, `<span class="hl-k">let</span>`); n > MaxHighlightTotal/10 {
		t.Errorf("%d highlighted keywords: beyond the budget", n)
	}
}

func FuzzLexDryad(f *testing.F) {
	f.Add("let x = 1 // c\n")
	f.Add("\"unterminated\n/* open")
	f.Add("0x 1e+ 'a\\'b' ... ⊕ été(")
	f.Fuzz(func(t *testing.T, src string) {
		var b strings.Builder
		for _, tk := range lexDryad(src) {
			if tk.text == "" {
				t.Fatalf("empty token in %q", src)
			}
			b.WriteString(tk.text)
		}
		if b.String() != src {
			t.Fatalf("tokens spell %q, want %q", b.String(), src)
		}
	})
}

func BenchmarkRenderLargeReadme(b *testing.B) {
	block := "```dryad\n" + strings.Repeat("let x = \"y\" + 42 // note\n", 1000) + "```\n\n" +
		"```go\n" + strings.Repeat("func f() { return 1 }\n", 1000) + "```\n\n"
	src := []byte(strings.Repeat(block, MaxSource/len(block)))
	r := New()
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Render(src); err != nil {
			b.Fatal(err)
		}
	}
}
