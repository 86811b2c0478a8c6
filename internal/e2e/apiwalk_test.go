package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/api"
)

// openAPIDoc is the part of the OpenAPI document the walk reads.
type openAPIDoc struct {
	Paths map[string]map[string]struct {
		OperationID string                     `json:"operationId"`
		Responses   map[string]json.RawMessage `json:"responses"`
	} `json:"paths"`
}

// walkCall is one request of the walk: the operation it exercises, the
// path with its values, who sends it and the status it must get.
type walkCall struct {
	op, method, path, token string
	body                    any
	headers                 []string
	status                  int
}

// TestAPIWalk sends a request to every operation of the OpenAPI document,
// against a registry holding data, naming packages in a spelling other
// than their own. Each answer must come from the route the document names
// (not the catch-all 404 nor a 405), have a status the document lists,
// carry the package's canonical name where it names a package, and write
// its JSON in one style: snake_case keys and RFC 3339 times.
func TestAPIWalk(t *testing.T) {
	r := startRegistry(t, regOptions{})
	r.signUp("walker")
	ensureAdmin(t, r, "walker")
	admin := r.login("walker")
	other := r.signUp("walk_other")
	for _, p := range []pkg{
		{name: "walk-dep", version: "1.0.0"},
		{name: "walk_pkg", version: "1.0.0", fields: map[string]any{"dependencies": map[string]string{"walk-dep": "^1.0.0"}}},
		{name: "walk_pkg", version: "1.1.0"},
		{name: "walk_gone", version: "1.0.0"},
		{name: "walk_admin_gone", version: "1.0.0"},
		{name: "walk_admin_gone", version: "2.0.0"},
	} {
		r.expect(201, "POST", "/api/upload", admin, p.archive(t), "Content-Type", "application/gzip")
	}
	created := r.expect(201, "POST", "/api/tokens", admin, map[string]any{"name": "walk", "scopes": []string{"yank"}}).JSON(t)
	tokenID := strconv.Itoa(int(created["id"].(float64)))
	selfRevoking := r.expect(201, "POST", "/api/tokens", admin, map[string]any{"name": "walk-self", "scopes": []string{"yank"}}).JSON(t)["token"].(string)
	// Webhooks to delete; inactive, and at a documentation address (the
	// walk's registry refuses private ones), so nothing is ever sent.
	hook := func(path string) string {
		res := r.expect(201, "POST", path, admin, map[string]any{"url": "https://203.0.113.5/walk", "active": false}).JSON(t)
		return strconv.Itoa(int(res["id"].(float64)))
	}
	pkgHook, registryHook := hook("/api/packages/walk_pkg/webhooks"), hook("/api/admin/webhooks")

	// Package names as a user may type them: each is the same package as
	// walk_pkg (and so on) under the registry's normalisation.
	const spelled, gone, adminGone = "Walk-Pkg", "WALK-GONE", "walk-admin-gone"
	canonical := map[string]string{spelled: "walk_pkg", gone: "walk_gone", adminGone: "walk_admin_gone"}
	calls := []walkCall{
		{op: "liveness", method: "GET", path: "/health", status: 200},
		{op: "health", method: "GET", path: "/api/health", status: 200},
		{op: "openapi", method: "GET", path: "/api/openapi.json", status: 200},

		{op: "register", method: "POST", path: "/api/auth/register", status: 201,
			body: map[string]string{"username": "walk_new", "email": "walk_new@example.org", "password": "correct-horse-walk_new"}},
		{op: "register", method: "POST", path: "/api/auth/register", status: 409,
			body: map[string]string{"username": "walk_new", "email": "walk_new@example.org", "password": "correct-horse-walk_new"}},
		{op: "login", method: "POST", path: "/api/auth/login", status: 200, body: map[string]string{"username": "walk_new", "password": "correct-horse-walk_new"}},
		{op: "login", method: "POST", path: "/api/auth/login", status: 401, body: map[string]string{"username": "walk_new", "password": "wrong"}},
		{op: "profile", method: "GET", path: "/api/auth/profile", token: admin, status: 200},
		{op: "profile", method: "GET", path: "/api/auth/profile", status: 401},

		{op: "listTokens", method: "GET", path: "/api/tokens", token: admin, status: 200},
		{op: "createToken", method: "POST", path: "/api/tokens", token: admin, status: 201,
			body: map[string]any{"name": "walk-two", "scopes": []string{"publish"}, "packages": []string{"walk_*"}, "expires_in_days": 30}},
		{op: "revokeToken", method: "DELETE", path: "/api/tokens/" + tokenID, token: admin, status: 200},
		{op: "revokeToken", method: "DELETE", path: "/api/tokens/999999", token: admin, status: 404},
		{op: "revokeCurrentToken", method: "DELETE", path: "/api/tokens/current", token: admin, status: 400},
		{op: "revokeCurrentToken", method: "DELETE", path: "/api/tokens/current", token: selfRevoking, status: 200},
		{op: "revokeCurrentToken", method: "DELETE", path: "/api/tokens/current", token: selfRevoking, status: 401},

		{op: "listPackages", method: "GET", path: "/api/packages?limit=2", status: 200},
		{op: "search", method: "GET", path: "/api/search?q=walk&sort=downloads", status: 200},
		{op: "search", method: "GET", path: "/api/search?q=walk&sort=sideways", status: 400},
		{op: "registryStats", method: "GET", path: "/api/stats", status: 200},
		{op: "getPackage", method: "GET", path: "/api/packages/" + spelled, status: 200},
		{op: "getPackage", method: "GET", path: "/api/packages/" + spelled + "?version=1.0.0", status: 200},
		{op: "getPackage", method: "GET", path: "/api/packages/no-such-walk", status: 404},
		{op: "listVersions", method: "GET", path: "/api/packages/" + spelled + "/versions", status: 200},
		{op: "getVersion", method: "GET", path: "/api/packages/" + spelled + "/versions/1.0.0", status: 200},
		{op: "resolve", method: "GET", path: "/api/packages/" + spelled + "/resolve?range=%5E1.0.0", status: 200},
		{op: "packageStats", method: "GET", path: "/api/packages/" + spelled + "/stats", status: 200},
		{op: "diffVersions", method: "GET", path: "/api/packages/" + spelled + "/diff/1.0.0/1.1.0", status: 200},
		{op: "diffVersions", method: "GET", path: "/api/packages/" + spelled + "/diff/1.0.0/9.0.0", status: 404},
		{op: "diffVersions", method: "GET", path: "/api/packages/" + spelled + "/diff/1.0.0/1.0.0", status: 422},
		{op: "history", method: "GET", path: "/api/packages/" + spelled + "/history", status: 200},
		{op: "listOwners", method: "GET", path: "/api/packages/" + spelled + "/owners", status: 200},
		{op: "addOwners", method: "PUT", path: "/api/packages/" + spelled + "/owners", token: admin, status: 200, body: map[string]any{"users": []string{"walk_other"}}},
		{op: "removeOwners", method: "DELETE", path: "/api/packages/" + spelled + "/owners", token: admin, status: 200, body: map[string]any{"users": []string{"walk_other"}}},
		{op: "publish", method: "POST", path: "/api/upload", token: admin, status: 201, body: pkg{name: "walk_pkg", version: "1.2.0"}.archive(t), headers: []string{"Content-Type", "application/gzip"}},
		{op: "publish", method: "POST", path: "/api/upload", token: other, status: 403, body: pkg{name: "walk_pkg", version: "1.3.0"}.archive(t), headers: []string{"Content-Type", "application/gzip"}},
		{op: "yank", method: "PUT", path: "/api/packages/" + spelled + "/versions/1.1.0/yank", token: admin, status: 200},
		{op: "unyank", method: "DELETE", path: "/api/packages/" + spelled + "/versions/1.1.0/yank", token: admin, status: 200},
		{op: "versionImpact", method: "GET", path: "/api/packages/walk-dep/versions/1.0.0/impact?action=yank", status: 200},
		{op: "versionImpact", method: "GET", path: "/api/packages/" + spelled + "/versions/1.0.0/impact?action=delete&limit=5", status: 200},
		{op: "versionImpact", method: "GET", path: "/api/packages/walk-dep/versions/1.0.0/impact?action=purge", status: 400},
		{op: "packageImpact", method: "GET", path: "/api/packages/" + spelled + "/impact", status: 200},
		{op: "packageImpact", method: "GET", path: "/api/packages/walk-dep/impact?action=yank", status: 400},
		{op: "download", method: "GET", path: "/packages/" + spelled + "/1.0.0.tar.gz", status: 200},
		{op: "listPackageWebhooks", method: "GET", path: "/api/packages/" + spelled + "/webhooks", token: admin, status: 200},
		{op: "listPackageWebhooks", method: "GET", path: "/api/packages/" + spelled + "/webhooks", token: other, status: 403},
		{op: "createPackageWebhook", method: "POST", path: "/api/packages/walk_pkg/webhooks", token: admin, status: 201,
			body: map[string]any{"url": "https://203.0.113.5/walk-two", "events": []string{"version.yanked"}, "active": false}},
		{op: "createPackageWebhook", method: "POST", path: "/api/packages/walk_pkg/webhooks", token: admin, status: 422,
			body: map[string]any{"url": "http://127.0.0.1:9/private"}},
		{op: "updatePackageWebhook", method: "PATCH", path: "/api/packages/walk_pkg/webhooks/" + pkgHook, token: admin, status: 200, body: map[string]any{"active": false}},
		{op: "updatePackageWebhook", method: "PATCH", path: "/api/packages/walk_pkg/webhooks/" + pkgHook, token: admin, status: 400, body: map[string]any{"url": "https://203.0.113.5/other"}},
		{op: "deletePackageWebhook", method: "DELETE", path: "/api/packages/walk_pkg/webhooks/" + pkgHook, token: admin, status: 200},
		{op: "deletePackageWebhook", method: "DELETE", path: "/api/packages/walk_pkg/webhooks/" + registryHook, token: admin, status: 404},
		{op: "listPackageWebhookDeliveries", method: "GET", path: "/api/packages/" + spelled + "/webhooks/deliveries?limit=5", token: admin, status: 200},
		{op: "redeliverPackageWebhook", method: "POST", path: "/api/packages/walk_pkg/webhooks/deliveries/999999/redeliver", token: admin, status: 404},
		{op: "listRegistryWebhooks", method: "GET", path: "/api/admin/webhooks", token: admin, status: 200},
		{op: "listRegistryWebhooks", method: "GET", path: "/api/admin/webhooks", token: other, status: 403},
		{op: "createRegistryWebhook", method: "POST", path: "/api/admin/webhooks", token: admin, status: 400, body: map[string]any{"url": "mailto:ops@example.org"}},
		{op: "updateRegistryWebhook", method: "PATCH", path: "/api/admin/webhooks/" + registryHook, token: other, status: 403, body: map[string]any{"active": true}},
		{op: "deleteRegistryWebhook", method: "DELETE", path: "/api/admin/webhooks/" + registryHook, token: admin, status: 200},
		{op: "listRegistryWebhookDeliveries", method: "GET", path: "/api/admin/webhooks/deliveries", token: admin, status: 200},
		{op: "redeliverRegistryWebhook", method: "POST", path: "/api/admin/webhooks/deliveries/999999/redeliver", token: admin, status: 404},

		{op: "logKey", method: "GET", path: "/api/log/key", status: 200},
		{op: "logCheckpoint", method: "GET", path: "/api/log/checkpoint", status: 200},
		{op: "logTile", method: "GET", path: "/api/log/tile/8/0/000.p/1", status: 200},
		{op: "logTile", method: "GET", path: "/api/log/tile/8/data/000.p/2", status: 200},
		{op: "logTile", method: "GET", path: "/api/log/tile/8/0/999", status: 404},
		{op: "logRecord", method: "GET", path: "/api/log/records/0", status: 200},
		{op: "logRecord", method: "GET", path: "/api/log/records/first", status: 400},
		{op: "logLookup", method: "GET", path: "/api/log/lookup/" + spelled + "@1.0.0", status: 200},
		{op: "logLookup", method: "GET", path: "/api/log/lookup/" + spelled + "@9.9.9", status: 404},

		{op: "adminListUsers", method: "GET", path: "/api/admin/users?q=walk", token: admin, status: 200},
		{op: "adminListUsers", method: "GET", path: "/api/admin/users", token: other, status: 403},
		{op: "adminUpdateUser", method: "PUT", path: "/api/admin/users/walk_other", token: admin, status: 200, body: map[string]any{"disabled": false}},
		{op: "adminAudit", method: "GET", path: "/api/admin/audit?limit=20", token: admin, status: 200},
		{op: "adminPackage", method: "GET", path: "/api/admin/packages/" + spelled, token: admin, status: 200},

		{op: "deleteVersion", method: "DELETE", path: "/api/packages/" + spelled + "/versions/1.2.0", token: admin, status: 200},
		{op: "deletePackage", method: "DELETE", path: "/api/packages/" + gone, token: admin, status: 200},
		{op: "getPackage", method: "GET", path: "/api/packages/" + gone, status: 410},
		{op: "adminDeleteVersion", method: "DELETE", path: "/api/admin/packages/" + adminGone + "/versions/2.0.0", token: admin, status: 200},
		{op: "adminDeletePackage", method: "DELETE", path: "/api/admin/packages/" + adminGone, token: admin, status: 200},
		{op: "changePassword", method: "POST", path: "/api/auth/password", token: other, status: 200,
			body: map[string]string{"current_password": "correct-horse-walk_other", "new_password": "another-horse-walk_other"}},
	}

	var doc openAPIDoc
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatalf("the OpenAPI document: %v", err)
	}
	type operation struct{ method, path string }
	ops := map[string]operation{}
	responses := map[string]map[string]json.RawMessage{}
	for path, methods := range doc.Paths {
		for method, o := range methods {
			ops[o.OperationID] = operation{strings.ToUpper(method), path}
			responses[o.OperationID] = o.Responses
		}
	}
	walked := map[string]bool{}
	for _, c := range calls {
		o, ok := ops[c.op]
		if !ok {
			t.Errorf("the walk calls %s, which the document does not have", c.op)
			continue
		}
		walked[c.op] = true
		if !pathMatches(o.path, c.path) || o.method != c.method {
			t.Errorf("%s is %s %s in the document; the walk sends %s %s", c.op, o.method, o.path, c.method, c.path)
		}
		res := r.do(c.method, c.path, c.token, c.body, c.headers...)
		where := fmt.Sprintf("%s (%s %s)", c.op, c.method, c.path)
		if res.Status != c.status {
			t.Errorf("%s: status %d, want %d: %s", where, res.Status, c.status, res.Body)
			continue
		}
		if _, ok := responses[c.op][strconv.Itoa(res.Status)]; !ok {
			t.Errorf("%s answered %d, which the document does not list", where, res.Status)
		}
		if res.Status == 404 && strings.Contains(string(res.Body), "no API endpoint") || res.Status == 405 {
			t.Errorf("%s is not routed: %d %s", where, res.Status, res.Body)
		}
		// The OpenAPI document has the key style of its own standard.
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || c.op == "openapi" {
			continue
		}
		var v any
		if err := json.Unmarshal(res.Body, &v); err != nil {
			t.Errorf("%s: body is not JSON: %v", where, err)
			continue
		}
		for _, p := range jsonStyleProblems(v, "") {
			t.Errorf("%s: %s", where, p)
		}
		if m, ok := v.(map[string]any); ok && res.Status < 300 {
			for spelling, want := range canonical {
				if strings.Contains(c.path, "/"+spelling) && strings.HasPrefix(o.path, "/api/") {
					if m["name"] != want {
						t.Errorf("%s: name %v, want the canonical %q", where, m["name"], want)
					}
				}
			}
		}
	}
	for op := range ops {
		if !walked[op] {
			t.Errorf("the walk does not call %s: add it", op)
		}
	}

	// The web interface's reference page shows every operation.
	page := string(r.expect(200, "GET", "/docs/api", "", nil).Body)
	for op := range ops {
		if !strings.Contains(page, `id="op_`+op+`"`) {
			t.Errorf("/docs/api does not show %s", op)
		}
	}
}

