package textdiff

import (
	"fmt"
	"strings"
	"testing"
)

// render writes edits as " x", "-x", "+x" lines.
func render(edits []Edit) string {
	var b strings.Builder
	for _, e := range edits {
		b.WriteString(string(" -+"[e.Op]))
		b.WriteString(strings.TrimSuffix(e.Line, "\n"))
		b.WriteString("|")
	}
	return b.String()
}

func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func TestLines(t *testing.T) {
	for _, c := range []struct{ a, b, want string }{
		{"", "", ""},
		{"a", "a", " a|"},
		{"", "a,b", "+a|+b|"},
		{"a,b", "", "-a|-b|"},
		{"a,b,c", "a,x,c", " a|-b|+x| c|"},
		{"a,b,c,d", "a,c,d,e", " a|-b| c| d|+e|"},
		{"x,a,b", "a,b,y", "-x| a| b|+y|"},
		// Myers' example: a shortest script of 5 edits.
		{"a,b,c,a,b,b,a", "c,b,a,b,a,c", "-a|-b| c|+b| a| b|-b| a|+c|"},
	} {
		edits, ok := Lines(lines(c.a), lines(c.b), 100)
		if !ok {
			t.Fatalf("%q -> %q: gave up", c.a, c.b)
		}
		if got := render(edits); got != c.want {
			t.Errorf("%q -> %q:\n got %s\nwant %s", c.a, c.b, got, c.want)
		}
	}
}

func TestLinesBounded(t *testing.T) {
	var a, b []string
	for i := 0; i < 500; i++ {
		a = append(a, fmt.Sprint("a", i))
		b = append(b, fmt.Sprint("b", i))
	}
	if _, ok := Lines(a, b, 100); ok {
		t.Error("1000 edits found with a bound of 100")
	}
	if edits, ok := Lines(a, b, 1000); !ok || len(edits) != 1000 {
		t.Errorf("1000 edits within a bound of 1000: ok %v, %d edits", ok, len(edits))
	}
}

func TestSplitLines(t *testing.T) {
	for in, want := range map[string]int{"": 0, "a": 1, "a\n": 1, "a\nb": 2, "a\n\n": 2} {
		got := SplitLines(in)
		if len(got) != want || strings.Join(got, "") != in {
			t.Errorf("SplitLines(%q) = %q", in, got)
		}
	}
	// A newline added at the end is a change.
	edits, _ := Lines(SplitLines("a\nb"), SplitLines("a\nb\n"), 10)
	if render(edits) != " a|-b|+b|" {
		t.Errorf("newline at end: %s", render(edits))
	}
}

func TestHunks(t *testing.T) {
	var a []string
	for i := 1; i <= 20; i++ {
		a = append(a, fmt.Sprint(i))
	}
	b := append([]string(nil), a...)
	b[2] = "three"                // line 3 changed
	b = append(b[:10], b[11:]...) // line 11 removed
	b = append(b, "21")           // line 21 added
	edits, _ := Lines(a, b, 100)
	hunks := Hunks(edits, 2)
	var got []string
	for _, h := range hunks {
		got = append(got, fmt.Sprintf("@@ -%d,%d +%d,%d @@ %d", h.OldStart, h.OldLines, h.NewStart, h.NewLines, len(h.Lines)))
	}
	want := []string{"@@ -1,5 +1,5 @@ 6", "@@ -9,5 +9,4 @@ 5", "@@ -19,2 +18,3 @@ 3"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("hunks:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if l := hunks[0].Lines[2]; l.Op != Delete || l.Text != "3" || l.OldNum != 3 || l.NewNum != 0 {
		t.Errorf("line numbers: %+v", l)
	}
	// Close changes share a hunk.
	for context, want := range map[int]int{3: 3, 4: 2, 5: 1} {
		if h := Hunks(edits, context); len(h) != want {
			t.Errorf("context %d: %d hunks, want %d", context, len(h), want)
		}
	}
	// A file made empty: the new side is empty and starts at 0.
	edits, _ = Lines([]string{"x"}, nil, 10)
	if h := Hunks(edits, 3); len(h) != 1 || h[0].OldStart != 1 || h[0].NewStart != 0 || h[0].NewLines != 0 {
		t.Errorf("emptied: %+v", h)
	}
}

func FuzzLines(f *testing.F) {
	f.Add("a\nb\nc\n", "a\nx\nc\n")
	f.Add("", "new\n")
	f.Add("x\ny", "y\nx\n")
	f.Add("a\na\na\nb\n", "b\na\na\n")
	f.Fuzz(func(t *testing.T, old, new string) {
		a, b := SplitLines(old), SplitLines(new)
		edits, ok := Lines(a, b, len(a)+len(b))
		if !ok {
			t.Fatalf("gave up within a bound of every line")
		}
		got, ok := Apply(a, edits)
		if !ok || strings.Join(got, "") != new {
			t.Fatalf("applying the diff of %q to %q gives %q (fits %v)", old, new, strings.Join(got, ""), ok)
		}
		// Hunks cover every change, with the right counts.
		changes := 0
		for _, e := range edits {
			if e.Op != Equal {
				changes++
			}
		}
		inHunks := 0
		for _, h := range Hunks(edits, 3) {
			o, n := 0, 0
			for _, l := range h.Lines {
				if l.Op != Equal {
					inHunks++
				}
				if l.Op != Insert {
					o++
				}
				if l.Op != Delete {
					n++
				}
			}
			if o != h.OldLines || n != h.NewLines {
				t.Fatalf("hunk counts %d,%d for %d,%d lines", h.OldLines, h.NewLines, o, n)
			}
		}
		if inHunks != changes {
			t.Fatalf("%d changes, %d in hunks", changes, inHunks)
		}
	})
}
