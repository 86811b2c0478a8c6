package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cli runs commands as a user whose config folder is a temporary one.
type cli struct {
	t     *testing.T
	r     *testRegistry
	dir   string
	env   []string
	creds string
}

func newCLI(t *testing.T, r *testRegistry) *cli {
	home := t.TempDir()
	cfg := filepath.Join(home, "config")
	return &cli{t: t, r: r, dir: t.TempDir(),
		env:   []string{"HOME=" + home, "XDG_CONFIG_HOME=" + cfg, "DRYAD_TOKEN="},
		creds: filepath.Join(cfg, "dryad-registry", "credentials.json")}
}

// run runs a command with stdin and returns its status and output.
func (c *cli) run(stdin string, args ...string) (int, string, string) {
	c.t.Helper()
	return invocation{Dir: c.dir, Env: c.env, Stdin: stdin}.run(c.t, args...)
}

// ok runs a command that must succeed and returns its standard output.
func (c *cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	code, out, errOut := c.run(stdin, args...)
	if code != 0 {
		c.t.Fatalf("dryad-registry %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// json runs a command with --json that must succeed and decodes its output.
func (c *cli) json(stdin string, v any, args ...string) {
	c.t.Helper()
	out := c.ok(stdin, append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("dryad-registry %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// fails runs a command that must fail with code and one line on standard
// error containing each of want.
func (c *cli) fails(stdin string, code int, want []string, args ...string) {
	c.t.Helper()
	got, out, errOut := c.run(stdin, args...)
	if got != code {
		c.t.Errorf("dryad-registry %s: exit %d, want %d\n%s%s", strings.Join(args, " "), got, code, out, errOut)
	}
	if n := strings.Count(strings.TrimSpace(errOut), "\n"); n != 0 || errOut == "" {
		c.t.Errorf("dryad-registry %s: want one line on standard error, got:\n%s", strings.Join(args, " "), errOut)
	}
	for _, w := range want {
		if !strings.Contains(errOut, w) {
			c.t.Errorf("dryad-registry %s: standard error lacks %q:\n%s", strings.Join(args, " "), w, errOut)
		}
	}
}

// TestCLILogin logs in with a password on standard input, then publishes,
// yanks, manages owners and tokens and searches with the stored token
// alone, and logs out revoking it.
func TestCLILogin(t *testing.T) {
	r := startRegistry(t, regOptions{})
	r.signUp("clia")
	r.signUp("clib")
	c := newCLI(t, r)
	password := "correct-horse-clia\n"
	login := fmt.Sprintf("`dryad-registry login --registry %s`", r.URL)

	// Before login: no token anywhere.
	c.fails("", 2, []string{"a token is needed", login}, "yank", "clipkg@1.0.0", "--registry", r.URL)
	c.fails("wrong password\n", 1, []string{"check the username and password"}, "login", "--registry", r.URL, "--username", "clia")
	c.fails("", 2, []string{"--username"}, "login", "--registry", r.URL)
	if _, err := os.Stat(c.creds); err == nil {
		t.Fatal("a failed login wrote the credentials file")
	}

	var in struct {
		Registry        string   `json:"registry"`
		Username        string   `json:"username"`
		TokenID         int64    `json:"token_id"`
		Scopes          []string `json:"scopes"`
		CredentialsFile string   `json:"credentials_file"`
	}
	c.json(password, &in, "login", "--registry", r.URL, "--username", "clia")
	if in.Registry != r.URL || in.Username != "clia" || in.TokenID == 0 || in.CredentialsFile != c.creds || strings.Join(in.Scopes, ",") != "publish,yank,owners" {
		t.Fatalf("login answered %+v", in)
	}
	for path, want := range map[string]os.FileMode{c.creds: 0o600, filepath.Dir(c.creds): 0o700} {
		if info, err := os.Stat(path); err != nil || info.Mode().Perm() != want {
			t.Fatalf("%s: %v, mode %v, want %04o", path, err, info.Mode().Perm(), want)
		}
	}
	var stored struct {
		Registries map[string]struct {
			Token   string `json:"token"`
			TokenID int64  `json:"token_id"`
		} `json:"registries"`
	}
	b, _ := os.ReadFile(c.creds)
	if err := json.Unmarshal(b, &stored); err != nil || stored.Registries[r.URL].TokenID != in.TokenID {
		t.Fatalf("credentials file: %v\n%s", err, b)
	}
	token := stored.Registries[r.URL].Token

	// Publish without --token, and without --registry: the one registry
	// logged in to is the default.
	pkgDir := filepath.Join(c.dir, "clipkg")
	writeTree(t, pkgDir, map[string]string{"oaklibs.json": manifestOf("clipkg", "1.0.0"), "lib/clipkg.dryad": "export fn f() {}\n"})
	var pub struct {
		Name, Version, Checksum string
	}
	c.json("", &pub, "publish", pkgDir, "--quiet")
	if pub.Name != "clipkg" || pub.Version != "1.0.0" || len(pub.Checksum) != 64 {
		t.Fatalf("publish answered %+v", pub)
	}

	// Yank and unyank.
	var v struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Yanked  bool   `json:"yanked"`
	}
	c.json("", &v, "yank", "clipkg@1.0.0", "--registry", r.URL)
	if !v.Yanked || v.Name != "clipkg" || v.Version != "1.0.0" {
		t.Fatalf("yank answered %+v", v)
	}
	if out := c.ok("", "yank", "--undo", "clipkg@1.0.0"); !strings.Contains(out, "unyanked clipkg@1.0.0") {
		t.Fatalf("yank --undo printed %q", out)
	}
	c.fails("", 1, []string{"yank:", "404", "dryad-registry search"}, "yank", "nosuchpkg@1.0.0")
	c.fails("", 2, []string{"NAME@VERSION"}, "yank", "clipkg")

	// Owners.
	var owners struct {
		Name   string `json:"name"`
		Owners []struct {
			Username string `json:"username"`
		} `json:"owners"`
	}
	c.json("", &owners, "owner", "add", "clipkg", "clib")
	if len(owners.Owners) != 2 {
		t.Fatalf("owner add answered %+v", owners)
	}
	if out := c.ok("", "owner", "list", "clipkg"); !strings.Contains(out, "clia") || !strings.Contains(out, "clib") {
		t.Fatalf("owner list printed:\n%s", out)
	}
	c.json("", &owners, "owner", "remove", "clipkg", "clib")
	if len(owners.Owners) != 1 || owners.Owners[0].Username != "clia" {
		t.Fatalf("owner remove answered %+v", owners)
	}
	c.fails("", 1, []string{"owner add:", "404"}, "owner", "add", "nosuchpkg", "clib")

	// Search: a table by default.
	out := c.ok("", "search", "clipkg")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME") ||
		!strings.Contains(lines[0], "DOWNLOADS") || !strings.HasPrefix(lines[1], "clipkg") || !strings.Contains(lines[1], "the clipkg package") {
		t.Fatalf("search printed:\n%s", out)
	}
	var found struct {
		Packages []struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"packages"`
		Total int `json:"total"`
	}
	c.json("", &found, "search", "clipkg")
	if found.Total != 1 || found.Packages[0].Name != "clipkg" || found.Packages[0].Version != "1.0.0" {
		t.Fatalf("search --json answered %+v", found)
	}
	// Filters: by owner and update period, with or without text.
	c.json("", &found, "search", "--owner", "CLIA", "--updated", "week")
	if found.Total != 1 || found.Packages[0].Name != "clipkg" {
		t.Fatalf("search --owner clia answered %+v", found)
	}
	if code, _, errOut := c.run("", "search", "clipkg", "--owner", "clib"); code != 0 || !strings.Contains(errOut, `no packages match "clipkg" with owner clib`) {
		t.Errorf("search --owner clib: exit %d\n%s", code, errOut)
	}
	c.fails("", 2, []string{"want week, month or year"}, "search", "--updated", "decade")

	// Tokens: the password again (API tokens cannot manage tokens); the
	// username is the one login stored.
	var created struct {
		ID    int64  `json:"id"`
		Name  string `json:"name"`
		Token string `json:"token"`
	}
	c.json(password, &created, "token", "create", "--name", "ci", "--scopes", "publish")
	if created.ID == 0 || created.Token == "" || created.Name != "ci" {
		t.Fatalf("token create answered %+v", created)
	}
	var list struct {
		Tokens []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"tokens"`
	}
	c.json(password, &list, "token", "list")
	if len(list.Tokens) != 2 {
		t.Fatalf("token list answered %+v", list)
	}
	if out := c.ok(password, "token", "list"); !strings.Contains(out, "(stored by login)") || !strings.Contains(out, "ci") {
		t.Fatalf("token list printed:\n%s", out)
	}
	c.ok(password, "token", "revoke", fmt.Sprint(created.ID))
	r.expect(401, "PUT", "/api/packages/clipkg/versions/1.0.0/yank", created.Token, nil)
	c.fails("nope\n", 1, []string{"check the username and password"}, "token", "list")

	// A credentials file others may read is refused, with the fix.
	if err := os.Chmod(c.creds, 0o644); err != nil {
		t.Fatal(err)
	}
	c.fails("", 1, []string{"chmod 600 " + c.creds}, "yank", "clipkg@1.0.0")
	os.Chmod(c.creds, 0o600)

	// Logout revokes the token on the registry with the token itself (no
	// password) and removes it here.
	var lo struct {
		Removed    bool   `json:"removed"`
		Revoked    bool   `json:"revoked"`
		Revocation string `json:"revocation"`
	}
	c.json("", &lo, "logout")
	if !lo.Removed || !lo.Revoked || lo.Revocation != "revoked" {
		t.Fatalf("logout answered %+v", lo)
	}
	r.expect(401, "PUT", "/api/packages/clipkg/versions/1.0.0/yank", token, nil)
	c.fails("", 2, []string{"a token is needed", login}, "yank", "clipkg@1.0.0", "--registry", r.URL)

	// logout --revoke does it with the password instead.
	c.json(password, &in, "login", "--registry", r.URL, "--username", "clia")
	b, _ = os.ReadFile(c.creds)
	json.Unmarshal(b, &stored)
	token = stored.Registries[r.URL].Token
	lo = struct {
		Removed    bool   `json:"removed"`
		Revoked    bool   `json:"revoked"`
		Revocation string `json:"revocation"`
	}{}
	c.json(password, &lo, "logout", "--revoke")
	if !lo.Removed || !lo.Revoked {
		t.Fatalf("logout --revoke answered %+v", lo)
	}
	r.expect(401, "PUT", "/api/packages/clipkg/versions/1.0.0/yank", token, nil)

	// DRYAD_TOKEN stands in for login; a refused one says what to do.
	c.env = append(c.env, "DRYAD_TOKEN="+r.apiToken(r.login("clia"), []string{"yank"}))
	c.ok("", "yank", "clipkg@1.0.0", "--registry", r.URL)
	c.env = append(c.env, "DRYAD_TOKEN=oak_revoked")
	c.fails("", 1, []string{"check the token", login}, "yank", "clipkg@1.0.0", "--registry", r.URL)

	// A stored token revoked elsewhere: the fix is to log in again.
	c.env = append(c.env, "DRYAD_TOKEN=")
	c.json(password, &in, "login", "--registry", r.URL, "--username", "clia")
	r.expect(200, "DELETE", fmt.Sprintf("/api/tokens/%d", in.TokenID), r.login("clia"), nil)
	c.fails("", 1, []string{"stored by login was refused", login + " again"}, "yank", "clipkg@1.0.0")
	if code, _, errOut := c.run("", "publish", pkgDir, "--quiet"); code != 1 || !strings.Contains(errOut, "stored by login: run "+login+" again") {
		t.Errorf("publish with a revoked stored token: exit %d\n%s", code, errOut)
	}

	// Logout removes even a file others may read, and says the registry
	// no longer took the token.
	os.Chmod(c.creds, 0o644)
	if out := c.ok("", "logout"); !strings.Contains(out, "no longer accepted it") {
		t.Errorf("logout printed:\n%s", out)
	}
	if _, err := os.Stat(c.creds); !os.IsNotExist(err) {
		t.Errorf("credentials file left after logout: %v", err)
	}

	// A registry that cannot be reached: the token is removed here all
	// the same, and logout says it was not revoked and how to revoke it.
	c.json(password, &in, "login", "--registry", r.URL, "--username", "clia")
	r.Stop()
	out = c.ok("", "logout")
	for _, want := range []string{"removed from", "NOT revoked on the registry, which could not be reached", fmt.Sprintf("token revoke %d", in.TokenID)} {
		if !strings.Contains(out, want) {
			t.Errorf("logout with the registry down printed %q; want it to say %q", out, want)
		}
	}
	if _, err := os.Stat(c.creds); !os.IsNotExist(err) {
		t.Errorf("credentials file left after logout: %v", err)
	}
}
