// Package manifest reads and validates oaklibs.json, the manifest every
// Dryad package carries at its root, and holds the registry's rules for
// package names, versions (strict SemVer 2.0) and npm-style version ranges.
package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dryad-lang/registry/internal/errs"
)

// Limits of descriptive fields, so one manifest cannot bloat every page and
// document it appears in.
const (
	MaxDescriptionLength = 1000
	MaxKeywords          = 20
	MaxKeywordLength     = 50
	MaxURLLength         = 512
	MaxFieldLength       = 256
	MaxDependencies      = 200
	MaxScripts           = 100
)

// Manifest is a validated oaklibs.json.
type Manifest struct {
	Name            string
	Version         string
	Description     string
	Author          string
	License         string
	Type            string
	Main            string
	Dependencies    map[string]string
	DevDependencies map[string]string
	Scripts         map[string]string
	Keywords        []string
	Homepage        string
	Repository      string
	Exports         map[string]string
}

// raw mirrors the JSON; fields with more than one accepted shape stay raw.
type raw struct {
	Name            *string           `json:"name"`
	Version         *string           `json:"version"`
	Description     *string           `json:"description"`
	Author          json.RawMessage   `json:"author"`
	License         *string           `json:"license"`
	Type            *string           `json:"type"`
	Main            *string           `json:"main"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"dev_dependencies"`
	Scripts         map[string]string `json:"scripts"`
	Keywords        []string          `json:"keywords"`
	Homepage        *string           `json:"homepage"`
	Repository      json.RawMessage   `json:"repository"`
	Exports         map[string]string `json:"exports"`
}

func invalid(format string, args ...any) error {
	return errs.Errorf(errs.Invalid, "oaklibs.json: "+format, args...)
}

// Parse reads and validates an oaklibs.json. Unknown fields are ignored.
func Parse(data []byte) (*Manifest, error) {
	if !utf8.Valid(data) {
		return nil, invalid("not valid UTF-8 text")
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, invalid("must be a JSON object ({\"name\": …, \"version\": …})")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var r raw
	if err := dec.Decode(&r); err != nil {
		return nil, invalid("%s", jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalid("unexpected data after the JSON object")
	}
	if err := exactKeys(data); err != nil {
		return nil, err
	}

	m := &Manifest{}
	if r.Name == nil || *r.Name == "" {
		return nil, invalid(`"name" is missing; add "name": "your-package"`)
	}
	m.Name = *r.Name
	if err := ValidateName(m.Name); err != nil {
		return nil, invalid("%s", errs.Message(err))
	}
	if r.Version == nil || *r.Version == "" {
		return nil, invalid(`"version" is missing; add "version": "1.0.0"`)
	}
	m.Version = *r.Version
	if _, err := ParseVersion(m.Version); err != nil {
		return nil, invalid("%s", errs.Message(err))
	}

	var err error
	if m.Description, err = text("description", r.Description, MaxDescriptionLength); err != nil {
		return nil, err
	}
	if m.License, err = text("license", r.License, MaxFieldLength); err != nil {
		return nil, err
	}
	if m.Main, err = text("main", r.Main, MaxFieldLength); err != nil {
		return nil, err
	}
	m.Type = "library"
	if r.Type != nil && *r.Type != "" {
		if *r.Type != "library" && *r.Type != "project" {
			return nil, invalid(`"type" %q: want "library" or "project"`, *r.Type)
		}
		m.Type = *r.Type
	}
	if m.Author, err = author(r.Author); err != nil {
		return nil, err
	}
	if m.Homepage, err = link("homepage", r.Homepage); err != nil {
		return nil, err
	}
	if m.Repository, err = repository(r.Repository); err != nil {
		return nil, err
	}
	if m.Keywords, err = keywords(r.Keywords); err != nil {
		return nil, err
	}
	if m.Dependencies, err = dependencies("dependencies", r.Dependencies, m.Name); err != nil {
		return nil, err
	}
	if m.DevDependencies, err = dependencies("dev_dependencies", r.DevDependencies, m.Name); err != nil {
		return nil, err
	}
	if m.Scripts, err = stringMap("scripts", r.Scripts, MaxScripts); err != nil {
		return nil, err
	}
	if m.Exports, err = stringMap("exports", r.Exports, MaxDependencies); err != nil {
		return nil, err
	}
	return m, nil
}

// knownFields are the manifest's fields, spelled as Oak spells them.
var knownFields = []string{"name", "version", "description", "author", "license", "type", "main",
	"dependencies", "dev_dependencies", "scripts", "keywords", "homepage", "repository", "exports"}

// exactKeys refuses a known field written twice or in another case.
// encoding/json matches field names case-insensitively and keeps the last
// of repeated ones, while Oak's parser is case-sensitive and refuses
// repeats: without this check {"name": "a", "NAME": "b"} would be package b
// here and package a to Oak. data is known to be one valid JSON object.
func exactKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // '{'
		return invalid("%s", jsonProblem(err))
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return invalid("%s", jsonProblem(err))
		}
		key, _ := tok.(string)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return invalid("%s", jsonProblem(err))
		}
		for _, f := range knownFields {
			switch {
			case key == f && seen[f]:
				return invalid("%q appears twice; keep one", f)
			case key == f:
				seen[f] = true
			case strings.EqualFold(key, f):
				return invalid("%q: field names are lowercase; write %q", key, f)
			}
		}
	}
	return nil
}

