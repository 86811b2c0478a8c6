package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// TestAPIMethodNotAllowed checks that an API path asked with a method it
// does not take answers 405 with an Allow header and a JSON error, that an
// unknown API path still answers 404 JSON, and that git's endpoints do the
// same in their own plain-text way.
func TestAPIMethodNotAllowed(t *testing.T) {
	r := startRegistry(t, regOptions{})
	tok := r.signUp("alice")
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "methods", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
	for _, tt := range []struct {
		method, path, allow string
		status              int
		kind                string
	}{
		{"POST", "/api/packages/methods", "GET, HEAD, DELETE", 405, "method_not_allowed"},
		{"DELETE", "/api/search", "GET, HEAD", 405, "method_not_allowed"},
		{"GET", "/api/upload", "POST", 405, "method_not_allowed"},
		{"PUT", "/api/tokens", "GET, HEAD, POST", 405, "method_not_allowed"},
		{"GET", "/api/tokens/current", "DELETE", 405, "method_not_allowed"},
		{"POST", "/api/packages/methods/versions/1.0.0/yank", "PUT, DELETE", 405, "method_not_allowed"},
		{"GET", "/api/no/such/endpoint", "", 404, "not_found"},
		{"POST", "/api/no/such/endpoint", "", 404, "not_found"},
	} {
		res := r.do(tt.method, tt.path, tok, nil)
		if res.Status != tt.status || res.Header.Get("Allow") != tt.allow {
			t.Errorf("%s %s: %d, Allow %q; want %d, %q", tt.method, tt.path, res.Status, res.Header.Get("Allow"), tt.status, tt.allow)
			continue
		}
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: Content-Type %q, want JSON", tt.method, tt.path, res.Header.Get("Content-Type"))
		}
		body := res.JSON(t)
		if body["error"] != tt.kind {
			t.Errorf("%s %s: error %v, want %s", tt.method, tt.path, body["error"], tt.kind)
		}
		if msg, _ := body["message"].(string); tt.status == 405 && !strings.Contains(msg, tt.allow) {
			t.Errorf("%s %s: message %q does not name the methods to use", tt.method, tt.path, msg)
		}
	}
	git := r.do("DELETE", "/git/methods.git/info/refs?service=git-upload-pack", "", nil)
	if git.Status != 405 || git.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("DELETE on git's info/refs: %d, Allow %q; want 405, GET, HEAD", git.Status, git.Header.Get("Allow"))
	}
}

// TestAPIRevokeCurrentToken checks that an API token revokes itself
// without a password, by DELETE /api/tokens/current or by its own id, and
// nothing more: not another token, and not a login token.
func TestAPIRevokeCurrentToken(t *testing.T) {
	r := startRegistry(t, regOptions{})
	jwt := r.signUp("alice")
	self := r.apiToken(jwt, []string{"publish"})
	other := r.apiToken(jwt, []string{"publish"})
	list := r.expect(200, "GET", "/api/tokens", jwt, nil).JSON(t)["tokens"].([]any)
	ids := map[string]int64{}
	for _, tk := range list {
		m := tk.(map[string]any)
		ids[m["name"].(string)] = int64(m["id"].(float64))
	}
	if len(ids) != 2 {
		t.Fatalf("tokens: %v", list)
	}

	// A login token has no token of its own to revoke.
	res := r.expect(400, "DELETE", "/api/tokens/current", jwt, nil)
	if !strings.Contains(string(res.Body), "/api/tokens/{id}") {
		t.Errorf("a login revoking the current token: %s", res.Body)
	}
	r.expect(401, "DELETE", "/api/tokens/current", "", nil)

	// An API token may not revoke another token, even its owner's.
	var otherID int64
	for _, id := range ids {
		if id > otherID {
			otherID = id
		}
	}
	r.expect(403, "DELETE", fmt.Sprintf("/api/tokens/%d", otherID), self, nil)

	got := r.expect(200, "DELETE", "/api/tokens/current", self, nil).JSON(t)
	if got["revoked"] == nil || int64(got["revoked"].(float64)) == otherID {
		t.Errorf("revoked %v, want the calling token's id", got["revoked"])
	}
	r.expect(401, "DELETE", "/api/tokens/current", self, nil)
	r.expect(401, "GET", "/api/packages?q=x", self, nil)

	// The other token revokes itself by its own id.
	r.expect(200, "DELETE", fmt.Sprintf("/api/tokens/%d", otherID), other, nil)
	r.expect(401, "PUT", "/api/packages/x/versions/1.0.0/yank", other, nil)
	audit := r.expect(200, "GET", "/api/tokens", jwt, nil).JSON(t)["tokens"].([]any)
	if len(audit) != 0 {
		t.Errorf("tokens left after both revoked themselves: %v", audit)
	}
}
