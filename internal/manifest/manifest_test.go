package manifest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/errs"
)

// with returns the manifest {"name":"mylib","version":"1.0.0"} with extra
// raw JSON members appended, e.g. with(`"license": "MIT"`).
func with(members ...string) string {
	return `{"name": "mylib", "version": "1.0.0"` + func() string {
		var b strings.Builder
		for _, m := range members {
			b.WriteString(", " + m)
		}
		return b.String()
	}() + "}"
}

func TestParseEveryField(t *testing.T) {
	src := `{
  "name": "mylib",
  "version": "1.2.3-beta.1+build.5",
  "description": "  A library for things.  ",
  "author": "Alice <alice@example.org>",
  "license": "MIT OR Apache-2.0",
  "type": "library",
  "main": "src/main.dryad",
  "dependencies": {"dryad-utils": "^1.0.0", "other_lib": ">=1.0.0 <2.0.0", "any": "latest"},
  "dev_dependencies": {"test-kit": "~0.3"},
  "scripts": {"test": "dryad test", "check": "dryad check src/main.dryad"},
  "keywords": ["Math", " utils ", "math", "", "numbers"],
  "homepage": "https://example.org/mylib",
  "repository": {"type": "git", "url": "https://git.example.org/alice/mylib.git"},
  "exports": {"math": "lib/math.dryad"},
  "unknown_field": {"is": ["ignored"]}
}`
	m, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := &Manifest{
		Name:            "mylib",
		Version:         "1.2.3-beta.1+build.5",
		Description:     "A library for things.",
		Author:          "Alice <alice@example.org>",
		License:         "MIT OR Apache-2.0",
		Type:            "library",
		Main:            "src/main.dryad",
		Dependencies:    map[string]string{"dryad-utils": "^1.0.0", "other_lib": ">=1.0.0 <2.0.0", "any": "latest"},
		DevDependencies: map[string]string{"test-kit": "~0.3"},
		Scripts:         map[string]string{"test": "dryad test", "check": "dryad check src/main.dryad"},
		Keywords:        []string{"math", "utils", "numbers"},
		Homepage:        "https://example.org/mylib",
		Repository:      "https://git.example.org/alice/mylib.git",
		Exports:         map[string]string{"math": "lib/math.dryad"},
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", m, want)
	}
}

// TestParseAsOakInitWrites parses the manifests `oak init` writes.
func TestParseAsOakInitWrites(t *testing.T) {
	for _, src := range []string{
		`{"name":"meu-projeto","version":"0.1.0","description":null,"author":null,"license":"MIT","type":"project","main":"main.dryad","dependencies":{},"dev_dependencies":{},"scripts":{"start":"dryad run main.dryad","test":"dryad test","check":"dryad check main.dryad"}}`,
		`{"name":"minha-biblioteca","version":"0.1.0","description":null,"author":null,"license":"MIT","type":"library","main":"src/main.dryad","dependencies":{"dryad-stdlib":"^0.1.0"},"dev_dependencies":{},"scripts":{"check":"dryad check src/main.dryad","test":"dryad test"}}`,
	} {
		if _, err := Parse([]byte(src)); err != nil {
			t.Errorf("Parse(%s): %v", src, err)
		}
	}
}

func TestParseDefaults(t *testing.T) {
	m, err := Parse([]byte(`{"name":"a","version":"0.0.1"}`))
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != "library" {
		t.Errorf("Type = %q, want library", m.Type)
	}
	if m.Dependencies == nil || m.DevDependencies == nil || m.Scripts == nil || m.Exports == nil {
		t.Errorf("maps should be empty, not nil: %+v", m)
	}
	if len(m.Keywords) != 0 || m.Author != "" || m.Repository != "" || m.Homepage != "" {
		t.Errorf("optional fields should be empty: %+v", m)
	}
	// null is the same as absent, for every optional field.
	nulls := `{"name":"a","version":"0.0.1","description":null,"author":null,"license":null,"type":null,"main":null,
		"dependencies":null,"dev_dependencies":null,"scripts":null,"keywords":null,"homepage":null,"repository":null,"exports":null}`
	if _, err := Parse([]byte(nulls)); err != nil {
		t.Errorf("nulls: %v", err)
	}
}

