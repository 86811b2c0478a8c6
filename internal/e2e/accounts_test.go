package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/auth"
	"github.com/dryad-lang/registry/internal/store"
)

// credential is one way of calling the API in the authorization matrix.
type credential struct {
	name   string
	header func(pkg string) string // the Authorization header value for a cell
}

// TestAuthorizationMatrix calls every state-changing endpoint with every
// kind of credential and checks each status.
func TestAuthorizationMatrix(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		r := startRegistry(t, regOptions{Engine: engine})
		owner := r.signUp("owner")
		stranger := r.signUp("stranger")
		r.signUp("root")
		ensureAdmin(t, r, "root")
		admin := r.login("root")
		disabledJWT := r.signUp("disabled")

		ownerInfo := r.expect(200, "GET", "/api/auth/profile", owner, nil).JSON(t)
		ownerID := int64(ownerInfo["id"].(float64))
		expiredSigner, _ := auth.NewSigner([]byte(r.Config.JWTSecret), time.Hour)
		expiredSigner.Now = func() time.Time { return time.Now().Add(-48 * time.Hour) }
		expired, _, err := expiredSigner.Issue(auth.Claims{UserID: ownerID, Username: "owner", Role: auth.RoleUser, CredVersion: 1})
		if err != nil {
			t.Fatal(err)
		}
		otherSigner, _ := auth.NewSigner([]byte("another-secret-0123456789abcdef"), time.Hour)
		forged, _, _ := otherSigner.Issue(auth.Claims{UserID: ownerID, Username: "owner", Role: auth.RoleAdmin, CredVersion: 1})
		all := []string{"publish", "yank", "owners"}
		revoked := r.apiToken(owner, all)
		for _, tk := range r.expect(200, "GET", "/api/tokens", owner, nil).JSON(t)["tokens"].([]any) {
			id := strconv.Itoa(int(tk.(map[string]any)["id"].(float64)))
			r.expect(200, "DELETE", "/api/tokens/"+id, owner, nil)
		}
		onlyScope := map[string]string{}
		for _, s := range all {
			var others []string
			for _, o := range all {
				if o != s {
					others = append(others, o)
				}
			}
			onlyScope[s] = r.apiToken(owner, others) // lacks s
		}
		otherPkg := r.apiToken(owner, all, "elsewhere-*")
		fullToken := r.apiToken(owner, all)

		// Endpoints on a package, each cell with its own fresh package.
		type endpoint struct {
			name, scope string
			call        func(pkg, header string) *response
			ok          int
		}
		raw := func(method, path string) func(pkg, header string) *response {
			return func(pkg, header string) *response {
				return r.do(method, strings.ReplaceAll(path, "PKG", pkg), "", nil, "Authorization", header)
			}
		}
		withBody := func(method, path string, body any) func(pkg, header string) *response {
			return func(pkg, header string) *response {
				return r.do(method, strings.ReplaceAll(path, "PKG", pkg), "", body, "Authorization", header)
			}
		}
		endpoints := []endpoint{
			{"publish", "publish", func(pkg, header string) *response {
				return r.do("POST", "/api/upload", "", pkg2(t, pkg, "2.0.0"), "Authorization", header, "Content-Type", "application/gzip")
			}, 201},
			{"yank", "yank", raw("PUT", "/api/packages/PKG/versions/1.0.0/yank"), 200},
			{"unyank", "yank", raw("DELETE", "/api/packages/PKG/versions/1.0.0/yank"), 200},
			{"delete version", "publish", raw("DELETE", "/api/packages/PKG/versions/1.0.0"), 200},
			{"delete package", "publish", raw("DELETE", "/api/packages/PKG"), 200},
			{"add owner", "owners", withBody("PUT", "/api/packages/PKG/owners", map[string]any{"users": []string{"stranger"}}), 200},
			{"remove owner", "owners", withBody("DELETE", "/api/packages/PKG/owners", map[string]any{"users": []string{"helper"}}), 200},
		}
		r.signUp("helper")
		creds := []struct {
			name   string
			header func(ep endpoint) string
			want   func(ep endpoint) int
		}{
			{"no credentials", func(endpoint) string { return "" }, func(endpoint) int { return 401 }},
			{"malformed header", func(endpoint) string { return "Token abc" }, func(endpoint) int { return 401 }},
			{"expired JWT", func(endpoint) string { return "Bearer " + expired }, func(endpoint) int { return 401 }},
			{"JWT signed with another secret", func(endpoint) string { return "Bearer " + forged }, func(endpoint) int { return 401 }},
			{"revoked token", func(endpoint) string { return "Bearer " + revoked }, func(endpoint) int { return 401 }},
			{"token without the scope", func(ep endpoint) string { return "Bearer " + onlyScope[ep.scope] }, func(endpoint) int { return 403 }},
			{"token for another package", func(endpoint) string { return "Bearer " + otherPkg }, func(endpoint) int { return 403 }},
			{"disabled user", func(endpoint) string { return "Bearer " + disabledJWT }, func(endpoint) int { return 403 }},
			{"non-owner", func(endpoint) string { return "Bearer " + stranger }, func(endpoint) int { return 403 }},
			{"owner", func(endpoint) string { return "Bearer " + owner }, func(ep endpoint) int { return ep.ok }},
			{"owner's token", func(endpoint) string { return "Bearer " + fullToken }, func(ep endpoint) int { return ep.ok }},
			{"admin", func(endpoint) string { return "Bearer " + admin }, func(ep endpoint) int { return ep.ok }},
		}
		// Phase 1: a fresh package per cell, owned by owner with helper and
		// disabled as co-owners (so "disabled" would have the rights).
		cell := func(i, j int) string { return fmt.Sprintf("m%d-%d", i, j) }
		for i := range endpoints {
			for j := range creds {
				name := cell(i, j)
				r.expect(201, "POST", "/api/upload", owner, pkg2(t, name, "1.0.0"), "Content-Type", "application/gzip")
				if endpoints[i].name == "unyank" {
					r.expect(200, "PUT", "/api/packages/"+name+"/versions/1.0.0/yank", owner, nil)
				}
				r.expect(200, "PUT", "/api/packages/"+name+"/owners", owner, map[string]any{"users": []string{"helper", "disabled"}})
			}
		}
		// Phase 2: disable the co-owner.
		r.expect(200, "PUT", "/api/admin/users/disabled", admin, map[string]any{"disabled": true})
		// Phase 3: the calls.
		for i, ep := range endpoints {
			for j, c := range creds {
				res := ep.call(cell(i, j), c.header(ep))
				if want := c.want(ep); res.Status != want {
					t.Errorf("%s with %s: status %d, want %d: %s", ep.name, c.name, res.Status, want, res.Body)
				}
				if res.Status >= 400 {
					if m := res.JSON(t); m["error"] == "" || m["message"] == "" {
						t.Errorf("%s with %s: error body %s", ep.name, c.name, res.Body)
					}
				}
				if res.Status == 401 && res.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s with %s: 401 without WWW-Authenticate", ep.name, c.name)
				}
			}
		}
		// The missing scope is named.
		res := r.do("PUT", "/api/packages/"+cell(1, 0)+"/versions/1.0.0/yank", onlyScope["yank"], nil)
		if msg, _ := res.JSON(t)["message"].(string); !strings.Contains(msg, `"yank"`) {
			t.Errorf("403 should name the missing scope: %s", res.Body)
		}

		// Account endpoints: tokens and admin actions need a login; tokens
		// are refused there even with every scope.
		accountCases := []struct {
			name, method, path string
			body               any
			header             string
			want               int
		}{
			{"create token without login", "POST", "/api/tokens", map[string]any{"name": "x", "scopes": []string{"publish"}}, "", 401},
			{"create token with a token", "POST", "/api/tokens", map[string]any{"name": "x", "scopes": []string{"publish"}}, "Bearer " + fullToken, 403},
			{"create token disabled", "POST", "/api/tokens", map[string]any{"name": "x", "scopes": []string{"publish"}}, "Bearer " + disabledJWT, 403},
			{"create token", "POST", "/api/tokens", map[string]any{"name": "x", "scopes": []string{"publish"}}, "Bearer " + stranger, 201},
			{"list tokens with a token", "GET", "/api/tokens", nil, "Bearer " + fullToken, 403},
			{"revoke someone else's token", "DELETE", "/api/tokens/1", nil, "Bearer " + stranger, 404},
			{"admin users without login", "GET", "/api/admin/users", nil, "", 401},
			{"admin users as user", "GET", "/api/admin/users", nil, "Bearer " + owner, 403},
			{"admin users with admin's token", "GET", "/api/admin/users", nil, "Bearer " + r.apiToken(admin, all), 403},
			{"admin users as admin", "GET", "/api/admin/users", nil, "Bearer " + admin, 200},
			{"admin audit as user", "GET", "/api/admin/audit", nil, "Bearer " + stranger, 403},
			{"admin audit as admin", "GET", "/api/admin/audit", nil, "Bearer " + admin, 200},
			{"disable as user", "PUT", "/api/admin/users/stranger", map[string]any{"disabled": true}, "Bearer " + owner, 403},
			{"role as admin", "PUT", "/api/admin/users/helper", map[string]any{"role": "admin"}, "Bearer " + admin, 200},
			{"bad role", "PUT", "/api/admin/users/helper", map[string]any{"role": "king"}, "Bearer " + admin, 400},
			{"admin demotes self", "PUT", "/api/admin/users/root", map[string]any{"role": "user"}, "Bearer " + admin, 409},
			{"admin path as owner", "DELETE", "/api/admin/packages/" + cell(0, 9), nil, "Bearer " + owner, 403},
			{"password with a token", "POST", "/api/auth/password", map[string]any{"current_password": "correct-horse-owner", "new_password": "another-long-passphrase"}, "Bearer " + fullToken, 403},
			{"profile disabled", "GET", "/api/auth/profile", nil, "Bearer " + disabledJWT, 403},
		}
		for _, c := range accountCases {
			res := r.do(c.method, c.path, "", c.body, "Authorization", c.header)
			if res.Status != c.want {
				t.Errorf("%s: status %d, want %d: %s", c.name, res.Status, c.want, res.Body)
			}
		}
		// Refused attempts are in the audit log.
		audit := r.expect(200, "GET", "/api/admin/audit?action=yank", admin, nil).JSON(t)
		denied := 0
		for _, e := range audit["events"].([]any) {
			if e.(map[string]any)["outcome"] == store.OutcomeDenied {
				denied++
			}
		}
		if denied == 0 {
			t.Errorf("no denied yank in the audit log: %v", audit)
		}
	})
}

