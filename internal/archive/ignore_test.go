package archive

import "testing"

func TestIgnorePatterns(t *testing.T) {
	tests := []struct {
		pattern string
		path    string
		isDir   bool
		want    bool // matched (negation aside)
	}{
		// Plain names match at any depth.
		{"build", "build", true, true},
		{"build", "a/b/build", true, true},
		{"build", "a/build/x", false, false}, // the folder matches; its files are skipped with it
		{"*.log", "debug.log", false, true},
		{"*.log", "logs/deep/debug.log", false, true},
		{"*.log", "debug.log.txt", false, false},
		{"*.log", "logs", true, false},
		// A trailing slash matches folders only.
		{"tmp/", "tmp", true, true},
		{"tmp/", "tmp", false, false},
		{"tmp/", "a/tmp", true, true},
		// A leading or middle slash anchors.
		{"/todo.txt", "todo.txt", false, true},
		{"/todo.txt", "sub/todo.txt", false, false},
		{"doc/frotz", "doc/frotz", true, true},
		{"doc/frotz", "a/doc/frotz", true, false},
		{"doc/*.txt", "doc/a.txt", false, true},
		{"doc/*.txt", "doc/sub/a.txt", false, false},
		// ?, classes.
		{"file?.dryad", "file1.dryad", false, true},
		{"file?.dryad", "file10.dryad", false, false},
		{"file?", "file/", false, false},
		{"[abc].txt", "b.txt", false, true},
		{"[abc].txt", "d.txt", false, false},
		{"[a-c]x", "bx", false, true},
		{"[!a-c]x", "dx", false, true},
		{"[!a-c]x", "ax", false, false},
		{"[^a]x", "bx", false, true},
		{"a[/]b", "a/b", false, false},
		{"[]]x", "]x", false, true},
		{"[[:digit:]]x", "7x", false, true},
		{"[unclosed", "[unclosed", false, true},
		// **.
		{"**/foo", "foo", false, true},
		{"**/foo", "a/b/foo", false, true},
		{"**/foo/bar", "x/foo/bar", false, true},
		{"abc/**", "abc/x", false, true},
		{"abc/**", "abc/x/y", false, true},
		{"abc/**", "abc", true, false},
		{"a/**/b", "a/b", false, true},
		{"a/**/b", "a/x/y/b", false, true},
		{"a/**/b", "ab", false, false},
		{"a**b", "axxb", false, true},
		{"a**b", "ax/xb", false, false},
		// Escapes and spaces.
		{`\#notcomment`, "#notcomment", false, true},
		{`\!important`, "!important", false, true},
		{`trailing\ `, "trailing ", false, true},
		{"spaces   ", "spaces", false, true},
		{`a\*b`, "a*b", false, true},
		{`a\*b`, "axb", false, false},
		// Regular-expression characters are literal.
		{"a.b", "axb", false, false},
		{"(x)+", "(x)+", false, true},
		{"$HOME", "$HOME", false, true},
	}
	for _, tt := range tests {
		p, ok := parseIgnoreLine(tt.pattern)
		if !ok {
			// A pattern that does not compile matches nothing, as in git.
			if tt.want {
				t.Errorf("%q: not parsed as a pattern", tt.pattern)
			}
			continue
		}
		got := p.re.MatchString(tt.path) && (!p.dirOnly || tt.isDir)
		if got != tt.want {
			t.Errorf("pattern %q on %q (dir %v) = %v, want %v (regexp %s)", tt.pattern, tt.path, tt.isDir, got, tt.want, p.re)
		}
	}
}

func TestIgnoreSkippedLines(t *testing.T) {
	for _, line := range []string{"", "   ", "# comment", "/", "!", "\r"} {
		if p, ok := parseIgnoreLine(line); ok {
			t.Errorf("%q parsed as pattern %s", line, p.re)
		}
	}
	if got := len(parseIgnore("a\n\n# c\r\nb\r\n!c\n")); got != 3 {
		t.Errorf("parsed %d patterns, want 3", got)
	}
}

func TestIgnorerPrecedence(t *testing.T) {
	ig := newIgnorer()
	ig.add("", parseIgnore("*.log\n!keep.log\nbuild/\n/secret\n"))
	ig.add("sub", parseIgnore("!*.log\nlocal\n"))
	ig.add("sub", parseIgnore("again.log\n")) // a later file (.oakignore) wins
	tests := []struct {
		path  string
		isDir bool
		want  bool
	}{
		{"a.log", false, true},
		{"keep.log", false, false},
		{"x/keep.log", false, false},
		{"x/a.log", false, true},
		{"sub/a.log", false, false}, // re-included by the deeper file
		{"sub/again.log", false, true},
		{"sub/local", false, true},
		{"local", false, false}, // sub's pattern is relative to sub
		{"build", true, true},
		{"build", false, false},
		{"secret", false, true},
		{"sub/secret", false, false},
		{"main.dryad", false, false},
	}
	for _, tt := range tests {
		if got := ig.ignored(tt.path, tt.isDir); got != tt.want {
			t.Errorf("ignored(%q, %v) = %v, want %v", tt.path, tt.isDir, got, tt.want)
		}
	}
}
