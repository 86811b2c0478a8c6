package e2e

import (
	"strings"
	"testing"
)

// TestKeywords checks the keyword pages (/keywords/{keyword}), the links
// to them from package pages and results, and the keyword filter of the
// search API: a keyword is matched whole, in any case.
func TestKeywords(t *testing.T) {
	r := startRegistry(t, regOptions{})
	tok := r.signUp("kim")
	for name, kw := range map[string][]string{"alpha": {"web", "HTTP"}, "beta": {"webkit"}, "gamma": nil} {
		fields := map[string]any{"description": name + " package"}
		if kw != nil {
			fields["keywords"] = kw
		}
		if res := r.publish(tok, pkg{name: name, version: "1.0.0", fields: fields}.archive(t)); res.Status != 201 {
			t.Fatalf("publish %s: %d %s", name, res.Status, res.Body)
		}
	}
	for _, path := range []string{"/keywords/web", "/keywords/WEB"} {
		page := string(r.expect(200, "GET", path, "", nil).Body)
		if !strings.Contains(page, "Packages with the keyword “web”") || !strings.Contains(page, `href="/packages/alpha"`) ||
			strings.Contains(page, `href="/packages/beta"`) || strings.Contains(page, `href="/packages/gamma"`) {
			t.Errorf("%s does not list alpha alone:\n%s", path, page)
		}
	}
	if page := string(r.expect(200, "GET", "/keywords/nothing", "", nil).Body); !strings.Contains(page, "No package has the keyword") {
		t.Errorf("an unused keyword's page:\n%s", page)
	}
	r.expect(400, "GET", "/keywords/"+strings.Repeat("k", 51), "", nil)
	for _, path := range []string{"/packages/alpha", "/search?q=alpha"} {
		if page := string(r.expect(200, "GET", path, "", nil).Body); !strings.Contains(page, `href="/keywords/http"`) {
			t.Errorf("%s does not link its keywords to their pages", path)
		}
	}

	var res struct {
		Packages []struct {
			Name string `json:"name"`
		} `json:"packages"`
		Total int `json:"total"`
	}
	decodeJSON(t, r.expect(200, "GET", "/api/search?keyword=http", "", nil), &res)
	if res.Total != 1 || len(res.Packages) != 1 || res.Packages[0].Name != "alpha" {
		t.Errorf("search by keyword: %+v", res)
	}
	// Keyword and text combine.
	decodeJSON(t, r.expect(200, "GET", "/api/search?keyword=http&q=alpha", "", nil), &res)
	if res.Total != 1 || len(res.Packages) != 1 || res.Packages[0].Name != "alpha" {
		t.Errorf("search by keyword and text: %+v", res)
	}
}