// pkg2 is a minimal package archive.
func pkg2(t *testing.T, name, version string) []byte {
	return pkg{name: name, version: version}.archive(t)
}

// TestAccounts checks registration rules, login, brute-force limits,
// password changes and disabled accounts.
func TestAccounts(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		r := startRegistry(t, regOptions{Engine: engine})
		reg := func(u, e, p string) *response {
			return r.do("POST", "/api/auth/register", "", map[string]string{"username": u, "email": e, "password": p})
		}
		tests := []struct {
			u, e, p string
			status  int
			msg     string
		}{
			{"al", "al@example.org", "long enough pass", 400, "3"},
			{"al ice", "al@example.org", "long enough pass", 400, "letters"},
			{"alice", "not-an-email", "long enough pass", 400, "email"},
			{"alice", "alice@example.org", "short", 400, "8"},
			{"alice", "alice@example.org", "password", 400, "common"},
			{"alice", "alice@example.org", "qwerty123", 400, "common"},
			{"alice", "alice@example.org", "alice@example.org", 400, ""},
			{"alice", "alice@example.org", "correct horse battery", 201, ""},
			{"ALICE", "other@example.org", "correct horse battery", 409, "taken"},
			{"bob", "Alice@Example.org", "correct horse battery", 409, "email"},
		}
		for _, tt := range tests {
			res := reg(tt.u, tt.e, tt.p)
			if res.Status != tt.status || (tt.msg != "" && !strings.Contains(string(res.Body), tt.msg)) {
				t.Errorf("register %s/%s/%s: %d %s (want %d mentioning %q)", tt.u, tt.e, tt.p, res.Status, res.Body, tt.status, tt.msg)
			}
		}
		r.expect(400, "POST", "/api/auth/register", "", `{"username":"x","bogus":1}`)
		r.expect(400, "POST", "/api/auth/register", "", `not json`)

		// Login by username or email, any case; the same 401 for a wrong
		// user and a wrong password.
		for _, login := range []string{"alice", "ALICE", "alice@example.org"} {
			r.expect(200, "POST", "/api/auth/login", "", map[string]string{"username": login, "password": "correct horse battery"})
		}
		a := r.do("POST", "/api/auth/login", "", map[string]string{"username": "nobody", "password": "correct horse battery"})
		b := r.do("POST", "/api/auth/login", "", map[string]string{"username": "alice", "password": "wrong password!"})
		if a.Status != 401 || b.Status != 401 || string(a.Body) != string(b.Body) {
			t.Errorf("wrong user vs wrong password differ: %d %s / %d %s", a.Status, a.Body, b.Status, b.Body)
		}

		// Brute force: after 5 failures for one account, even the right
		// password gets 429 with Retry-After.
		reg("victim", "victim@example.org", "correct horse victim")
		for i := 0; i < 5; i++ {
			r.expect(401, "POST", "/api/auth/login", "", map[string]string{"username": "victim", "password": "guess " + strconv.Itoa(i)})
		}
		res := r.do("POST", "/api/auth/login", "", map[string]string{"username": "victim", "password": "correct horse victim"})
		if res.Status != 429 || res.Header.Get("Retry-After") == "" {
			t.Errorf("6th attempt: %d (Retry-After %q) %s", res.Status, res.Header.Get("Retry-After"), res.Body)
		}
		// Other accounts from the same address still work (under 20).
		r.expect(200, "POST", "/api/auth/login", "", map[string]string{"username": "alice", "password": "correct horse battery"})

		// A password change revokes login tokens and API tokens issued before.
		jwt := r.login2("alice", "correct horse battery")
		tok := r.apiToken(jwt, []string{"publish"})
		r.expect(403, "POST", "/api/auth/password", jwt, map[string]string{"current_password": "nope nope nope", "new_password": "a brand new passphrase"})
		r.expect(400, "POST", "/api/auth/password", jwt, map[string]string{"current_password": "correct horse battery", "new_password": "123456"})
		r.expect(200, "POST", "/api/auth/password", jwt, map[string]string{"current_password": "correct horse battery", "new_password": "a brand new passphrase"})
		r.expect(401, "GET", "/api/auth/profile", jwt, nil)
		r.expect(401, "POST", "/api/upload", tok, pkg2(t, "afterchange", "1.0.0"), "Content-Type", "application/gzip")
		r.expect(401, "POST", "/api/auth/login", "", map[string]string{"username": "alice", "password": "correct horse battery"})
		jwt = r.login2("alice", "a brand new passphrase")
		prof := r.expect(200, "GET", "/api/auth/profile", jwt, nil).JSON(t)
		if prof["username"] != "alice" || prof["email"] != "alice@example.org" {
			t.Errorf("profile = %v", prof)
		}
		if _, ok := prof["password_hash"]; ok {
			t.Error("profile shows the password hash")
		}

		// Tokens: scopes, package patterns, expiry limits.
		for _, bad := range []map[string]any{
			{"name": "", "scopes": []string{"publish"}},
			{"name": "x", "scopes": []string{}},
			{"name": "x", "scopes": []string{"root"}},
			{"name": "x", "scopes": []string{"publish"}, "packages": []string{"UPPER"}},
			{"name": "x", "scopes": []string{"publish"}, "expires_in_days": 400},
		} {
			r.expect(400, "POST", "/api/tokens", jwt, bad)
		}
		created := r.expect(201, "POST", "/api/tokens", jwt, map[string]any{"name": "ci", "scopes": []string{"publish"}, "packages": []string{"alice-*"}, "expires_in_days": 30}).JSON(t)
		secret := created["token"].(string)
		if !strings.HasPrefix(secret, "oak_") || created["expires_at"] == nil {
			t.Errorf("created token = %v", created)
		}
		r.expect(201, "POST", "/api/upload", secret, pkg2(t, "alice_tools", "1.0.0"), "Content-Type", "application/gzip")
		res = r.do("POST", "/api/upload", secret, pkg2(t, "bobs-tools", "1.0.0"), "Content-Type", "application/gzip")
		if res.Status != 403 || !strings.Contains(string(res.Body), "alice-*") {
			t.Errorf("token outside its packages: %d %s", res.Status, res.Body)
		}
		list := r.expect(200, "GET", "/api/tokens", jwt, nil)
		if strings.Contains(string(list.Body), secret) || !strings.Contains(string(list.Body), `"last_used_at":"`) {
			t.Errorf("token list: %s", list.Body)
		}

		// A disabled user can neither log in nor use tokens.
		r.signUp("root")
		ensureAdmin(t, r, "root")
		admin := r.login("root")
		r.expect(200, "PUT", "/api/admin/users/alice", admin, map[string]any{"disabled": true})
		r.expect(403, "POST", "/api/auth/login", "", map[string]string{"username": "alice", "password": "a brand new passphrase"})
		r.expect(401, "POST", "/api/upload", secret, pkg2(t, "alice-x", "1.0.0"), "Content-Type", "application/gzip")
		r.expect(200, "PUT", "/api/admin/users/alice", admin, map[string]any{"disabled": false})
		r.expect(200, "POST", "/api/auth/login", "", map[string]string{"username": "alice", "password": "a brand new passphrase"})
		users := r.expect(200, "GET", "/api/admin/users?q=ali", admin, nil).JSON(t)
		if users["total"].(float64) != 1 {
			t.Errorf("admin user search = %v", users)
		}
		// Audit: register, login failure, password change, token create, publish.
		for _, action := range []string{"register", "login", "password_change", "token_create", "publish", "admin_user_update"} {
			ev := r.expect(200, "GET", "/api/admin/audit?action="+action, admin, nil).JSON(t)
			if ev["total"].(float64) == 0 {
				t.Errorf("no %s events in the audit log", action)
			}
		}
		fails := r.expect(200, "GET", "/api/admin/audit?action=login&actor=", admin, nil).JSON(t)
		found := false
		for _, e := range fails["events"].([]any) {
			m := e.(map[string]any)
			if m["outcome"] == "failure" && m["ip"] == "127.0.0.1" {
				found = true
			}
		}
		if !found {
			t.Errorf("failed logins not audited with the client address: %v", fails)
		}
		// Public history: publishes without addresses.
		hist := r.expect(200, "GET", "/api/packages/alice_tools/history", "", nil)
		if !strings.Contains(string(hist.Body), `"action":"publish"`) || strings.Contains(string(hist.Body), "127.0.0.1") {
			t.Errorf("history = %s", hist.Body)
		}
	})
}