// jsonProblem describes a decoding error without Go type names.
func jsonProblem(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("malformed JSON at byte %d: %v", e.Offset, e)
	case *json.UnmarshalTypeError:
		want := map[string]string{"string": "a string", "map[string]string": "an object of strings", "[]string": "a list of strings"}[e.Type.String()]
		if want == "" {
			want = "a different type"
		}
		return fmt.Sprintf("%q must be %s, not %s", e.Field, want, e.Value)
	}
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return "the JSON ends too early"
	}
	return "malformed JSON: " + err.Error()
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' && r != '\r' || r == 0x7f {
			return true
		}
	}
	return false
}

func text(field string, v *string, max int) (string, error) {
	if v == nil {
		return "", nil
	}
	s := strings.TrimSpace(*v)
	if utf8.RuneCountInString(s) > max {
		return "", invalid("%q is longer than %d characters", field, max)
	}
	if hasControl(s) {
		return "", invalid("%q contains control characters", field)
	}
	return s, nil
}

func link(field string, v *string) (string, error) {
	s, err := text(field, v, MaxURLLength)
	if err != nil || s == "" {
		return s, err
	}
	u, perr := url.Parse(s)
	if perr != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "git" && u.Scheme != "ssh" && u.Scheme != "git+https" && u.Scheme != "git+ssh") || u.Host == "" {
		return "", invalid("%q %q is not an http(s) or git URL", field, s)
	}
	return s, nil
}

// author accepts "Name <email> (url)" as a string, or an npm-style object
// {"name", "email", "url"}, and returns a string.
func author(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return text("author", &s, MaxFieldLength)
	}
	var o struct {
		Name, Email, URL string
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return "", invalid(`"author" must be a string or an object {"name", "email", "url"}`)
	}
	s = o.Name
	if o.Email != "" {
		s += " <" + o.Email + ">"
	}
	if o.URL != "" {
		s += " (" + o.URL + ")"
	}
	return text("author", &s, MaxFieldLength)
}

// repository accepts a URL string or {"type": "git", "url": "…"}.
func repository(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		var o struct {
			Type string `json:"type"`
			URL  string `json:"url"`
		}
		if err := json.Unmarshal(raw, &o); err != nil {
			return "", invalid(`"repository" must be a URL string or an object {"type": "git", "url": "…"}`)
		}
		s = o.URL
	}
	return link("repository", &s)
}

func keywords(kw []string) ([]string, error) {
	if len(kw) > MaxKeywords {
		return nil, invalid(`"keywords" has %d entries; at most %d`, len(kw), MaxKeywords)
	}
	var out []string
	seen := map[string]bool{}
	for _, k := range kw {
		k = strings.ToLower(strings.TrimSpace(k))
		if k == "" || seen[k] {
			continue
		}
		if utf8.RuneCountInString(k) > MaxKeywordLength || hasControl(k) {
			return nil, invalid("keyword %q: at most %d characters, no control characters", k, MaxKeywordLength)
		}
		seen[k] = true
		out = append(out, k)
	}
	return out, nil
}

func dependencies(field string, deps map[string]string, self string) (map[string]string, error) {
	if len(deps) > MaxDependencies {
		return nil, invalid("%q has %d entries; at most %d", field, len(deps), MaxDependencies)
	}
	out := make(map[string]string, len(deps))
	seen := map[string]string{}
	names := make([]string, 0, len(deps))
	for name := range deps {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := ValidateName(name); err != nil {
			return nil, invalid("%s: %s", field, errs.Message(err))
		}
		norm := NormalizeName(name)
		if norm == NormalizeName(self) {
			return nil, invalid("%s: a package cannot depend on itself (%q)", field, name)
		}
		if other, dup := seen[norm]; dup {
			return nil, invalid("%s: %q and %q are the same package", field, other, name)
		}
		seen[norm] = name
		if _, err := ParseRange(deps[name]); err != nil {
			return nil, invalid("%s: %q: %s", field, name, errs.Message(err))
		}
		out[name] = deps[name]
	}
	return out, nil
}

func stringMap(field string, m map[string]string, max int) (map[string]string, error) {
	if len(m) > max {
		return nil, invalid("%q has %d entries; at most %d", field, len(m), max)
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k == "" || len(k) > MaxFieldLength || len(v) > 4*MaxFieldLength || strings.ContainsFunc(k, unicode.IsControl) {
			return nil, invalid("%q: entry %q is empty, too long or contains control characters", field, k)
		}
		out[k] = v
	}
	return out, nil
}
