package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dryad-lang/registry/internal/client"
	"github.com/dryad-lang/registry/internal/testenv"
)

// writeTree writes files (path → content) under dir; a path ending in "*"
// is made executable (the star is dropped).
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(p, "*") {
			p, mode = strings.TrimSuffix(p, "*"), 0o755
		}
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), mode); err != nil {
			t.Fatal(err)
		}
	}
}

func manifestOf(name, version string) string {
	return `{"name": "` + name + `", "version": "` + version + `", "description": "the ` + name + ` package", "dependencies": {}}`
}

// servedFiles downloads name@version and returns its sorted entry paths.
func servedFiles(t *testing.T, r *testRegistry, name, version string) ([]string, map[string]string, string) {
	t.Helper()
	b := r.expect(200, "GET", "/packages/"+name+"/"+version+".tar.gz", "", nil).Body
	files := testenv.Untar(t, b)
	var paths []string
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	sum := sha256.Sum256(b)
	return paths, files, hex.EncodeToString(sum[:])
}

var checksumLine = regexp.MustCompile(`(?m)^  checksum  ([0-9a-f]{64})$`)

// TestPublishFolder packs a folder with ignored files, a .git folder and
// installed dependencies, publishes it and checks the archive served: only
// the package's own files, at the root, with the checksum the dry run
// computed locally.
func TestPublishFolder(t *testing.T) {
	r := startRegistry(t, regOptions{})
	tok := r.apiToken(r.signUp("packer"), []string{"publish"})
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"oaklibs.json":             manifestOf("packed", "1.0.0"),
		"lib/packed.dryad":         "export fn f() {}\n",
		"README.md":                "# packed\n",
		".gitignore":               "*.log\nbuild/\n!keep.log\n",
		".oakignore":               "secrets.txt\n",
		"debug.log":                "ignored by .gitignore\n",
		"keep.log":                 "kept by a negation\n",
		"build/out.bin":            "ignored folder\n",
		"secrets.txt":              "ignored by .oakignore\n",
		".git/HEAD":                "ref: refs/heads/main\n",
		".git/config":              "[core]\n",
		"oak_modules/dep/x.dryad":  "an installed dependency\n",
		".oak/cache/dep.tar.gz":    "Oak's cache\n",
		"src/sub/.gitignore":       "*.tmp\n",
		"src/sub/a.dryad":          "a\n",
		"src/sub/scratch.tmp":      "ignored by a nested .gitignore\n",
		"bin/run.sh*":              "#!/bin/sh\n",
		"docs/guide.md":            "guide\n",
		"docs/drafts/.gitkeep":     "",
		"docs/drafts/notes.log":    "ignored\n",
		"src/sub/deeper/b.dryad":   "b\n",
		"src/sub/deeper/build/c.x": "ignored: build/ matches at any depth\n",
	})

	// The dry run packs, lists and uploads nothing.
	code, out, errOut := runCommand(t, dir, "", "publish", "--dry-run")
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"packed@1.0.0", "nothing uploaded", "lib/packed.dryad", "bin/run.sh (executable)", "keep.log"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	for _, absent := range []string{"debug.log", "secrets.txt", ".git/", "oak_modules", ".oak/", "scratch.tmp", "out.bin", "notes.log", "build/c.x"} {
		if strings.Contains(out, absent) {
			t.Errorf("dry run lists %q:\n%s", absent, out)
		}
	}
	m := regexp.MustCompile(`archive: .*, sha256 ([0-9a-f]{64})`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("dry run prints no checksum:\n%s", out)
	}
	dryRunSum := m[1]
	r.expect(404, "GET", "/api/packages/packed", "", nil)

	// The real thing, with the flags after the folder.
	code, out, errOut = runCommand(t, t.TempDir(), "", "publish", dir, "--registry", r.URL, "--token", tok)
	if code != 0 {
		t.Fatalf("publish: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.HasPrefix(out, "published packed@1.0.0\n") || !strings.Contains(out, r.URL+"/packages/packed/1.0.0.tar.gz") {
		t.Errorf("publish output:\n%s", out)
	}
	if strings.Contains(out+errOut, tok) {
		t.Error("the token was printed")
	}
	paths, files, served := servedFiles(t, r, "packed", "1.0.0")
	want := []string{".gitignore", ".oakignore", "README.md", "bin", "bin/run.sh*", "docs", "docs/drafts", "docs/drafts/.gitkeep", "docs/guide.md",
		"keep.log", "lib", "lib/packed.dryad", "oaklibs.json", "src", "src/sub", "src/sub/.gitignore", "src/sub/a.dryad", "src/sub/deeper", "src/sub/deeper/b.dryad"}
	if !slices.Equal(paths, want) {
		t.Errorf("served files:\n got %q\nwant %q", paths, want)
	}
	if files["keep.log"] != "kept by a negation\n" {
		t.Errorf("keep.log = %q", files["keep.log"])
	}
	if m := checksumLine.FindStringSubmatch(out); m == nil || m[1] != served {
		t.Errorf("printed checksum %v, served archive has %s", m, served)
	}
	// The folder packed locally and the archive the registry stores are
	// the same bytes.
	if served != dryRunSum {
		t.Errorf("dry run checksum %s, served %s", dryRunSum, served)
	}
	doc := r.expect(200, "GET", "/api/packages/packed", "", nil).JSON(t)
	if doc["checksum"] != served || doc["version"] != "1.0.0" {
		t.Errorf("metadata: %v %v", doc["checksum"], doc["version"])
	}

	// Publishing the same version again is refused with the registry's
	// message and exit status 1.
	code, out, errOut = runCommand(t, dir, "", "publish", "--registry", r.URL, "--token", tok)
	if code != 1 || !strings.Contains(errOut, "409 Conflict") || !strings.Contains(errOut, "1.0.0") || out != "" {
		t.Errorf("republish: exit %d\nstdout %q\nstderr %s", code, out, errOut)
	}
}

