package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/dryad-lang/registry/internal/errs"
)

// The API reference page (/docs/api) is the registry's OpenAPI document
// read once at start and shown as a page: operations grouped by tag, then
// the schemas they refer to. The document is the one source; this page
// only lays it out.

// apiReference is the page model of the API reference.
type apiReference struct {
	Title, Description string
	Groups             []apiGroup
	Schemas            []apiSchema
}

type apiGroup struct {
	Tag, Description string
	Operations       []apiOperation
}

type apiOperation struct {
	ID, Method, Path, Summary, Description string
	// Auth says whether the operation takes a bearer token.
	Auth       bool
	Parameters []apiField
	// Body describes the request body: its media types and schema.
	Body      string
	BodyType  apiType
	Responses []apiResponse
}

type apiResponse struct {
	Status, Description string
	Type                apiType
}

type apiSchema struct {
	Name, Description string
	Fields            []apiField
	// AllOf names the schemas this one extends.
	AllOf []string
}

type apiField struct {
	Name, In, Description string
	Required              bool
	Type                  apiType
}

// apiType is a written type: Text, and Ref when it names a schema, which
// the page links to.
type apiType struct{ Text, Ref string }

// openAPIDoc is the part of an OpenAPI 3.1 document the page reads.
type openAPIDoc struct {
	Info struct {
		Title, Description string
	}
	Tags []struct {
		Name, Description string
	}
	Paths      map[string]map[string]openAPIOperation
	Components struct {
		Schemas map[string]openAPISchema
	}
}

type openAPIOperation struct {
	Tags        []string
	Summary     string
	Description string
	OperationID string `json:"operationId"`
	Security    *[]map[string][]string
	Parameters  []struct {
		Name, In, Description string
		Required              bool
		Schema                openAPISchema
	}
	RequestBody *struct {
		Description string
		Content     map[string]struct{ Schema openAPISchema }
	} `json:"requestBody"`
	Responses map[string]struct {
		Ref         string `json:"$ref"`
		Description string
		Content     map[string]struct{ Schema openAPISchema }
	}
}

type openAPISchema struct {
	Ref         string `json:"$ref"`
	Type        any
	Format      string
	Enum        []any
	Description string
	Items       *openAPISchema
	Properties  map[string]openAPISchema
	Required    []string
	AllOf       []openAPISchema `json:"allOf"`
	Additional  any             `json:"additionalProperties"`
}

// methodOrder sorts operations of one path: reads first.
var methodOrder = map[string]int{"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}

// newAPIReference builds the page model from an OpenAPI document.
func newAPIReference(doc []byte) (*apiReference, error) {
	var d openAPIDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("web: the OpenAPI document: %w", err)
	}
	ref := &apiReference{Title: d.Info.Title, Description: d.Info.Description}
	groups := map[string]*apiGroup{}
	for _, t := range d.Tags {
		ref.Groups = append(ref.Groups, apiGroup{Tag: t.Name, Description: t.Description})
	}
	for i := range ref.Groups {
		groups[ref.Groups[i].Tag] = &ref.Groups[i]
	}
	paths := make([]string, 0, len(d.Paths))
	for p := range d.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, path := range paths {
		var ops []apiOperation
		for method, o := range d.Paths[path] {
			ops = append(ops, newAPIOperation(strings.ToUpper(method), path, o))
		}
		sort.Slice(ops, func(i, j int) bool { return methodOrder[ops[i].Method] < methodOrder[ops[j].Method] })
		for k, op := range ops {
			tag := "other"
			if ts := d.Paths[path][strings.ToLower(op.Method)].Tags; len(ts) > 0 {
				tag = ts[0]
			}
			g := groups[tag]
			if g == nil {
				ref.Groups = append(ref.Groups, apiGroup{Tag: tag})
				for i := range ref.Groups {
					groups[ref.Groups[i].Tag] = &ref.Groups[i]
				}
				g = groups[tag]
			}
			g.Operations = append(g.Operations, ops[k])
		}
	}
	names := make([]string, 0, len(d.Components.Schemas))
	for n := range d.Components.Schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := d.Components.Schemas[n]
		as := apiSchema{Name: n, Description: s.Description}
		for _, part := range s.AllOf {
			if part.Ref != "" {
				as.AllOf = append(as.AllOf, refName(part.Ref))
			} else {
				as.Fields = append(as.Fields, schemaFields(part)...)
			}
		}
		as.Fields = append(as.Fields, schemaFields(s)...)
		ref.Schemas = append(ref.Schemas, as)
	}
	return ref, nil
}