func (r *testRegistry) login2(username, password string) string {
	r.t.Helper()
	return r.expect(200, "POST", "/api/auth/login", "", map[string]string{"username": username, "password": password}).JSON(r.t)["token"].(string)
}

// TestSecretsNeverStoredOrShown checks that passwords and token secrets
// appear nowhere after creation: not in the database, not in the logs, not
// in any later response.
func TestSecretsNeverStoredOrShown(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		r := startRegistry(t, regOptions{Engine: engine})
		const password = "Sup3r-Secret-Passphrase-42"
		const newPassword = "Even-More-Secret-Passphrase-43"
		r.expect(201, "POST", "/api/auth/register", "", map[string]string{"username": "keeper", "email": "keeper@example.org", "password": password})
		jwt := r.login2("keeper", password)
		created := r.expect(201, "POST", "/api/tokens", jwt, map[string]any{"name": "ci", "scopes": []string{"publish", "yank"}}).JSON(t)
		secret := created["token"].(string)
		r.expect(201, "POST", "/api/upload", secret, pkg2(t, "kept", "1.0.0"), "Content-Type", "application/gzip")
		r.expect(401, "POST", "/api/auth/login", "", map[string]string{"username": "keeper", "password": password + "x"})
		r.expect(200, "POST", "/api/auth/password", jwt, map[string]string{"current_password": password, "new_password": newPassword})
		jwt2 := r.login2("keeper", newPassword)

		var later []string
		for _, path := range []string{"/api/auth/profile", "/api/tokens", "/api/packages/kept", "/api/packages/kept/history"} {
			later = append(later, string(r.expect(200, "GET", path, jwt2, nil).Body))
		}
		r.Stop()
		secrets := []string{password, newPassword, secret, strings.TrimPrefix(secret, "oak_"), jwt}
		check := func(where, text string) {
			for _, s := range secrets {
				if strings.Contains(text, s) {
					t.Errorf("secret %.12s… found in %s", s, where)
				}
			}
		}
		check("the log", r.Logs())
		check("later responses", strings.Join(later, "\n"))
		// The database: every file of SQLite (with its WAL), or every row of
		// every table of PostgreSQL.
		if engine == "sqlite" {
			files, _ := filepath.Glob(filepath.Join(r.DataDir, "registry.db*"))
			for _, f := range files {
				b, _ := os.ReadFile(f)
				check(filepath.Base(f), string(b))
			}
			if len(files) == 0 {
				t.Fatal("no database files found")
			}
		} else {
			db := openStore(t, r.Config).WriteDB()
			for _, table := range []string{"users", "api_tokens", "sessions", "packages", "versions", "audit_events"} {
				rows, err := db.Query(`SELECT row_to_json(t)::text FROM ` + table + ` t`)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var s string
					rows.Scan(&s)
					check("table "+table, s)
				}
				rows.Close()
			}
		}
	})
}