func TestParseAuthor(t *testing.T) {
	tests := []struct{ json, want string }{
		{`"Alice"`, "Alice"},
		{`"  Alice <a@example.org> (https://a.example.org)  "`, "Alice <a@example.org> (https://a.example.org)"},
		{`""`, ""},
		{`null`, ""},
		{`{"name": "Alice"}`, "Alice"},
		{`{"name": "Alice", "email": "a@example.org"}`, "Alice <a@example.org>"},
		{`{"name": "Alice", "email": "a@example.org", "url": "https://a.example.org"}`, "Alice <a@example.org> (https://a.example.org)"},
		{`{"name": "Alice", "url": "https://a.example.org"}`, "Alice (https://a.example.org)"},
		{`{"name": "Alice", "twitter": "@alice"}`, "Alice"},
		{`{}`, ""},
	}
	for _, tt := range tests {
		m, err := Parse([]byte(with(`"author": ` + tt.json)))
		if err != nil {
			t.Errorf("author %s: %v", tt.json, err)
			continue
		}
		if m.Author != tt.want {
			t.Errorf("author %s = %q, want %q", tt.json, m.Author, tt.want)
		}
	}
}

func TestParseRepository(t *testing.T) {
	tests := []struct{ json, want string }{
		{`"https://git.example.org/a/b"`, "https://git.example.org/a/b"},
		{`"git://git.example.org/a/b.git"`, "git://git.example.org/a/b.git"},
		{`"ssh://git@git.example.org/a/b.git"`, "ssh://git@git.example.org/a/b.git"},
		{`"git+https://git.example.org/a/b.git"`, "git+https://git.example.org/a/b.git"},
		{`"git+ssh://git@git.example.org/a/b.git"`, "git+ssh://git@git.example.org/a/b.git"},
		{`{"type": "git", "url": "https://git.example.org/a/b.git"}`, "https://git.example.org/a/b.git"},
		{`{"url": "http://git.example.org/a/b"}`, "http://git.example.org/a/b"},
		{`""`, ""},
		{`null`, ""},
	}
	for _, tt := range tests {
		m, err := Parse([]byte(with(`"repository": ` + tt.json)))
		if err != nil {
			t.Errorf("repository %s: %v", tt.json, err)
			continue
		}
		if m.Repository != tt.want {
			t.Errorf("repository %s = %q, want %q", tt.json, m.Repository, tt.want)
		}
	}
}

func TestParseKeywords(t *testing.T) {
	var twenty, twentyOne []string
	for i := range MaxKeywords + 1 {
		q := fmt.Sprintf("%q", fmt.Sprint("k", i))
		if i < MaxKeywords {
			twenty = append(twenty, q)
		}
		twentyOne = append(twentyOne, q)
	}
	m, err := Parse([]byte(with(`"keywords": [` + strings.Join(twenty, ",") + `]`)))
	if err != nil {
		t.Fatalf("%d keywords: %v", MaxKeywords, err)
	}
	if len(m.Keywords) != MaxKeywords {
		t.Errorf("got %d keywords", len(m.Keywords))
	}
	if _, err := Parse([]byte(with(`"keywords": [` + strings.Join(twentyOne, ",") + `]`))); err == nil || !strings.Contains(errs.Message(err), `"keywords" has 21 entries; at most 20`) {
		t.Errorf("21 keywords: %v", err)
	}
	long := strings.Repeat("é", MaxKeywordLength)
	if _, err := Parse([]byte(with(`"keywords": ["` + long + `"]`))); err != nil {
		t.Errorf("a keyword of %d characters: %v", MaxKeywordLength, err)
	}
	if _, err := Parse([]byte(with(`"keywords": ["` + long + `x"]`))); err == nil || !strings.Contains(errs.Message(err), "at most 50 characters") {
		t.Errorf("a keyword of %d characters: %v", MaxKeywordLength+1, err)
	}
}