func newAPIOperation(method, path string, o openAPIOperation) apiOperation {
	op := apiOperation{ID: o.OperationID, Method: method, Path: path, Summary: o.Summary, Description: o.Description,
		Auth: o.Security != nil && len(*o.Security) > 0}
	for _, p := range o.Parameters {
		op.Parameters = append(op.Parameters, apiField{Name: p.Name, In: p.In, Description: p.Description, Required: p.Required, Type: typeOf(p.Schema)})
	}
	if b := o.RequestBody; b != nil {
		var media []string
		for mt, c := range b.Content {
			media = append(media, mt)
			if op.BodyType.Text == "" || c.Schema.Ref != "" {
				op.BodyType = typeOf(c.Schema)
			}
		}
		sort.Strings(media)
		op.Body = strings.Join(media, " or ")
		if b.Description != "" {
			op.Body += ": " + b.Description
		}
	}
	statuses := make([]string, 0, len(o.Responses))
	for s := range o.Responses {
		statuses = append(statuses, s)
	}
	sort.Strings(statuses)
	for _, s := range statuses {
		r := o.Responses[s]
		ar := apiResponse{Status: s, Description: r.Description}
		if r.Ref != "" {
			ar.Description = "an error: " + strings.ToLower(http.StatusText(atoi(s)))
			ar.Type = apiType{Text: "Error", Ref: "Error"}
		}
		for _, c := range r.Content {
			ar.Type = typeOf(c.Schema)
		}
		op.Responses = append(op.Responses, ar)
	}
	return op
}

func atoi(s string) int {
	n := 0
	fmt.Sscan(s, &n)
	return n
}

func refName(ref string) string { return ref[strings.LastIndexByte(ref, '/')+1:] }

func schemaFields(s openAPISchema) []apiField {
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []apiField
	for _, n := range names {
		p := s.Properties[n]
		out = append(out, apiField{Name: n, Description: p.Description, Required: contains(s.Required, n), Type: typeOf(p)})
	}
	return out
}

// typeOf writes a schema's type for people: "string (date-time)",
// "array of Version", "string or null", "one of: a, b".
func typeOf(s openAPISchema) apiType {
	if s.Ref != "" {
		n := refName(s.Ref)
		return apiType{Text: n, Ref: n}
	}
	var t string
	switch v := s.Type.(type) {
	case string:
		t = v
	case []any:
		var parts []string
		for _, p := range v {
			parts = append(parts, fmt.Sprint(p))
		}
		t = strings.Join(parts, " or ")
	}
	switch {
	case t == "array" && s.Items != nil:
		it := typeOf(*s.Items)
		return apiType{Text: "array of " + it.Text, Ref: it.Ref}
	case t == "object" && s.Additional != nil:
		if m, ok := s.Additional.(map[string]any); ok {
			if r, ok := m["$ref"].(string); ok {
				return apiType{Text: "map of " + refName(r), Ref: refName(r)}
			}
			if ty, ok := m["type"].(string); ok {
				return apiType{Text: "map of " + ty}
			}
		}
	}
	if s.Format != "" {
		t += " (" + s.Format + ")"
	}
	if len(s.Enum) > 0 {
		var vals []string
		for _, e := range s.Enum {
			vals = append(vals, fmt.Sprint(e))
		}
		t += ": " + strings.Join(vals, ", ")
	}
	return apiType{Text: t}
}

// apiReferencePage serves GET /docs/api.
func (w *Web) apiReferencePage(rw http.ResponseWriter, r *http.Request) error {
	if w.apiRef == nil {
		return errs.New(errs.NotFound, "this registry has no API reference")
	}
	w.render(rw, r, http.StatusOK, "apiref", meta{Title: "API reference",
		Description: "Every endpoint of the " + w.opts.Name + " JSON API: parameters, answers and errors"}, w.apiRef)
	return nil
}
