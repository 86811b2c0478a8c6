package api

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// servedByServer are the documented operations that the server routes
// outside the API's own patterns; the end-to-end walk calls them.
var servedByServer = []string{"GET /health", "GET /packages/{name}/{version}.tar.gz"}

// TestOpenAPICoversRoutes checks the OpenAPI document against the routes,
// both ways: every route is documented, every documented operation is a
// route, and every reference in the document resolves.
func TestOpenAPICoversRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	documented := map[string]bool{}
	ids := map[string]string{}
	for path, methods := range doc.Paths {
		for method, op := range methods {
			key := strings.ToUpper(method) + " " + path
			documented[key] = true
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", key)
			} else if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %s names both %s and %s", op.OperationID, prev, key)
			}
			ids[op.OperationID] = key
		}
	}
	routes := New(Options{}).Patterns()
	for _, p := range routes {
		if !documented[p] {
			t.Errorf("route %s is missing from openapi.json", p)
		}
	}
	for key := range documented {
		if !slices.Contains(routes, key) && !slices.Contains(servedByServer, key) {
			t.Errorf("openapi.json documents %s, which is not a route", key)
		}
	}

	var all any
	json.Unmarshal(openAPIDocument, &all)
	for _, m := range regexp.MustCompile(`"\$ref": *"#/([^"]+)"`).FindAllStringSubmatch(string(openAPIDocument), -1) {
		var at any = all
		for _, part := range strings.Split(m[1], "/") {
			obj, _ := at.(map[string]any)
			at = obj[part]
		}
		if at == nil {
			t.Errorf("$ref #/%s resolves to nothing", m[1])
		}
	}
}