func TestParseDependencies(t *testing.T) {
	ok := []string{
		`"dependencies": {}`,
		`"dependencies": {"a": "1.0.0", "b": "^1", "c": "*", "d": "", "e": "latest", "f": "1.x || 2.x"}`,
		`"dependencies": {"foo-bar": "1.0.0"}, "dev_dependencies": {"foo_bar": "2.0.0"}`,
	}
	for _, o := range ok {
		if _, err := Parse([]byte(with(o))); err != nil {
			t.Errorf("%s: %v", o, err)
		}
	}
	many := make([]string, MaxDependencies+1)
	for i := range many {
		many[i] = fmt.Sprintf(`"dep%d": "1.0.0"`, i)
	}
	tests := []struct{ member, want string }{
		{`"dependencies": {"mylib": "1.0.0"}`, `dependencies: a package cannot depend on itself ("mylib")`},
		{`"dev_dependencies": {"mylib": "1.0.0"}`, `dev_dependencies: a package cannot depend on itself`},
		{`"dependencies": {"MyLib": "1.0.0"}`, `dependencies: package name "MyLib" has uppercase letters`},
		{`"dependencies": {"foo-bar": "1.0.0", "foo_bar": "1.0.0"}`, `dependencies: "foo-bar" and "foo_bar" are the same package`},
		{`"dependencies": {"Bad Name": "1.0.0"}`, `dependencies: package name "Bad Name" has uppercase letters`},
		{`"dependencies": {"": "1.0.0"}`, `dependencies: package name "" is empty`},
		{`"dependencies": {"api": "1.0.0"}`, `dependencies: package name "api" is reserved`},
		{`"dependencies": {"dep": "not a range"}`, `dependencies: "dep": "not a range" is not a version range`},
		{`"dev_dependencies": {"dep": "v1.0.0"}`, `dev_dependencies: "dep": "v1.0.0" is not a version range`},
		{`"dependencies": {` + strings.Join(many, ",") + `}`, `"dependencies" has 201 entries; at most 200`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(with(tt.member)))
		if err == nil || !strings.Contains(errs.Message(err), tt.want) {
			t.Errorf("%.80s: got %v, want an error containing %q", tt.member, err, tt.want)
		}
	}
	// A package named with '_' cannot depend on its '-' spelling.
	_, err := Parse([]byte(`{"name": "foo_bar", "version": "1.0.0", "dependencies": {"foo-bar": "1"}}`))
	if err == nil || !strings.Contains(errs.Message(err), "cannot depend on itself") {
		t.Errorf("self-dependency through another spelling: %v", err)
	}
}

