package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/testenv"
)

// writeTree creates files under dir. A name ending in "/" is an empty
// folder; a body starting with "#!" makes an executable.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(body, "#!") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // umask aside
			t.Fatal(err)
		}
	}
}

func pack(t testing.TB, dir string, lim Limits) ([]byte, *Package, error) {
	t.Helper()
	var out bytes.Buffer
	pkg, err := Pack(t.Context(), dir, &out, lim)
	return out.Bytes(), pkg, err
}

var packFiles = map[string]string{
	"oaklibs.json":              manifestJSON,
	"README.md":                 "# demo\n",
	"bin/run":                   "#!/bin/sh\necho hi\n",
	"lib/util.dryad":            strings.Repeat("fn util() {}\n", 100),
	"lib/deep/x.dryad":          "x",
	"empty/":                    "",
	"caf\u00e9/" + "na\u00efve": "unicode",
	strings.Repeat("long", 30) + "/" + strings.Repeat("name", 30): "long",
}

// TestPackMatchesCanonicalize packs a folder and canonicalizes tarballs of
// it made by archive/tar and by the system's tar: the bytes are the same.
func TestPackMatchesCanonicalize(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, packFiles)
	// Times differ from file to file; canonical archives ignore them.
	os.Chtimes(filepath.Join(dir, "README.md"), time.Now(), time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))
	packed, pkg, err := pack(t, dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if pkg.Prefix != "" || string(pkg.Manifest) != manifestJSON || pkg.ReadmePath != "README.md" {
		t.Errorf("Package %+v", pkg)
	}

	// archive/tar's AddFS, files in the folder at the root.
	var tb bytes.Buffer
	zw := gzip.NewWriter(&tb)
	tw := tar.NewWriter(zw)
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	zw.Close()
	viaAddFS, _ := mustCanon(t, tb.Bytes())
	if !bytes.Equal(viaAddFS, packed) {
		t.Errorf("Pack and Canonicalize(AddFS tarball) differ:\n%s\nvs\n%s", strings.Join(listing(t, packed), "\n"), strings.Join(listing(t, viaAddFS), "\n"))
	}

	// The system tar, with the files inside a top-level folder.
	tarCmd := testenv.LookPath(t, "tar")
	parent := filepath.Dir(dir)
	out, err := exec.Command(tarCmd, "-czf", "-", "-C", parent, filepath.Base(dir)).Output()
	if err != nil {
		t.Fatalf("tar: %v", err)
	}
	viaTar, tpkg := mustCanon(t, out)
	if !bytes.Equal(viaTar, packed) {
		t.Errorf("Pack and Canonicalize(tar -czf) differ:\n%s\nvs\n%s", strings.Join(listing(t, packed), "\n"), strings.Join(listing(t, viaTar), "\n"))
	}
	if tpkg.Prefix != filepath.Base(dir) {
		t.Errorf("Prefix = %q, want %q", tpkg.Prefix, filepath.Base(dir))
	}
}

func TestPackIgnores(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"oaklibs.json":          manifestJSON,
		".gitignore":            "# build output\n*.log\n/dist/\nsecret.txt\n!important.log\n",
		".oakignore":            "tests/\n!keep-me.txt\n",
		"keep-me.txt":           "k",
		"debug.log":             "x",
		"important.log":         "i",
		"dist/out.js":           "x",
		"src/dist/kept.js":      "anchored /dist/ is only the root one",
		"src/secret.txt":        "x",
		"src/main.dryad":        "m",
		"src/.gitignore":        "*.tmp\n!debug.log\n",
		"src/a.tmp":             "x",
		"src/debug.log":         "re-included in src",
		"tests/t.dryad":         "x",
		"docs/tests/x.md":       "tests/ matches at any depth",
		".git/config":           "[core]",
		".git/objects/ab/cdef":  "x",
		"oak_modules/dep/x":     "x",
		"sub/oak_modules/dep/x": "x",
		".oak/cache/x.tar.gz":   "x",
		".DS_Store":             "x",
		"src/._main.dryad":      "x",
		"secret.txt":            "x",
	})
	_, pkg, err := pack(t, dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range pkg.Files {
		got = append(got, f.Path)
	}
	want := []string{".gitignore", ".oakignore", "docs", "important.log", "keep-me.txt", "oaklibs.json", "src", "src/.gitignore", "src/debug.log", "src/dist", "src/dist/kept.js", "src/main.dryad", "sub"}
	if !slices.Equal(got, want) {
		t.Errorf("packed:\n%v\nwant:\n%v", got, want)
	}
}