// TestPublishFile uploads a .tar.gz as it is: here with its files inside
// one top-level folder, which the registry removes.
func TestPublishFile(t *testing.T) {
	r := startRegistry(t, regOptions{})
	tok := r.apiToken(r.signUp("filer"), []string{"publish"})
	dir := t.TempDir()
	arch := pkg{name: "filed", version: "2.0.0-rc.1", prefix: "filed-2.0.0", files: map[string]string{"src/main.dryad": "main\n"}}.archive(t)
	path := filepath.Join(dir, "filed-2.0.0.tgz")
	if err := os.WriteFile(path, arch, 0o644); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runCommand(t, dir, "", "publish", "filed-2.0.0.tgz", "--dry-run")
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "filed@2.0.0-rc.1") || !strings.Contains(out, "top-level folder filed-2.0.0/ removed") || !strings.Contains(out, "src/main.dryad") {
		t.Errorf("dry run output:\n%s", out)
	}
	canonical := regexp.MustCompile(`archive: .*, sha256 ([0-9a-f]{64})`).FindStringSubmatch(out)
	own := sha256.Sum256(arch)
	if !strings.Contains(out, "the file itself: ") || !strings.Contains(out, hex.EncodeToString(own[:])) {
		t.Errorf("dry run does not tell the file's own checksum from the canonical one:\n%s", out)
	}

	code, out, errOut = runCommand(t, dir, "", "publish", "--token", tok, "--registry", r.URL+"/", path)
	if code != 0 {
		t.Fatalf("publish: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.HasPrefix(out, "published filed@2.0.0-rc.1\n") {
		t.Errorf("publish output:\n%s", out)
	}
	paths, _, served := servedFiles(t, r, "filed", "2.0.0-rc.1")
	if want := []string{"lib", "lib/filed.dryad", "oaklibs.json", "src", "src/main.dryad"}; !slices.Equal(paths, want) {
		t.Errorf("served files %q, want %q", paths, want)
	}
	if canonical == nil || canonical[1] != served {
		t.Errorf("dry run canonical checksum %v, served %s", canonical, served)
	}
	if m := checksumLine.FindStringSubmatch(out); m == nil || m[1] != served {
		t.Errorf("printed checksum %v, served %s", m, served)
	}
}