// pathMatches reports whether a concrete path (with its query) fits a
// document path template such as /api/packages/{name}/versions/{version}.
func pathMatches(template, path string) bool {
	path, _, _ = strings.Cut(path, "?")
	re := regexp.QuoteMeta(template)
	re = regexp.MustCompile(`\\\{[a-z_]+\\\.\\\.\\\.\\\}`).ReplaceAllString(re, `.+`) // {rest...}
	re = "^" + regexp.MustCompile(`\\\{[a-z_]+\\\}`).ReplaceAllString(re, `[^/]+`) + "$"
	return regexp.MustCompile(re).MatchString(path)
}

var (
	snakeKey = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	// timeLike finds strings that hold a date and a time of day, which must
	// then be RFC 3339; plain dates (a day of the download counts) may
	// stand alone.
	timeLike = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}`)
)

// dataMaps are fields whose keys are data (package names), not field names.
var dataMaps = []string{"dependencies", "dev_dependencies"}

// jsonStyleProblems lists the keys of v that are not snake_case and its
// times that are not RFC 3339, with their paths.
func jsonStyleProblems(v any, at string) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if !snakeKey.MatchString(k) {
				out = append(out, fmt.Sprintf("key %s%q is not snake_case", at, k))
			}
			if slices.Contains(dataMaps, k) {
				continue
			}
			if s, ok := child.(string); ok && (strings.HasSuffix(k, "_at") || k == "at") {
				if _, err := time.Parse(time.RFC3339, s); err != nil && s != "" {
					out = append(out, fmt.Sprintf("%s%s = %q is not an RFC 3339 time", at, k, s))
				}
				continue
			}
			out = append(out, jsonStyleProblems(child, at+k+".")...)
		}
	case []any:
		for i, child := range v {
			out = append(out, jsonStyleProblems(child, fmt.Sprintf("%s%d.", at, i))...)
		}
	case string:
		if timeLike.MatchString(v) {
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				out = append(out, fmt.Sprintf("%s = %q looks like a time but is not RFC 3339", strings.TrimSuffix(at, "."), v))
			}
		}
	}
	return out
}

// TestJSONStyleCheck checks the walk's own checker on answers it must
// refuse and accept, so that a walk that passes means something.
func TestJSONStyleCheck(t *testing.T) {
	for _, tc := range []struct {
		body string
		bad  int
	}{
		{`{"events":[{"ID":1,"At":"2026-01-02T03:04:05Z","ActorID":2}]}`, 3},
		{`{"created_at":"2026-01-02 03:04:05"}`, 1},
		{`{"createdAt":"2026-01-02T03:04:05Z"}`, 1},
		{`{"published_at":"Jan 2, 2026"}`, 1},
		{`{"dependencies":{"json-schema":"^1"},"day":"2026-01-02","at":"2026-01-02T03:04:05.123456789+01:00"}`, 0},
	} {
		var v any
		if err := json.Unmarshal([]byte(tc.body), &v); err != nil {
			t.Fatal(err)
		}
		if got := jsonStyleProblems(v, ""); len(got) != tc.bad {
			t.Errorf("%s: %d problems %q, want %d", tc.body, len(got), got, tc.bad)
		}
	}
}
