package e2e

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/testenv"
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

// invalidField matches an input marked invalid, with its id.
func invalidField(page, id string) bool {
	re := regexp.MustCompile(`<(input|select)[^>]*id="` + regexp.QuoteMeta(id) + `"[^>]*aria-invalid="true"[^>]*autofocus`)
	return re.MatchString(page)
}

// TestWebFormErrors checks that forms show a registry's refusal beside
// the field it is about, marked aria-invalid with autofocus, keep what was
// typed (never a password), and keep a banner for what concerns no field.
func TestWebFormErrors(t *testing.T) {
	r := startRegistry(t, regOptions{})
	tok := r.signUp("owner")
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "formpkg", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
	c := newWebClient(t, r)

	// Sign in with a wrong password: beside the password, login kept.
	res := c.submit("/login", "/login", url.Values{"login": {"owner"}, "password": {"wrong-password-1"}})
	page := string(res.Body)
	if res.Status != 401 || !invalidField(page, "password") || !strings.Contains(page, `id="password-error">Wrong username or password.`) ||
		!strings.Contains(page, `value="owner"`) || strings.Contains(page, "wrong-password-1") || strings.Contains(page, `id="form-error"`) {
		t.Errorf("failed sign-in: %d\n%s", res.Status, page)
	}

	// Register: a taken username beside the username, values kept.
	res = c.submit("/register", "/register", url.Values{"username": {"owner"}, "email": {"new@example.org"}, "full_name": {"New Person"},
		"password": {"correct-horse-new"}, "confirm": {"correct-horse-new"}})
	page = string(res.Body)
	if res.Status != 409 || !invalidField(page, "username") || !strings.Contains(page, "already taken") ||
		!strings.Contains(page, `value="new@example.org"`) || !strings.Contains(page, `value="New Person"`) || strings.Contains(page, "correct-horse-new") {
		t.Errorf("register with a taken username: %d\n%s", res.Status, page)
	}
	// A weak password beside the password.
	res = c.submit("/register", "/register", url.Values{"username": {"newbie"}, "email": {"newbie@example.org"},
		"password": {"short"}, "confirm": {"short"}})
	if page = string(res.Body); res.Status != 400 || !invalidField(page, "password") || invalidField(page, "username") {
		t.Errorf("register with a short password: %d\n%s", res.Status, page)
	}

	// Dashboard: a wrong current password, then a token with a bad package pattern.
	c.signIn("owner")
	res = c.submit("/dashboard", "/dashboard/password", url.Values{"current": {"not-it-at-all"}, "new": {"correct-horse-next"}, "confirm": {"correct-horse-next"}})
	if page = string(res.Body); res.Status != 403 || !invalidField(page, "pw-current") || !strings.Contains(page, "current password is wrong") {
		t.Errorf("password change with a wrong current password: %d\n%s", res.Status, page)
	}
	res = c.submit("/dashboard", "/dashboard/tokens", url.Values{"name": {"ci"}, "scope": {"publish"}, "packages": {"bad pattern!"}, "expires": {"30"}})
	if page = string(res.Body); res.Status != 400 || !invalidField(page, "token-packages") || !strings.Contains(page, `value="ci"`) {
		t.Errorf("token with a bad package pattern: %d\n%s", res.Status, page)
	}

	// Add owner: an unknown user beside the field, the name kept.
	res = c.submit("/dashboard/packages/formpkg", "/dashboard/packages/formpkg/owners", url.Values{"username": {"ghost"}})
	if page = string(res.Body); res.Status != 422 || !invalidField(page, "new-owner") || !strings.Contains(page, `value="ghost"`) ||
		!strings.Contains(page, `User &#34;ghost&#34; not found.`) {
		t.Errorf("adding an unknown owner: %d\n%s", res.Status, page)
	}

	// Upload: the archive's error beside the file input.
	res = c.upload("broken.tar.gz", []byte("not a gzip"), c.csrf("/upload"))
	if page = string(res.Body); res.Status < 400 || !invalidField(page, "package-file") {
		t.Errorf("uploading a broken archive: %d\n%s", res.Status, page)
	}
}