// TestPublishWrongToken checks that a refused token ends with the
// registry's message, a hint and exit status 1, also when the upload is
// large enough that the registry answers before reading it all.
func TestPublishWrongToken(t *testing.T) {
	r := startRegistry(t, regOptions{})
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"oaklibs.json": manifestOf("denied", "1.0.0"), "blob.bin": randomText(t, 3<<20)})
	for _, tok := range []string{"oak_" + strings.Repeat("x", 40), "not-a-token"} {
		code, out, errOut := runCommand(t, dir, "", "publish", "--registry", r.URL, "--token", tok)
		if code != 1 {
			t.Errorf("token %q: exit %d, want 1\n%s%s", tok, code, out, errOut)
		}
		if !strings.Contains(errOut, "401 Unauthorized") || !strings.Contains(errOut, "check the token") {
			t.Errorf("token %q: stderr does not explain:\n%s", tok, errOut)
		}
		if strings.Contains(out+errOut, tok) {
			t.Errorf("token %q was printed", tok)
		}
		if out != "" {
			t.Errorf("stdout should be empty on failure: %q", out)
		}
	}
	r.expect(404, "GET", "/api/packages/denied", "", nil)

	// A token without the publish scope is refused by the registry too.
	tok := r.apiToken(r.signUp("yanker"), []string{"yank"})
	code, _, errOut := runCommand(t, dir, "", "publish", "--registry", r.URL, "--token", tok)
	if code != 1 || !strings.Contains(errOut, "403 Forbidden") || !strings.Contains(errOut, `"publish" scope`) {
		t.Errorf("token without publish scope: exit %d\n%s", code, errOut)
	}
}

