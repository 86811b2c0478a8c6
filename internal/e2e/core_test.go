package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/testenv"
)

// TestOakInstallPath walks what `oak install NAME` does, byte for byte
// (OAK_CONTRACT.md): metadata with only Host and Accept headers, the
// download URL it names, the checksum compared as an exact string, and an
// archive that unpacks with the package files at its root.
func TestOakInstallPath(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		r := startRegistry(t, regOptions{Engine: engine})
		tok := r.signUp("alice")
		// Uploaded with a top-level folder, as `tar czf x.tgz mylib/` makes.
		arch := pkg{name: "mylib", version: "1.2.0", prefix: "mylib", fields: map[string]any{"author": map[string]string{"name": "Alice", "email": "a@example.org"}, "license": "MIT"},
			files: map[string]string{"src/main.dryad": "main\n", "README.md": "# mylib\n"}}.archive(t)
		res := r.publishMultipart(tok, "mylib-1.2.0.tgz", arch)
		if res.Status != 201 {
			t.Fatalf("publish: %d %s", res.Status, res.Body)
		}

		// 1. The metadata request exactly as Oak sends it.
		conn, err := net.Dial("tcp", strings.TrimPrefix(r.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET /api/packages/mylib HTTP/1.1\r\nHost: %s\r\nAccept: */*\r\nConnection: close\r\n\r\n", strings.TrimPrefix(r.URL, "http://"))
		raw, _ := io.ReadAll(conn)
		conn.Close()
		head, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
		if !bytes.HasPrefix(head, []byte("HTTP/1.1 200")) {
			t.Fatalf("metadata answer:\n%s", raw)
		}
		// 2. One bare JSON object with the required fields and types.
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("metadata is not one JSON object: %v\n%s", err, body)
		}
		for field, want := range map[string]string{"name": "string", "version": "string", "download_url": "string", "checksum": "string", "file_size": "number", "dependencies": "object"} {
			got := fmt.Sprintf("%T", doc[field])
			if map[string]string{"string": "string", "float64": "number", "map[string]interface {}": "object"}[got] != want {
				t.Errorf("field %q has type %s, want %s", field, got, want)
			}
		}
		if doc["name"] != "mylib" || doc["version"] != "1.2.0" || doc["license"] != "MIT" || doc["author"] != "Alice <a@example.org>" {
			t.Errorf("flat fields: %v %v %v %v", doc["name"], doc["version"], doc["license"], doc["author"])
		}
		sum := doc["checksum"].(string)
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(sum) {
			t.Errorf("checksum %q is not lowercase hex SHA-256", sum)
		}
		if size := doc["file_size"].(float64); size != float64(int64(size)) || size <= 0 {
			t.Errorf("file_size %v is not a positive integer", size)
		}
		dl := doc["download_url"].(string)
		if !strings.HasPrefix(dl, r.URL+"/") {
			t.Errorf("download_url %q is not absolute on this registry", dl)
		}
		// 3. The download, 4. the checksum as exact strings.
		resp, err := http.Get(dl)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("download: %d", resp.StatusCode)
		}
		h := sha256.Sum256(got)
		if hex.EncodeToString(h[:]) != sum || int64(len(got)) != int64(doc["file_size"].(float64)) {
			t.Fatalf("downloaded bytes do not match checksum/file_size")
		}
		// 5. Files at the root of the archive, whatever the upload layout.
		files := testenv.Untar(t, got)
		for _, want := range []string{"oaklibs.json", "lib/mylib.dryad", "src/main.dryad", "README.md"} {
			if _, ok := files[want]; !ok {
				t.Errorf("archive lacks %s at its root: %v", want, keys(files))
			}
		}
		for name := range files {
			if strings.HasPrefix(name, "mylib/") {
				t.Errorf("archive kept the top-level folder: %s", name)
			}
		}
		// A registry URL configured with a trailing slash still works.
		r.expect(200, "GET", r.URL+"//api/packages/mylib", "", nil)
		r.expect(200, "GET", r.URL+"//api/health", "", nil)
	})
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestPublishRawBodyWithToken publishes the raw archive with an API token.
func TestPublishRawBodyWithToken(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		r := startRegistry(t, regOptions{Engine: engine})
		tok := r.apiToken(r.signUp("bob"), []string{"publish"})
		res := r.publish(tok, pkg{name: "rawlib", version: "0.1.0"}.archive(t))
		if res.Status != 201 {
			t.Fatalf("raw publish: %d %s", res.Status, res.Body)
		}
		j := res.JSON(t)
		if j["name"] != "rawlib" || j["version"] != "0.1.0" || j["checksum"] == "" {
			t.Errorf("publish answer: %v", j)
		}
		// Same files, different layout and metadata: identical canonical bytes.
		again := pkg{name: "rawlib", version: "0.1.0", prefix: "rawlib-0.1.0"}.archive(t)
		b := r.expect(200, "GET", "/packages/rawlib/0.1.0.tar.gz", "", nil).Body
		h := sha256.Sum256(b)
		if hex.EncodeToString(h[:]) != j["checksum"] {
			t.Error("served bytes differ from the published checksum")
		}
		res = r.publish(tok, again)
		if res.Status != 409 {
			t.Errorf("republish: %d %s", res.Status, res.Body)
		}
	})
}

// TestPublishRules checks every refusal of the publish path with its status
// and a message that says what to fix.
func TestPublishRules(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		r := startRegistry(t, regOptions{Engine: engine, Env: map[string]string{"MAX_PACKAGE_SIZE": "64KB"}})
		alice := r.signUp("alice")
		bob := r.signUp("bob")
		r.expect(201, "POST", "/api/upload", alice, pkg{name: "base", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
		r.expect(201, "POST", "/api/upload", alice, pkg{name: "base", version: "1.1.0"}.archive(t), "Content-Type", "application/gzip")
		r.expect(201, "POST", "/api/upload", alice, pkg{name: "my-lib", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")

		big := make([]byte, 200<<10)
		rand.Read(big) // incompressible
		bigArchive := pkg{name: "big", version: "1.0.0", files: map[string]string{"blob.bin": string(big)}}.archive(t)

		tests := []struct {
			name    string
			token   string
			body    []byte
			status  int
			message string
		}{
			{"no credentials", "", pkg{name: "x1", version: "1.0.0"}.archive(t), 401, "Bearer"},
			{"not gzip", alice, []byte("this is not an archive"), 400, "gzip"},
			{"no manifest", alice, testenv.TarGz(t, "", map[string]string{"README.md": "hi"}), 400, "oaklibs.json"},
			{"bad name", alice, pkg{name: "Bad Name", version: "1.0.0"}.archive(t), 400, "name"},
			{"reserved name", alice, pkg{name: "admin", version: "1.0.0"}.archive(t), 400, "reserved"},
			{"bad version", alice, pkg{name: "x2", version: "v1.0"}.archive(t), 400, "version"},
			{"four-part version", alice, pkg{name: "x2", version: "1.0.0.0"}.archive(t), 400, "version"},
			{"path traversal", alice, testenv.TarGz(t, "", map[string]string{"oaklibs.json": `{"name":"x3","version":"1.0.0"}`, "../evil": "x"}), 400, ".."},
			{"too large", alice, bigArchive, 413, "limit"},
			{"republish", alice, pkg{name: "base", version: "1.0.0"}.archive(t), 409, "immutable"},
			{"republish with build metadata", alice, pkg{name: "base", version: "1.0.0+build.2"}.archive(t), 409, "already exists"},
			{"not an owner", bob, pkg{name: "base", version: "2.0.0"}.archive(t), 403, "owner"},
			{"same name spelled with _", bob, pkg{name: "my_lib", version: "2.0.0"}.archive(t), 403, "owner"},
			{"unknown dependency", alice, pkg{name: "app", version: "1.0.0", fields: map[string]any{"dependencies": map[string]string{"ghost": "^1.0.0"}}}.archive(t), 422, `"ghost"`},
			{"unsatisfied dependency", alice, pkg{name: "app", version: "1.0.0", fields: map[string]any{"dependencies": map[string]string{"base": "^2.0.0"}}}.archive(t), 422, "1.1.0"},
			{"self dependency", alice, pkg{name: "app", version: "1.0.0", fields: map[string]any{"dependencies": map[string]string{"app": "*"}}}.archive(t), 400, "itself"},
			{"bad range", alice, pkg{name: "app", version: "1.0.0", fields: map[string]any{"dependencies": map[string]string{"base": "^^1"}}}.archive(t), 400, "base"},
		}
		for _, tt := range tests {
			res := r.publish(tt.token, tt.body)
			if res.Status != tt.status {
				t.Errorf("%s: status %d, want %d: %s", tt.name, res.Status, tt.status, res.Body)
				continue
			}
			msg, _ := res.JSON(t)["message"].(string)
			if !strings.Contains(msg, tt.message) {
				t.Errorf("%s: message %q should mention %q", tt.name, msg, tt.message)
			}
		}
		// Its owner may use either spelling; the first one stays the name.
		r.expect(201, "POST", "/api/upload", alice, pkg{name: "my_lib", version: "1.1.0"}.archive(t), "Content-Type", "application/gzip")
		if doc := r.expect(200, "GET", "/api/packages/my_lib", "", nil).JSON(t); doc["name"] != "my-lib" || doc["version"] != "1.1.0" {
			t.Errorf("my_lib resolves to %v@%v", doc["name"], doc["version"])
		}

		// A dependency with a satisfying live version is accepted.
		r.expect(201, "POST", "/api/upload", alice, pkg{name: "app", version: "1.0.0", fields: map[string]any{"dependencies": map[string]string{"base": "^1.0.0"}}}.archive(t), "Content-Type", "application/gzip")
		// Content-Length over the limit is refused before the body is read.
		req, _ := http.NewRequest("POST", r.URL+"/api/upload", io.LimitReader(zeroReader{}, 10<<20))
		req.ContentLength = 10 << 20
		req.Header.Set("Authorization", "Bearer "+alice)
		req.Header.Set("Content-Type", "application/gzip")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			if resp.StatusCode != 413 {
				t.Errorf("announced oversized upload: %d", resp.StatusCode)
			}
			resp.Body.Close()
		}
		// Nothing of the refused publishes is visible.
		for _, name := range []string{"x1", "x2", "x3", "big"} {
			r.expect(404, "GET", "/api/packages/"+name, "", nil)
		}
		vs := r.expect(200, "GET", "/api/packages/base/versions", "", nil).JSON(t)["versions"].([]any)
		if len(vs) != 2 {
			t.Errorf("base has %d versions, want 2", len(vs))
		}
	})
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0
	}
	return len(p), nil
}

// TestLatestResolveYank checks SemVer latest, ranges, yanks and the version
// endpoints.
func TestLatestResolveYank(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		r := startRegistry(t, regOptions{Engine: engine})
		tok := r.signUp("carol")
		for _, v := range []string{"1.0.0", "2.0.0-beta.1", "1.1.0", "1.0.1"} {
			r.expect(201, "POST", "/api/upload", tok, pkg{name: "semv", version: v}.archive(t), "Content-Type", "application/gzip")
		}
		doc := r.expect(200, "GET", "/api/packages/semv", "", nil).JSON(t)
		if doc["version"] != "1.1.0" || doc["latest"] != "1.1.0" {
			t.Errorf("latest = %v, want 1.1.0 (highest non-prerelease, not newest upload)", doc["version"])
		}
		var order []string
		for _, v := range doc["versions"].([]any) {
			order = append(order, v.(map[string]any)["version"].(string))
		}
		if strings.Join(order, " ") != "2.0.0-beta.1 1.1.0 1.0.1 1.0.0" {
			t.Errorf("versions order = %v", order)
		}
		flat := r.expect(200, "GET", "/api/packages/semv?version=2.0.0-beta.1", "", nil).JSON(t)
		if flat["version"] != "2.0.0-beta.1" || !strings.HasSuffix(flat["download_url"].(string), "/semv/2.0.0-beta.1.tar.gz") {
			t.Errorf("?version= flat form: %v %v", flat["version"], flat["download_url"])
		}
		resolve := func(rng string) string {
			res := r.do("GET", "/api/packages/semv/resolve?range="+urlQuery(rng), "", nil)
			if res.Status != 200 {
				return fmt.Sprint(res.Status)
			}
			return res.JSON(t)["version"].(string)
		}
		for rng, want := range map[string]string{"^1.0.0": "1.1.0", "~1.0.0": "1.0.1", "1.0.0": "1.0.0", "*": "1.1.0", "latest": "1.1.0",
			">=1.0.0 <1.1.0": "1.0.1", "^2.0.0-beta": "2.0.0-beta.1", "^3.0.0": "404", "1.x": "1.1.0"} {
			if got := resolve(rng); got != want {
				t.Errorf("resolve %q = %s, want %s", rng, got, want)
			}
		}
		r.expect(400, "GET", "/api/packages/semv/resolve?range=%5E%5E1", "", nil)

		// Yank the latest: installs move to the next one, the archive stays.
		r.expect(200, "PUT", "/api/packages/semv/versions/1.1.0/yank", tok, nil)
		doc = r.expect(200, "GET", "/api/packages/semv", "", nil).JSON(t)
		if doc["version"] != "1.0.1" {
			t.Errorf("latest after yank = %v, want 1.0.1", doc["version"])
		}
		if got := resolve("^1.0.0"); got != "1.0.1" {
			t.Errorf("resolve after yank = %s", got)
		}
		res := r.expect(200, "GET", "/packages/semv/1.1.0.tar.gz", "", nil)
		if res.Header.Get("X-Yanked") != "true" {
			t.Error("yanked download lacks X-Yanked")
		}
		v := r.expect(200, "GET", "/api/packages/semv/versions/1.1.0", "", nil).JSON(t)
		if v["yanked"] != true {
			t.Errorf("version doc yanked = %v", v["yanked"])
		}
		r.expect(200, "DELETE", "/api/packages/semv/versions/1.1.0/yank", tok, nil)
		if doc = r.expect(200, "GET", "/api/packages/semv", "", nil).JSON(t); doc["version"] != "1.1.0" {
			t.Errorf("latest after unyank = %v", doc["version"])
		}
		r.expect(404, "GET", "/api/packages/semv/versions/9.9.9", "", nil)
		r.expect(404, "GET", "/api/packages/nope", "", nil)
		r.expect(404, "GET", "/packages/semv/9.9.9.tar.gz", "", nil)
		// Only prereleases: the highest prerelease is latest.
		r.expect(201, "POST", "/api/upload", tok, pkg{name: "pre", version: "0.1.0-alpha.2"}.archive(t), "Content-Type", "application/gzip")
		r.expect(201, "POST", "/api/upload", tok, pkg{name: "pre", version: "0.1.0-alpha.10"}.archive(t), "Content-Type", "application/gzip")
		if doc = r.expect(200, "GET", "/api/packages/pre", "", nil).JSON(t); doc["version"] != "0.1.0-alpha.10" {
			t.Errorf("prerelease-only latest = %v", doc["version"])
		}
	})
}

func urlQuery(s string) string {
	return strings.NewReplacer(" ", "%20", "^", "%5E", "<", "%3C", ">", "%3E", "=", "%3D", "~", "%7E", "*", "%2A").Replace(s)
}

// TestDownloadAndMetadataCaching checks the HTTP caching contract of
// archives and metadata.
func TestDownloadAndMetadataCaching(t *testing.T) {
	engines(t, testDownloadAndMetadataCaching)
}

func testDownloadAndMetadataCaching(t *testing.T, engine string) {
	r := startRegistry(t, regOptions{Engine: engine})
	tok := r.signUp("dave")
	body := r.expect(201, "POST", "/api/upload", tok, pkg{name: "cachey", version: "1.0.0", files: map[string]string{"data.txt": strings.Repeat("0123456789", 1000)}}.archive(t), "Content-Type", "application/gzip").JSON(t)
	sum := body["checksum"].(string)

	res := r.expect(200, "GET", "/packages/cachey/1.0.0.tar.gz", "", nil)
	if res.Header.Get("ETag") != `"`+sum+`"` || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") || res.Header.Get("Accept-Ranges") != "bytes" {
		t.Errorf("download headers: %v", res.Header)
	}
	full := res.Body
	part := r.expect(206, "GET", "/packages/cachey/1.0.0.tar.gz", "", nil, "Range", "bytes=10-19")
	if !bytes.Equal(part.Body, full[10:20]) {
		t.Error("range content differs")
	}
	r.expect(304, "GET", "/packages/cachey/1.0.0.tar.gz", "", nil, "If-None-Match", `"`+sum+`"`)
	head := r.expect(200, "HEAD", "/packages/cachey/1.0.0.tar.gz", "", nil)
	if head.Header.Get("Content-Length") != fmt.Sprint(len(full)) || len(head.Body) != 0 {
		t.Errorf("HEAD: length %q body %d", head.Header.Get("Content-Length"), len(head.Body))
	}

	m := r.expect(200, "GET", "/api/packages/cachey", "", nil)
	etag := m.Header.Get("ETag")
	if etag == "" {
		t.Fatal("metadata without ETag")
	}
	r.expect(304, "GET", "/api/packages/cachey", "", nil, "If-None-Match", etag)
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "cachey", version: "1.1.0"}.archive(t), "Content-Type", "application/gzip")
	m2 := r.expect(200, "GET", "/api/packages/cachey", "", nil, "If-None-Match", etag)
	if m2.Header.Get("ETag") == etag || m2.JSON(t)["version"] != "1.1.0" {
		t.Error("metadata not invalidated by a publish")
	}
}

// TestDeleteRules checks the 72-hour and dependents rules and that deleted
// versions answer 410 and are never reused.
func TestDeleteRules(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		r := startRegistry(t, regOptions{Engine: engine})
		alice := r.signUp("alice")
		bob := r.signUp("bob")
		up := func(tok string, p pkg) {
			r.expect(201, "POST", "/api/upload", tok, p.archive(t), "Content-Type", "application/gzip")
		}
		up(alice, pkg{name: "core-lib", version: "1.0.0"})
		up(alice, pkg{name: "core-lib", version: "1.1.0"})
		up(bob, pkg{name: "user-app", version: "1.0.0", fields: map[string]any{"dependencies": map[string]string{"core-lib": "~1.1.0"}}})

		r.expect(403, "DELETE", "/api/packages/core-lib/versions/1.0.0", bob, nil)
		res := r.expect(409, "DELETE", "/api/packages/core-lib/versions/1.1.0", alice, nil)
		if !strings.Contains(string(res.Body), "user-app") {
			t.Errorf("409 should name the dependent: %s", res.Body)
		}
		r.expect(409, "DELETE", "/api/packages/core-lib", alice, nil)
		r.expect(200, "DELETE", "/api/packages/core-lib/versions/1.0.0", alice, nil)
		r.expect(410, "GET", "/api/packages/core-lib/versions/1.0.0", "", nil)
		r.expect(410, "GET", "/packages/core-lib/1.0.0.tar.gz", "", nil)
		res = r.publish(alice, pkg{name: "core-lib", version: "1.0.0"}.archive(t))
		if res.Status != 409 || !strings.Contains(string(res.Body), "never reused") {
			t.Errorf("republish of a deleted version: %d %s", res.Status, res.Body)
		}
		// The dependent goes, then the whole package may.
		r.expect(200, "DELETE", "/api/packages/user-app", bob, nil)
		r.expect(410, "GET", "/api/packages/user-app", "", nil)
		r.expect(200, "DELETE", "/api/packages/core-lib", alice, nil)
		r.expect(410, "GET", "/api/packages/core-lib", "", nil)
		// Another user cannot take a deleted package's name.
		if res := r.publish(bob, pkg{name: "core-lib", version: "2.0.0"}.archive(t)); res.Status != 403 {
			t.Errorf("taking a deleted package's name: %d", res.Status)
		}
		// Its owner can publish new versions again.
		up(alice, pkg{name: "core-lib", version: "2.0.0"})
		r.expect(200, "GET", "/api/packages/core-lib", "", nil)
	})
}

// TestDeleteWindow checks that owners cannot delete versions older than 72
// hours, and admins can.
func TestDeleteWindow(t *testing.T) {
	engines(t, testDeleteWindow)
}

func testDeleteWindow(t *testing.T, engine string) {
	r := startRegistry(t, regOptions{Engine: engine})
	alice := r.signUp("alice")
	r.expect(201, "POST", "/api/upload", alice, pkg{name: "old", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
	// Age the version in the database.
	db := openStore(t, r.Config)
	if _, err := db.WriteDB().Exec(`UPDATE versions SET published_at = $1`, time.Now().UTC().Add(-100*time.Hour)); err != nil {
		t.Fatal(err)
	}
	res := r.expect(409, "DELETE", "/api/packages/old/versions/1.0.0", alice, nil)
	if !strings.Contains(string(res.Body), "72 hours") || !strings.Contains(string(res.Body), "Yank") {
		t.Errorf("409 message: %s", res.Body)
	}
	admin := r.signUp("root")
	ensureAdmin(t, r, "root")
	admin = r.login("root")
	r.expect(200, "DELETE", "/api/admin/packages/old/versions/1.0.0", admin, nil)
	r.expect(410, "GET", "/packages/old/1.0.0.tar.gz", "", nil)
}

// ensureAdmin promotes a user with the create-admin command.
func ensureAdmin(t *testing.T, r *testRegistry, username string) {
	t.Helper()
	env := []string{"DATA_DIR=" + r.DataDir, "DATABASE_URL=" + r.Config.DatabaseURL, "JWT_SECRET=" + r.Config.JWTSecret, "BCRYPT_COST=4"}
	if code, out, errOut := (invocation{Dir: r.DataDir, Env: env}).run(t, "create-admin", "--username", username); code != 0 {
		t.Fatalf("create-admin: exit %d\n%s%s", code, out, errOut)
	}
}

// TestSearchAPI checks search, sorting and paging over HTTP.
func TestSearchAPI(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		r := startRegistry(t, regOptions{Engine: engine})
		tok := r.signUp("erin")
		for _, p := range []pkg{
			{name: "json", version: "1.0.0", fields: map[string]any{"description": "JSON encoding", "keywords": []string{"encoding"}}},
			{name: "json-schema", version: "1.0.0", fields: map[string]any{"description": "Validate JSON"}},
			{name: "yaml", version: "1.0.0", fields: map[string]any{"description": "YAML, a superset of json"}},
			{name: "http", version: "1.0.0", fields: map[string]any{"description": "HTTP client"}},
		} {
			r.expect(201, "POST", "/api/upload", tok, p.archive(t), "Content-Type", "application/gzip")
		}
		res := r.expect(200, "GET", "/api/search?q=json", "", nil).JSON(t)
		var names []string
		for _, p := range res["packages"].([]any) {
			names = append(names, p.(map[string]any)["name"].(string))
		}
		if strings.Join(names, " ") != "json json-schema yaml" || res["total"].(float64) != 3 || res["has_more"] != false {
			t.Errorf("search json = %v (total %v)", names, res["total"])
		}
		page := r.expect(200, "GET", "/api/packages?q=json&limit=1&offset=1", "", nil).JSON(t)
		if page["has_more"] != true || len(page["packages"].([]any)) != 1 {
			t.Errorf("page: %v", page)
		}
		all := r.expect(200, "GET", "/api/packages?sort=name", "", nil).JSON(t)
		if all["total"].(float64) != 4 {
			t.Errorf("list all total = %v", all["total"])
		}
		r.expect(400, "GET", "/api/packages?sort=sideways", "", nil)
		r.expect(400, "GET", "/api/packages?limit=5000", "", nil)
		st := r.expect(200, "GET", "/api/stats", "", nil).JSON(t)
		if st["packages"].(float64) != 4 || st["users"].(float64) != 1 {
			t.Errorf("stats = %v", st)
		}
	})
}

// TestDownloadCounts checks that downloads are counted per version and day
// and reach the stats without a database write per download.
func TestDownloadCounts(t *testing.T) {
	engines(t, testDownloadCounts)
}

func testDownloadCounts(t *testing.T, engine string) {
	dir := t.TempDir()
	dbURL := ""
	if engine == "postgres" {
		dbURL = testenv.NewPostgresDatabase(t)
	}
	r := startRegistry(t, regOptions{DataDir: dir, DatabaseURL: dbURL})
	tok := r.signUp("fay")
	r.expect(201, "POST", "/api/upload", tok, pkg{name: "counted", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
	for i := 0; i < 7; i++ {
		r.expect(200, "GET", "/packages/counted/1.0.0.tar.gz", "", nil)
	}
	r.expect(206, "GET", "/packages/counted/1.0.0.tar.gz", "", nil, "Range", "bytes=0-1") // not a download
	// Shutdown flushes what is buffered.
	r.Stop()
	r = startRegistry(t, regOptions{DataDir: dir, DatabaseURL: dbURL})
	st := r.expect(200, "GET", "/api/packages/counted/stats", "", nil).JSON(t)
	if st["total"].(float64) != 7 {
		t.Fatalf("total downloads = %v, want 7", st["total"])
	}
	daily := st["daily"].([]any)
	if len(daily) != 90 || daily[89].(map[string]any)["downloads"].(float64) != 7 {
		t.Errorf("daily = %d days, last %v", len(daily), daily[len(daily)-1])
	}
	doc := r.expect(200, "GET", "/api/packages/counted", "", nil).JSON(t)
	if d := doc["downloads"].(map[string]any); d["total"].(float64) != 7 || d["last_30_days"].(float64) != 7 {
		t.Errorf("downloads in metadata = %v", d)
	}
	// While running, counts reach the stats within the flush interval.
	r.expect(200, "GET", "/packages/counted/1.0.0.tar.gz", "", nil)
	testenv.Eventually(t, "the download flushed", func() (bool, string) {
		st := r.expect(200, "GET", "/api/packages/counted/stats", "", nil).JSON(t)
		return st["total"].(float64) == 8, fmt.Sprint("total ", st["total"])
	})
}

// TestRefusedRepublishKeepsArchive re-uploads a published archive byte for
// byte, as its owner (409) and as someone else (403): neither refusal may
// touch the stored archive the existing version serves.
func TestRefusedRepublishKeepsArchive(t *testing.T) {
	r := startRegistry(t, regOptions{})
	owner := r.signUp("owner")
	stranger := r.signUp("stranger")
	r.expect(201, "POST", "/api/upload", owner, pkg{name: "precious", version: "1.0.0"}.archive(t), "Content-Type", "application/gzip")
	stored := r.expect(200, "GET", "/packages/precious/1.0.0.tar.gz", "", nil).Body
	r.expect(409, "POST", "/api/upload", owner, stored, "Content-Type", "application/gzip")
	r.expect(403, "POST", "/api/upload", stranger, stored, "Content-Type", "application/gzip")
	again := r.expect(200, "GET", "/packages/precious/1.0.0.tar.gz", "", nil).Body
	if !bytes.Equal(stored, again) {
		t.Fatal("the served archive changed after refused republishes")
	}
	// Refusals known before the archive is stored leave no archive behind.
	archives := func() int {
		m, _ := filepath.Glob(filepath.Join(r.DataDir, "packages", "sha256", "*", "*.tar.gz"))
		return len(m)
	}
	before := archives()
	r.expect(403, "POST", "/api/upload", stranger, pkg{name: "precious", version: "2.0.0"}.archive(t), "Content-Type", "application/gzip")
	r.expect(422, "POST", "/api/upload", owner, pkg{name: "precious", version: "2.0.0", fields: map[string]any{"dependencies": map[string]string{"ghost": "*"}}}.archive(t), "Content-Type", "application/gzip")
	if after := archives(); after != before {
		t.Errorf("refused publishes stored %d archives", after-before)
	}
}