// TestWebSearchFilters checks the results page's filters (keyword, owner,
// updated within), combined with the text and the order, without a
// script; the result count; a bad filter shown beside its field; and the
// same filters on the API.
func TestWebSearchFilters(t *testing.T) {
	r := startRegistry(t, regOptions{})
	ann, ben := r.signUp("ann"), r.signUp("ben")
	for _, p := range []struct {
		tok, name string
		keywords  []string
	}{
		{ann, "ann_http", []string{"http"}},
		{ann, "ann_json", []string{"json"}},
		{ben, "ben_http", []string{"http"}},
	} {
		r.expect(201, "POST", "/api/upload", p.tok, pkg{name: p.name, version: "1.0.0", fields: map[string]any{"keywords": p.keywords}}.archive(t),
			"Content-Type", "application/gzip")
	}
	c := newWebClient(t, r)
	listed := func(page string) string {
		var names []string
		for _, n := range []string{"ann_http", "ann_json", "ben_http"} {
			if strings.Contains(page, `class="pkg-name" href="/packages/`+n+`"`) {
				names = append(names, n)
			}
		}
		return strings.Join(names, " ")
	}
	for _, tt := range []struct {
		query, want, count string
	}{
		{"", "ann_http ann_json ben_http", "3 packages"},
		{"owner=ann", "ann_http ann_json", "2 packages"},
		{"owner=ANN&keyword=http", "ann_http", "1 package"},
		{"q=http&owner=ben&sort=name", "ben_http", "1 package"},
		{"keyword=http&updated=week&sort=recent", "ann_http ben_http", "2 packages"},
		{"owner=nobody", "", "0 packages"},
	} {
		page := c.page(200, "/search?"+tt.query)
		if got := listed(page); got != tt.want || !strings.Contains(page, `id="result-count">`+tt.count) {
			t.Errorf("/search?%s lists %q, want %q with %q", tt.query, got, tt.want, tt.count)
		}
		// The form keeps the filters' values.
		if v, _ := url.ParseQuery(tt.query); v.Get("owner") != "" && !strings.Contains(page, `value="`+v.Get("owner")+`"`) {
			t.Errorf("/search?%s does not keep the owner typed", tt.query)
		}
	}
	page := c.page(200, "/search?owner=ann&sort=name")
	for _, want := range []string{`name="keyword"`, `name="owner"`, `<select id="filter-updated" name="updated"`, `<option value="week">Past week</option>`, "Clear filters"} {
		if !strings.Contains(page, want) {
			t.Errorf("the filter form lacks %s", want)
		}
	}
	res := c.get("/search?updated=decade&owner=ann")
	if page := string(res.Body); res.Status != 400 || !invalidField(page, "filter-updated") || !strings.Contains(page, `value="ann"`) {
		t.Errorf("a bad period: %d\n%s", res.Status, page)
	}
	// A keyword page filters by owner too.
	if page := c.page(200, "/keywords/http?owner=ben"); listed(page) != "ben_http" {
		t.Errorf("/keywords/http?owner=ben lists %q", listed(page))
	}

	// The API takes the same filters, and names a bad one.
	var found struct {
		Packages []struct {
			Name string `json:"name"`
		} `json:"packages"`
		Total int `json:"total"`
	}
	decodeJSON(t, r.expect(200, "GET", "/api/search?owner=ann&keyword=http&updated=month", "", nil), &found)
	if found.Total != 1 || found.Packages[0].Name != "ann_http" {
		t.Errorf("API search with filters: %+v", found)
	}
	bad := r.expect(400, "GET", "/api/search?updated=decade", "", nil).JSON(t)
	if bad["error"] != "invalid" || bad["field"] != "updated" {
		t.Errorf("API search with a bad period: %v", bad)
	}
}

// TestWebTrending checks the home page's trending list: packages
// downloaded in the last week, most first, with their count; and that
// owners on package pages link to their user pages, which list their
// packages.
func TestWebTrending(t *testing.T) {
	r := startRegistry(t, regOptions{})
	tok := r.signUp("trendy")
	for _, n := range []string{"hot", "warm", "cold"} {
		r.expect(201, "POST", "/api/upload", tok, pkg{name: n, version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
	}
	for _, d := range []struct {
		name string
		n    int
	}{{"hot", 3}, {"warm", 1}} {
		for range d.n {
			r.expect(200, "GET", "/packages/"+d.name+"/1.0.0.tar.gz", "", nil)
		}
	}
	testenv.Eventually(t, "the downloads flushed", func() (bool, string) {
		st := r.expect(200, "GET", "/api/packages/hot/stats", "", nil).JSON(t)
		st2 := r.expect(200, "GET", "/api/packages/warm/stats", "", nil).JSON(t)
		return st["total"].(float64) == 3 && st2["total"].(float64) == 1, fmt.Sprint("totals ", st["total"], st2["total"])
	})
	page := string(r.expect(200, "GET", "/", "", nil).Body)
	i := strings.Index(page, `id="trending"`)
	if i < 0 {
		t.Fatalf("the home page has no trending list:\n%s", page)
	}
	list := page[i:]
	list = list[:strings.Index(list, "</ol>")]
	hot, warm := strings.Index(list, `href="/packages/hot"`), strings.Index(list, `href="/packages/warm"`)
	if hot < 0 || warm < hot || strings.Contains(list, `href="/packages/cold"`) || !strings.Contains(list, "3 this week") {
		t.Errorf("trending list, want hot (3) then warm, not cold:\n%s", list)
	}

	pkgPage := string(r.expect(200, "GET", "/packages/hot", "", nil).Body)
	if !strings.Contains(pkgPage, `href="/users/trendy"`) {
		t.Errorf("the package page does not link its owner to their page")
	}
	user := string(r.expect(200, "GET", "/users/trendy", "", nil).Body)
	for _, n := range []string{"hot", "warm", "cold"} {
		if !strings.Contains(user, `href="/packages/`+n+`"`) {
			t.Errorf("the user page does not list %s", n)
		}
	}
}