// TestPublishTokenSources reads the token from a file and from standard
// input, and progress goes to standard error for large uploads only.
func TestPublishTokenSources(t *testing.T) {
	r := startRegistry(t, regOptions{})
	tok := r.apiToken(r.signUp("sourced"), []string{"publish"})
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"oaklibs.json": manifestOf("sourced", "1.0.0")})
	tokFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokFile, []byte("  "+tok+"\n"), 0o600)

	code, out, errOut := runCommand(t, dir, "", "publish", "--registry", r.URL, "--token-file", tokFile)
	if code != 0 || !strings.Contains(out, "published sourced@1.0.0") {
		t.Fatalf("--token-file: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(errOut, "uploading") {
		t.Errorf("a small upload reported progress when stderr is not a terminal:\n%s", errOut)
	}

	// 2 MiB of incompressible data: progress every 10%.
	writeTree(t, dir, map[string]string{"oaklibs.json": manifestOf("sourced", "1.1.0"), "data.bin": randomText(t, 2<<20)})
	code, out, errOut = runCommand(t, dir, tok+"\n", "publish", "--registry", r.URL, "--token-stdin")
	if code != 0 || !strings.Contains(out, "published sourced@1.1.0") {
		t.Fatalf("--token-stdin: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"uploading sourced@1.1.0:  10%", "uploading sourced@1.1.0: 100%"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("progress lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(out+errOut, tok) {
		t.Error("the token was printed")
	}
	if paths, _, _ := servedFiles(t, r, "sourced", "1.1.0"); !slices.Contains(paths, "data.bin") {
		t.Errorf("served files %q", paths)
	}

	writeTree(t, dir, map[string]string{"oaklibs.json": manifestOf("sourced", "1.2.0")})
	code, _, errOut = runCommand(t, dir, "", "publish", "--registry", r.URL, "--token", tok, "--quiet")
	if code != 0 || strings.Contains(errOut, "uploading") {
		t.Errorf("--quiet: exit %d\n%s", code, errOut)
	}
}

// TestPublishOakRegistryConfig takes the registry from the
// oak-registry.json that `oak registry add` and `set-default` write.
func TestPublishOakRegistryConfig(t *testing.T) {
	r := startRegistry(t, regOptions{})
	tok := r.apiToken(r.signUp("oakuser"), []string{"publish"})
	work := t.TempDir()
	cfg, _ := json.MarshalIndent(map[string]any{
		"default_registry": "mine",
		"registries":       map[string]string{"mine": r.URL + "/", "other": "http://127.0.0.1:1", "broken": "ftp://example.org"},
		"cache_dir":        ".oak/cache",
	}, "", "  ")
	writeTree(t, work, map[string]string{client.OakRegistryFile: string(cfg), "oaklibs.json": manifestOf("configured", "1.0.0")})

	code, out, errOut := runCommand(t, work, "", "publish", "--token", tok)
	if code != 0 || !strings.Contains(out, "published configured@1.0.0") || !strings.Contains(errOut, "registry mine of oak-registry.json") {
		t.Fatalf("default registry: exit %d\n%s%s", code, out, errOut)
	}
	writeTree(t, work, map[string]string{"oaklibs.json": manifestOf("configured", "1.0.1")})
	if code, out, errOut := runCommand(t, work, "", "publish", "--registry", "mine", "--token", tok); code != 0 {
		t.Fatalf("registry by name: exit %d\n%s%s", code, out, errOut)
	}
	for _, tt := range []struct {
		name string
		code int
		want string
	}{
		{"nosuch", 2, `oak-registry.json has no registry named "nosuch"`},
		{"broken", 2, `registry URL "ftp://example.org": want http(s)://host`},
		{"other", 1, "cannot reach the registry at http://127.0.0.1:1"},
	} {
		code, _, errOut := runCommand(t, work, "", "publish", "--registry", tt.name, "--token", tok)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("--registry %s: exit %d, want %d with %q\n%s", tt.name, code, tt.code, tt.want, errOut)
		}
	}
	os.WriteFile(filepath.Join(work, client.OakRegistryFile), []byte("{not json"), 0o644)
	if code, _, errOut := runCommand(t, work, "", "publish", "--token", tok); code != 1 || !strings.Contains(errOut, "oak-registry.json is not valid JSON") {
		t.Errorf("broken oak-registry.json: exit %d\n%s", code, errOut)
	}
}

// TestPublishMistakes checks each mistake on the command line or in the
// package: a clear message and the right exit status, nothing uploaded.
func TestPublishMistakes(t *testing.T) {
	r := startRegistry(t, regOptions{})
	tok := r.apiToken(r.signUp("careless"), []string{"publish"})
	work := t.TempDir()
	writeTree(t, work, map[string]string{
		"good/oaklibs.json":       manifestOf("good", "1.0.0"),
		"nomanifest/lib/a.dryad":  "a\n",
		"badversion/oaklibs.json": manifestOf("badversion", "1.0"),
		"badname/oaklibs.json":    manifestOf("Bad Name", "1.0.0"),
		"notes.txt":               "not an archive\n",
		"broken.tar.gz":           "not gzip at all",
	})
	// A port that nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	reg := []string{"--registry", r.URL, "--token", tok}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no token", []string{"publish", "good", "--registry", r.URL}, 2, "a token is needed"},
		{"two token sources", []string{"publish", "good", "--token", tok, "--token-stdin", "--registry", r.URL}, 2, "only one of --token"},
		{"no registry", []string{"publish", "good", "--token", tok}, 2, "which registry? pass --registry URL"},
		{"registry name without config", []string{"publish", "good", "--token", tok, "--registry", "local"}, 2, `"local" is not a URL and there is no oak-registry.json`},
		{"registry not http", []string{"publish", "good", "--token", tok, "--registry", "ftp://host"}, 2, "want http(s)://host"},
		{"two paths", append([]string{"publish", "good", "badname"}, reg...), 2, "give one folder or .tar.gz file, not 2"},
		{"unknown flag", append([]string{"publish", "good", "--force"}, reg...), 2, "flag provided but not defined: -force"},
		{"missing path", append([]string{"publish", "nosuch"}, reg...), 1, "nosuch: no such folder or file"},
		{"not an archive", append([]string{"publish", "notes.txt"}, reg...), 1, "neither a folder nor a .tar.gz or .tgz file"},
		{"no manifest", append([]string{"publish", "nomanifest"}, reg...), 1, "no oaklibs.json"},
		{"bad version", append([]string{"publish", "badversion"}, reg...), 1, `"1.0" is not a SemVer 2.0 version`},
		{"bad name", append([]string{"publish", "badname"}, reg...), 1, `package name "Bad Name" has uppercase letters`},
		{"broken archive", append([]string{"publish", "broken.tar.gz"}, reg...), 1, "400 Bad Request"},
		{"broken archive dry run", []string{"publish", "broken.tar.gz", "--dry-run"}, 1, "checking"},
		{"unreachable", []string{"publish", "good", "--registry", closed, "--token", tok}, 1, "cannot reach the registry at " + closed},
		{"empty token", []string{"publish", "good", "--registry", r.URL, "--token-stdin"}, 2, "the token is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCommand(t, work, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, want %d with %q\nstdout %s\nstderr %s", code, tt.code, tt.want, out, errOut)
			}
			if strings.Contains(out+errOut, tok) {
				t.Error("the token was printed")
			}
		})
	}
	for _, name := range []string{"good", "badversion", "nomanifest"} {
		r.expect(404, "GET", "/api/packages/"+name, "", nil)
	}
	// --help is not an error.
	if code, out, _ := runCommand(t, work, "", "publish", "--help"); code != 0 || !strings.Contains(out, "-dry-run") || !strings.Contains(out, "-token-stdin") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
}

// randomText returns n bytes that gzip cannot shrink, so that an archive's
// size follows its files'.
func randomText(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return string(b)
}