// TestParseRefuses checks that every bad manifest is refused as Invalid
// with a message naming the problem.
func TestParseRefuses(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name, src, want string
	}{
		// Not a JSON object.
		{"empty", ``, "must be a JSON object"},
		{"spaces", "  \n ", "must be a JSON object"},
		{"array", `[{"name": "a"}]`, "must be a JSON object"},
		{"string", `"mylib"`, "must be a JSON object"},
		{"null", `null`, "must be a JSON object"},
		{"truncated", `{"name": "mylib", "version": "1.0`, "the JSON ends too early"},
		{"syntax", `{"name": "mylib",, "version": "1.0.0"}`, "malformed JSON at byte 18"},
		{"trailing comma", `{"name": "mylib", "version": "1.0.0",}`, "malformed JSON"},
		{"comment", `{"name": "mylib", /* c */ "version": "1.0.0"}`, "malformed JSON"},
		{"trailing object", with() + `{}`, "unexpected data after the JSON object"},
		{"trailing text", with() + ` garbage`, "unexpected data after the JSON object"},
		{"trailing brace", with() + `}`, "unexpected data after the JSON object"},
		{"not UTF-8", `{"name": "mylib", "version": "1.0.0", "description": "caf` + "\xe9" + `"}`, "not valid UTF-8"},
		{"UTF-16 BOM", "\xff\xfe{\x00}\x00", "not valid UTF-8"},

		// Required fields.
		{"no name", `{"version": "1.0.0"}`, `"name" is missing`},
		{"empty name", `{"name": "", "version": "1.0.0"}`, `"name" is missing`},
		{"no version", `{"name": "mylib"}`, `"version" is missing`},
		{"empty version", `{"name": "mylib", "version": ""}`, `"version" is missing`},
		{"bad name", `{"name": "My Lib", "version": "1.0.0"}`, `package name "My Lib" has uppercase letters`},
		{"reserved name", `{"name": "admin", "version": "1.0.0"}`, `"admin" is reserved`},
		{"bad version", `{"name": "mylib", "version": "1.0"}`, `"1.0" is not a SemVer 2.0 version`},
		{"v version", `{"name": "mylib", "version": "v1.0.0"}`, `drop the leading "v"`},

		// Wrong types, field by field.
		{"name number", `{"name": 5, "version": "1.0.0"}`, `"name" must be a string, not number`},
		{"name object", `{"name": {}, "version": "1.0.0"}`, `"name" must be a string, not object`},
		{"version number", `{"name": "mylib", "version": 1.0}`, `"version" must be a string, not number`},
		{"description array", with(`"description": ["a"]`), `"description" must be a string, not array`},
		{"license bool", with(`"license": true`), `"license" must be a string, not bool`},
		{"type number", with(`"type": 1`), `"type" must be a string, not number`},
		{"main object", with(`"main": {}`), `"main" must be a string, not object`},
		{"homepage number", with(`"homepage": 1`), `"homepage" must be a string, not number`},
		{"dependencies list", with(`"dependencies": ["a"]`), `"dependencies" must be an object of strings, not array`},
		{"dependencies string", with(`"dependencies": "a"`), `"dependencies" must be an object of strings, not string`},
		{"dependency number", with(`"dependencies": {"a": 1}`), `must be a string, not number`},
		{"dev_dependencies bool", with(`"dev_dependencies": false`), `"dev_dependencies" must be an object of strings, not bool`},
		{"scripts list", with(`"scripts": []`), `"scripts" must be an object of strings, not array`},
		{"script object", with(`"scripts": {"test": {"cmd": "x"}}`), `must be a string, not object`},
		{"keywords string", with(`"keywords": "a, b"`), `"keywords" must be a list of strings, not string`},
		{"keyword number", with(`"keywords": ["a", 2]`), `must be a string, not number`},
		{"exports list", with(`"exports": ["a"]`), `"exports" must be an object of strings, not array`},
		{"author number", with(`"author": 42`), `"author" must be a string or an object`},
		{"author list", with(`"author": ["Alice"]`), `"author" must be a string or an object`},
		{"author name number", with(`"author": {"name": 1}`), `"author" must be a string or an object`},
		{"repository number", with(`"repository": 1`), `"repository" must be a URL string or an object`},
		{"repository url number", with(`"repository": {"url": 1}`), `"repository" must be a URL string or an object`},

		// Values.
		{"type other", with(`"type": "application"`), `"type" "application": want "library" or "project"`},
		{"description long", with(`"description": "` + long(MaxDescriptionLength+1) + `"`), `"description" is longer than 1000 characters`},
		{"license long", with(`"license": "` + long(MaxFieldLength+1) + `"`), `"license" is longer than 256 characters`},
		{"main long", with(`"main": "` + long(MaxFieldLength+1) + `"`), `"main" is longer than 256 characters`},
		{"author long", with(`"author": "` + long(MaxFieldLength+1) + `"`), `"author" is longer than 256 characters`},
		{"author object long", with(`"author": {"name": "` + long(200) + `", "email": "` + long(60) + `"}`), `"author" is longer than 256 characters`},
		{"description control", with(`"description": "a\u0000b"`), `"description" contains control characters`},
		{"license escape", with(`"license": "MIT\u001b[31m"`), `"license" contains control characters`},
		{"author DEL", with(`"author": "a\u007f"`), `"author" contains control characters`},
		{"homepage not URL", with(`"homepage": "example.org"`), `"homepage" "example.org" is not an http(s) or git URL`},
		{"homepage javascript", with(`"homepage": "javascript:alert(1)"`), `is not an http(s) or git URL`},
		{"homepage file", with(`"homepage": "file:///etc/passwd"`), `is not an http(s) or git URL`},
		{"homepage no host", with(`"homepage": "https://"`), `is not an http(s) or git URL`},
		{"homepage long", with(`"homepage": "https://example.org/` + long(MaxURLLength) + `"`), `"homepage" is longer than 512 characters`},
		{"repository not URL", with(`"repository": "alice/mylib"`), `"repository" "alice/mylib" is not an http(s) or git URL`},
		{"repository object not URL", with(`"repository": {"type": "git", "url": "data:text/html,x"}`), `is not an http(s) or git URL`},
		{"keyword control", with(`"keywords": ["a\u0007"]`), `keyword "a\a": at most 50 characters, no control characters`},
		{"script empty name", with(`"scripts": {"": "x"}`), `"scripts": entry "" is empty, too long or contains control characters`},
		{"script control name", with(`"scripts": {"a\nb": "x"}`), `"scripts": entry "a\nb"`},
		{"script long command", with(`"scripts": {"t": "` + long(4*MaxFieldLength+1) + `"}`), `"scripts": entry "t"`},
		{"export long name", with(`"exports": {"` + long(MaxFieldLength+1) + `": "x"}`), `"exports": entry`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.src))
			if err == nil {
				t.Fatalf("Parse(%.100s) = %+v, want an error containing %q", tt.src, m, tt.want)
			}
			if !errors.Is(err, errs.Invalid) {
				t.Errorf("kind %v, want Invalid", errs.KindOf(err))
			}
			msg := errs.Message(err)
			if !strings.HasPrefix(msg, "oaklibs.json: ") || !strings.Contains(msg, tt.want) {
				t.Errorf("message %q, want it to contain %q", msg, tt.want)
			}
		})
	}
}