// TestPackAgreesWithGit compares the files Pack keeps with those git
// itself does not ignore, for the same .gitignore files.
func TestPackAgreesWithGit(t *testing.T) {
	gitCmd := testenv.LookPath(t, "git")
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"oaklibs.json":       manifestJSON,
		".gitignore":         "*.o\n!keep.o\n/root-only\nbuild/\ndocs/**/draft*\n**/cache\nlib/*.gen\n[Tt]emp*\nfile?.txt\n\\#hash\n",
		"keep.o":             "k",
		"x.o":                "x",
		"a/b/y.o":            "y",
		"root-only":          "r",
		"a/root-only":        "kept",
		"build/out":          "b",
		"a/build/out":        "b",
		"docs/draft1.md":     "d",
		"docs/x/y/draft2.md": "d",
		"docs/final.md":      "f",
		"cache/c":            "c",
		"a/cache/c":          "c",
		"lib/x.gen":          "g",
		"lib/sub/x.gen":      "kept",
		"Temp.txt":           "t",
		"temp2":              "t",
		"file1.txt":          "f",
		"file10.txt":         "kept",
		"#hash":              "h",
		"a/.gitignore":       "!y.o\n*.md\n",
		"a/readme.md":        "r",
		"a/z.o":              "z",
		"src/main.dryad":     "m",
	})
	git := func(args ...string) string {
		cmd := exec.Command(gitCmd, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir(), "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return string(out)
	}
	git("init", "-q")
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(git("ls-files", "--others", "--exclude-standard", "-z")), "\x00") {
		if line != "" {
			want = append(want, line)
		}
	}
	slices.Sort(want)
	_, pkg, err := pack(t, dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range pkg.Files {
		if !f.IsDir {
			got = append(got, f.Path)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("Pack keeps:\n%v\ngit keeps:\n%v", got, want)
	}
}

func TestPackRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		lim   Limits
		want  string
	}{
		{"no manifest", func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"src/x": "x"})
		}, Limits{}, "no oaklibs.json at the root"},
		{"manifest only in a subfolder", func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"pkg/oaklibs.json": manifestJSON})
		}, Limits{}, "no oaklibs.json at the root"},
		{"manifest is a folder", func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"oaklibs.json/x": "x"})
		}, Limits{}, "oaklibs.json is a folder"},
		{"ignored manifest", func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"oaklibs.json": manifestJSON, ".oakignore": "*.json\n"})
		}, Limits{}, "no oaklibs.json"},
		{"symlink", func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"oaklibs.json": manifestJSON})
			if err := os.Symlink("/etc/passwd", filepath.Join(dir, "passwd")); err != nil {
				testenv.Missing(t, "symbolic links on this filesystem ("+err.Error()+")")
			}
		}, Limits{}, "passwd is a symbolic link"},
		{"name Windows cannot store", func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"oaklibs.json": manifestJSON, "a:b": "x"})
		}, Limits{}, `a:b: character ':' is not allowed`},
		{"case collision", func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"oaklibs.json": manifestJSON, "A.txt": "x", "a.txt": "y"})
		}, Limits{}, "differ only in letter case"},
		{"too large", func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"oaklibs.json": manifestJSON, "big": strings.Repeat("x", 100)})
		}, Limits{MaxUnpackedSize: 100}, "more than 100 bytes"},
		{"too many entries", func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"oaklibs.json": manifestJSON, "a": "", "b": "", "c": ""})
		}, Limits{MaxEntries: 3}, "more than 3 entries"},
		{"manifest too large", func(t *testing.T, dir string) {
			writeTree(t, dir, map[string]string{"oaklibs.json": manifestJSON})
		}, Limits{MaxManifestSize: 10}, "oaklibs.json is 33 bytes; the limit is 10 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			_, _, err := pack(t, dir, tt.lim)
			if err == nil {
				t.Fatal("packed")
			}
			if errs.KindOf(err) != errs.Invalid || !strings.Contains(errs.Message(err), tt.want) {
				t.Errorf("error %v (%v)\nwant Invalid containing %q", err, errs.KindOf(err), tt.want)
			}
		})
	}
}

func TestPackMissingFolder(t *testing.T) {
	_, _, err := pack(t, filepath.Join(t.TempDir(), "nope"), Limits{})
	if errs.KindOf(err) != errs.Invalid {
		t.Errorf("err = %v, want Invalid", err)
	}
}