func TestParseLimitsAtTheEdge(t *testing.T) {
	at := func(n int) string { return strings.Repeat("é", n) } // counted in characters, not bytes
	for _, src := range []string{
		with(`"description": "` + at(MaxDescriptionLength) + `"`),
		with(`"license": "` + at(MaxFieldLength) + `"`),
		with(`"author": "` + at(MaxFieldLength) + `"`),
		with(`"description": "line one\nline two\ttabbed\r\n"`),
	} {
		if _, err := Parse([]byte(src)); err != nil {
			t.Errorf("Parse(%.60s…): %v", src, err)
		}
	}
}

func TestParseBOMAndWhitespace(t *testing.T) {
	for _, src := range []string{
		"\ufeff" + with(),
		"\n\t " + with() + "\n\n",
		"\ufeff  " + with() + " ",
	} {
		m, err := Parse([]byte(src))
		if err != nil {
			t.Errorf("Parse(%q): %v", src, err)
			continue
		}
		if m.Name != "mylib" {
			t.Errorf("Parse(%q).Name = %q", src, m.Name)
		}
	}
	// Only one BOM, and only at the start.
	for _, src := range []string{"\ufeff\ufeff" + with(), " \ufeff" + with()} {
		if _, err := Parse([]byte(src)); err == nil {
			t.Errorf("Parse(%q) accepted a misplaced BOM", src)
		}
	}
}

// TestParseKeysAreExact checks that field names match exactly and only
// once. Oak reads manifests with a case-sensitive parser that refuses a
// repeated field; the registry must not give a manifest another meaning.
func TestParseKeysAreExact(t *testing.T) {
	tests := []struct{ src, want string }{
		{`{"name": "mylib", "version": "1.0.0", "name": "other"}`, `"name" appears twice`},
		{with(`"dependencies": {}`, `"dependencies": {"x": "1"}`), `"dependencies" appears twice`},
		{`{"Name": "mylib", "version": "1.0.0"}`, `"Name": field names are lowercase; write "name"`},
		{with(`"Dependencies": {"x": "1"}`), `"Dependencies": field names are lowercase; write "dependencies"`},
		{with(`"DEV_DEPENDENCIES": {}`), `write "dev_dependencies"`},
		{`{"name": "mylib", "VERSION": "2.0.0", "version": "1.0.0"}`, `write "version"`},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.src))
		if err == nil || !strings.Contains(errs.Message(err), tt.want) {
			t.Errorf("Parse(%s) = %v, want an error containing %q", tt.src, err, tt.want)
		}
	}
	// Unknown fields stay ignored, whatever their case, and repeated
	// unknown fields are no concern of the registry's.
	for _, src := range []string{
		with(`"devDependencies": {"x": "not checked"}`),
		with(`"Extra": 1`, `"Extra": 2`),
		with(`"private": true`),
	} {
		if _, err := Parse([]byte(src)); err != nil {
			t.Errorf("Parse(%s): %v", src, err)
		}
	}
}
