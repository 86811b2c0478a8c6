package archive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dryad-lang/registry/internal/errs"
	"github.com/dryad-lang/registry/internal/testenv"
)

func TestCanonicalizeLayouts(t *testing.T) {
	m := ent{Name: "oaklibs.json", Body: manifestJSON}
	mLine := "oaklibs.json 644 33"
	tests := []struct {
		name       string
		data       []byte
		wantPrefix string
		want       []string
	}{
		{
			name: "root with folders",
			data: tgz(t, m, ent{Name: "src/", Type: tar.TypeDir}, ent{Name: "src/main.dryad", Body: "hi"}),
			want: []string{mLine, "src/ 755 0", "src/main.dryad 644 2 hi"},
		},
		{
			name: "parents added",
			data: tgz(t, ent{Name: "src/lib/a.dryad", Body: "a"}, m),
			want: []string{mLine, "src/ 755 0", "src/lib/ 755 0", "src/lib/a.dryad 644 1 a"},
		},
		{
			name:       "top-level folder with its entry",
			data:       tgz(t, ent{Name: "demo-1.0.0/", Type: tar.TypeDir}, ent{Name: "demo-1.0.0/oaklibs.json", Body: manifestJSON}, ent{Name: "demo-1.0.0/lib/x.dryad", Body: "x"}),
			wantPrefix: "demo-1.0.0",
			want:       []string{"lib/ 755 0", "lib/x.dryad 644 1 x", mLine},
		},
		{
			name:       "top-level folder without its entry",
			data:       tgz(t, ent{Name: "pkg/oaklibs.json", Body: manifestJSON}),
			wantPrefix: "pkg",
			want:       []string{mLine},
		},
		{
			name: "written by tar -C dir .",
			data: tgz(t, ent{Name: "./", Type: tar.TypeDir}, ent{Name: "./oaklibs.json", Body: manifestJSON}, ent{Name: "./src/", Type: tar.TypeDir}, ent{Name: "./src/x", Body: "x"}),
			want: []string{mLine, "src/ 755 0", "src/x 644 1 x"},
		},
		{
			name:       "top-level folder written with ./",
			data:       tgz(t, ent{Name: "./", Type: tar.TypeDir}, ent{Name: "./pkg/", Type: tar.TypeDir}, ent{Name: "./pkg/oaklibs.json", Body: manifestJSON}),
			wantPrefix: "pkg",
			want:       []string{mLine},
		},
		{
			name: "macOS metadata dropped",
			data: tgz(t,
				ent{Name: "__MACOSX/", Type: tar.TypeDir},
				ent{Name: "__MACOSX/pkg/._oaklibs.json", Body: "apple double"},
				ent{Name: "pkg/._oaklibs.json", Body: "apple double"},
				ent{Name: "pkg/oaklibs.json", Body: manifestJSON},
				ent{Name: "pkg/.DS_Store", Body: "finder"},
				ent{Name: "pkg/src/.DS_Store", Body: "finder"},
				ent{Name: "pkg/src/._link", Type: tar.TypeSymlink, Link: "/etc"},
				ent{Name: "pkg/src/a", Body: "a"}),
			wantPrefix: "pkg",
			want:       []string{mLine, "src/ 755 0", "src/a 644 1 a"},
		},
		{
			name: "git archive global header",
			data: tgz(t, ent{Name: "pax_global_header", Type: tar.TypeXGlobalHeader, PAX: map[string]string{"comment": "0123456789abcdef0123456789abcdef01234567"}}, m),
			want: []string{mLine},
		},
		{
			name: "empty folders kept",
			data: tgz(t, m, ent{Name: "empty/", Type: tar.TypeDir}, ent{Name: "a/b/", Type: tar.TypeDir}),
			want: []string{"a/ 755 0", "a/b/ 755 0", "empty/ 755 0", mLine},
		},
		{
			name: "modes",
			data: tgz(t, m,
				ent{Name: "private", Body: "p", Mode: 0o600},
				ent{Name: "script", Body: "s", Mode: 0o700},
				ent{Name: "other-exec", Body: "o", Mode: 0o601},
				ent{Name: "setuid", Body: "u", Mode: 0o4755},
				ent{Name: "sticky/", Type: tar.TypeDir, Mode: 0o1700},
				ent{Name: "everything", Body: "e", Mode: 0o7777}),
			want: []string{"everything 755 1 e", mLine, "other-exec 755 1 o", "private 644 1 p", "script 755 1 s", "setuid 755 1 u", "sticky/ 755 0"},
		},
		{
			name: "bytewise order with folder slashes",
			data: tgz(t, m, ent{Name: "a0", Body: "0"}, ent{Name: "a/x", Body: "x"}, ent{Name: "a.txt", Body: "t"}, ent{Name: "a-b", Body: "b"}, ent{Name: "B", Body: "B"}),
			want: []string{"B 644 1 B", "a-b 644 1 b", "a.txt 644 1 t", "a/ 755 0", "a/x 644 1 x", "a0 644 1 0", mLine},
		},
		{
			name: "long and non-ASCII names",
			data: tgz(t, m, ent{Name: strings.Repeat("long", 40), Body: "l"}, ent{Name: "d/caf\u00e9.dryad", Body: "c"}),
			want: []string{"d/ 755 0", "d/caf\u00e9.dryad 644 1 c", strings.Repeat("long", 40) + " 644 1 l", mLine},
		},
		{
			name: "nested manifests are plain files",
			data: tgz(t, m, ent{Name: "examples/oaklibs.json", Body: "{}"}),
			want: []string{"examples/ 755 0", "examples/oaklibs.json 644 2 {}", mLine},
		},
		{
			name: "root manifest wins over a folder",
			data: tgz(t, m, ent{Name: "pkg/oaklibs.json", Body: "{}"}),
			want: []string{mLine, "pkg/ 755 0", "pkg/oaklibs.json 644 2 {}"},
		},
		{
			name: "old-style regular file type",
			data: gz(t, concat(rawEntry("oaklibs.json", 0, manifestJSON), rawEntry("legacy/", 0, ""), endOfArchive)),
			want: []string{"legacy/ 755 0", mLine},
		},
		{
			name: "tar padded to a full record",
			data: gz(t, concat(tarOf(t, []ent{m}), make([]byte, 10240))),
			want: []string{mLine},
		},
		{
			name: "no end-of-archive marker",
			data: gz(t, rawEntry("oaklibs.json", tar.TypeReg, manifestJSON)),
			want: []string{mLine},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, pkg := mustCanon(t, tt.data)
			if pkg.Prefix != tt.wantPrefix {
				t.Errorf("Prefix = %q, want %q", pkg.Prefix, tt.wantPrefix)
			}
			got := listing(t, out)
			for i := range got {
				got[i] = strings.Replace(got[i], " "+manifestJSON, "", 1)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("canonical archive:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if string(pkg.Manifest) != manifestJSON {
				t.Errorf("Manifest = %q", pkg.Manifest)
			}
			if len(pkg.Files) != len(got) {
				t.Errorf("Package lists %d files, the archive %d", len(pkg.Files), len(got))
			}
		})
	}
}

func TestCanonicalizePackage(t *testing.T) {
	readme := "# Demo\n"
	data := tgz(t,
		ent{Name: "demo/oaklibs.json", Body: manifestJSON},
		ent{Name: "demo/Readme.MD", Body: readme},
		ent{Name: "demo/README", Body: "plain"},
		ent{Name: "demo/docs/README.md", Body: "nested"},
		ent{Name: "demo/bin/run", Body: "#!/bin/sh\n", Mode: 0o755},
	)
	out, pkg := mustCanon(t, data)
	sum := sha256.Sum256(out)
	if pkg.SHA256 != hex.EncodeToString(sum[:]) || pkg.Size != int64(len(out)) {
		t.Errorf("SHA256, Size = %s, %d; the bytes written have %x, %d", pkg.SHA256, pkg.Size, sum, len(out))
	}
	if pkg.Prefix != "demo" || pkg.ReadmePath != "Readme.MD" || string(pkg.Readme) != readme {
		t.Errorf("Prefix %q, ReadmePath %q, Readme %q", pkg.Prefix, pkg.ReadmePath, pkg.Readme)
	}
	wantFiles := []File{
		{Path: "README", Size: 5, Mode: 0o644},
		{Path: "Readme.MD", Size: int64(len(readme)), Mode: 0o644},
		{Path: "bin", Mode: 0o755, IsDir: true},
		{Path: "bin/run", Size: 10, Mode: 0o755},
		{Path: "docs", Mode: 0o755, IsDir: true},
		{Path: "docs/README.md", Size: 6, Mode: 0o644},
		{Path: "oaklibs.json", Size: int64(len(manifestJSON)), Mode: 0o644},
	}
	if !slices.Equal(pkg.Files, wantFiles) {
		t.Errorf("Files:\n%v\nwant\n%v", pkg.Files, wantFiles)
	}
	if want := int64(5 + len(readme) + 10 + 6 + len(manifestJSON)); pkg.UnpackedSize != want {
		t.Errorf("UnpackedSize = %d, want %d", pkg.UnpackedSize, want)
	}
}

func TestCanonicalizeReadme(t *testing.T) {
	m := ent{Name: "oaklibs.json", Body: manifestJSON}
	big := strings.Repeat("x", 2000)
	tests := []struct {
		name     string
		ents     []ent
		wantPath string
	}{
		{"none", nil, ""},
		{"README.md", []ent{{Name: "README.md", Body: "r"}}, "README.md"},
		{"lowercase", []ent{{Name: "readme.md", Body: "r"}}, "readme.md"},
		{"markdown extension", []ent{{Name: "readme.markdown", Body: "r"}}, "readme.markdown"},
		{"bare README", []ent{{Name: "README", Body: "r"}}, "README"},
		{"markdown before bare", []ent{{Name: "README", Body: "r"}, {Name: "README.markdown", Body: "r"}}, "README.markdown"},
		{".md first", []ent{{Name: "README", Body: "r"}, {Name: "README.md", Body: "r"}, {Name: "readme.markdown", Body: "r"}}, "README.md"},
		{"too large is skipped", []ent{{Name: "README.md", Body: big}, {Name: "README", Body: "r"}}, "README"},
		{"too large alone", []ent{{Name: "README.md", Body: big}}, ""},
		{"a folder is not a readme", []ent{{Name: "README.md/x", Body: "r"}}, ""},
		{"only at the root", []ent{{Name: "docs/README.md", Body: "r"}}, ""},
		{"other names", []ent{{Name: "README.txt", Body: "r"}, {Name: "READ.ME", Body: "r"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, pkg, err := canon(t, tgz(t, append([]ent{m}, tt.ents...)...), Limits{MaxReadmeSize: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if pkg.ReadmePath != tt.wantPath {
				t.Errorf("ReadmePath = %q, want %q", pkg.ReadmePath, tt.wantPath)
			}
			if (pkg.Readme != nil) != (tt.wantPath != "") {
				t.Errorf("Readme = %q for path %q", pkg.Readme, pkg.ReadmePath)
			}
		})
	}
}

// sameFiles returns archives of one package made in many different ways.
func sameFiles(t *testing.T) map[string][]byte {
	type file struct {
		name, body string
		mode       int64
	}
	files := []file{
		{"oaklibs.json", manifestJSON, 0o644},
		{"README.md", "# demo\n", 0o600},
		{"bin/run", "#!/bin/sh\necho hi\n", 0o744},
		{"lib/util.dryad", strings.Repeat("fn util() {}\n", 300), 0o664},
		{"lib/deep/er/x.dryad", "x", 0o444},
		{strings.Repeat("n", 120) + "/long-" + strings.Repeat("é", 70), "long", 0o644},
	}
	dirs := []string{"bin/", "lib/", "lib/deep/", "lib/deep/er/", "empty/", strings.Repeat("n", 120) + "/"}
	build := func(order []int, withDirs bool, prefix string, f func(e *ent)) []ent {
		var out []ent
		if withDirs {
			for _, d := range dirs {
				e := ent{Name: prefix + d, Type: tar.TypeDir}
				f(&e)
				out = append(out, e)
			}
		} else {
			// The empty folder has no file to imply it.
			out = append(out, ent{Name: prefix + "empty/", Type: tar.TypeDir})
		}
		for _, i := range order {
			e := ent{Name: prefix + files[i].name, Body: files[i].body, Mode: files[i].mode}
			f(&e)
			out = append(out, e)
		}
		return out
	}
	nothing := func(*ent) {}
	forward := []int{0, 1, 2, 3, 4, 5}
	backward := []int{5, 4, 3, 2, 1, 0}
	variants := map[string][]byte{
		"plain":                      tgz(t, build(forward, true, "", nothing)...),
		"reversed, implicit folders": tgz(t, build(backward, false, "", nothing)...),
		"owners, times, modes": tgz(t, build(backward, true, "", func(e *ent) {
			e.Uid, e.Gid, e.Uname = 1000, 1000, "alice"
			e.ModTime = time.Date(2031, 1, 2, 3, 4, 5, 6, time.UTC)
			if e.Mode == 0o744 {
				e.Mode = 0o4711
			} else if e.Type != tar.TypeDir {
				e.Mode = 0o640
			} else {
				e.Mode = 0o700
			}
		})...),
		"PAX format": tgz(t, build(forward, true, "", func(e *ent) { e.Format = tar.FormatPAX })...),
		"GNU format": tgz(t, build(forward, true, "", func(e *ent) {
			e.Format = tar.FormatGNU
			e.ModTime = time.Now()
		})...),
		"top-level folder":     tgz(t, build(backward, true, "demo/", nothing)...),
		"./ and folder":        tgz(t, append([]ent{{Name: "./", Type: tar.TypeDir}}, build(forward, false, "./demo/", nothing)...)...),
		"macOS junk":           tgz(t, append(build(forward, true, "", nothing), ent{Name: "._README.md", Body: "x"}, ent{Name: ".DS_Store", Body: "y"})...),
		"fast gzip and header": gzipWith(t, tarOf(t, build(forward, true, "", nothing)), gzip.BestSpeed, gzip.Header{Name: "demo.tar", ModTime: time.Now(), OS: 3}),
		"two gzip members": func() []byte {
			tarball := tarOf(t, build(forward, true, "", nothing))
			half := len(tarball) / 2
			return concat(gz(t, tarball[:half]), gz(t, tarball[half:]))
		}(),
		"padded tar": gz(t, concat(tarOf(t, build(forward, true, "", nothing)), make([]byte, 20*512))),
	}
	return variants
}

func gzipWith(t *testing.T, data []byte, level int, h gzip.Header) []byte {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	zw.Header = h
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

func TestCanonicalizeDeterministic(t *testing.T) {
	var want []byte
	for name, data := range sameFiles(t) {
		out, _ := mustCanon(t, data)
		if want == nil {
			want = out
			continue
		}
		if !bytes.Equal(out, want) {
			t.Errorf("%s: canonical bytes differ:\n%s\nwant\n%s", name, strings.Join(listing(t, out), "\n"), strings.Join(listing(t, want), "\n"))
		}
	}
}

func TestCanonicalizeIdempotent(t *testing.T) {
	for name, data := range sameFiles(t) {
		once, pkg1 := mustCanon(t, data)
		twice, pkg2 := mustCanon(t, once)
		if !bytes.Equal(once, twice) {
			t.Errorf("%s: canonicalizing a canonical archive changed it", name)
		}
		if pkg2.Prefix != "" || pkg1.SHA256 != pkg2.SHA256 || !slices.Equal(pkg1.Files, pkg2.Files) {
			t.Errorf("%s: second pass describes another package: %+v vs %+v", name, pkg1, pkg2)
		}
	}
}

func TestCanonicalFormat(t *testing.T) {
	out, _ := mustCanon(t, tgz(t, ent{Name: "oaklibs.json", Body: manifestJSON}, ent{Name: "d/" + strings.Repeat("x", 150), Body: "x"}, ent{Name: "\u00fc", Body: "u"}))
	zr, err := gzip.NewReader(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || zr.Comment != "" || !zr.ModTime.IsZero() || zr.OS != 255 || zr.Extra != nil {
		t.Errorf("gzip header %+v; want no name, comment, time or extra, OS 255", zr.Header)
	}
	zr.Multistream(false)
	tr := tar.NewReader(zr)
	formats := map[string]tar.Format{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		formats[h.Name] = h.Format
		if !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() || len(h.Xattrs) > 0 || h.Devmajor != 0 {
			t.Errorf("%s: extra metadata %+v", h.Name, h)
		}
		for k := range h.PAXRecords {
			if k != "path" {
				t.Errorf("%s: PAX record %q", h.Name, k)
			}
		}
	}
	if formats["oaklibs.json"] != tar.FormatUSTAR || formats["d/"] != tar.FormatUSTAR {
		t.Errorf("short ASCII names should be USTAR: %v", formats)
	}
	if formats["\u00fc"] != tar.FormatPAX {
		t.Errorf("a non-ASCII name needs PAX: %v", formats)
	}
	if rest, _ := io.ReadAll(zr); len(rest) != 0 {
		t.Errorf("%d bytes after the tar end marker; want none", len(rest))
	}
}

func TestCanonicalizeCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	_, err := Canonicalize(ctx, bytes.NewReader(tgz(t, ent{Name: "oaklibs.json", Body: manifestJSON})), io.Discard, dir, Limits{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	assertEmptyDir(t, dir)
}

func TestCanonicalizeLeavesNoSpool(t *testing.T) {
	dir := t.TempDir()
	if _, err := Canonicalize(t.Context(), bytes.NewReader(tgz(t, ent{Name: "oaklibs.json", Body: manifestJSON}, ent{Name: "a", Body: "a"})), io.Discard, dir, Limits{}); err != nil {
		t.Fatal(err)
	}
	assertEmptyDir(t, dir)
}

func TestCanonicalizeBadTempDir(t *testing.T) {
	_, err := Canonicalize(t.Context(), bytes.NewReader(nil), io.Discard, "/nonexistent/folder", Limits{})
	if err == nil {
		t.Fatal("no error for a missing temporary folder")
	}
}

// zeroArchive returns a package whose one big file holds size zero bytes;
// compressed, it stays small whatever size is.
func zeroArchive(t testing.TB, size int64) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "oaklibs.json", Mode: 0o644, Size: int64(len(manifestJSON))})
	io.WriteString(tw, manifestJSON)
	tw.WriteHeader(&tar.Header{Name: "data/zeros.bin", Mode: 0o644, Size: size})
	if _, err := io.CopyN(tw, zeroReader{}, size); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestCanonicalizeMemoryIsFlat checks that the bytes allocated do not grow
// with the size of the content: a 64 MiB file costs no more than a 1 MiB one.
func TestCanonicalizeMemoryIsFlat(t *testing.T) {
	if testing.Short() && !testenv.InCI() {
		t.Skip("decompresses 65 MiB")
	}
	allocated := func(data []byte) uint64 {
		dir := t.TempDir()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := Canonicalize(t.Context(), bytes.NewReader(data), io.Discard, dir, Limits{}); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	small := allocated(zeroArchive(t, 1<<20))
	large := allocated(zeroArchive(t, 64<<20))
	t.Logf("allocated: %d bytes for 1 MiB, %d bytes for 64 MiB", small, large)
	if large > small+(1<<20) {
		t.Errorf("allocations grow with the content: %d bytes for 1 MiB, %d for 64 MiB", small, large)
	}
}

// failingWriter fails every write, as a disk that is full.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestCanonicalizeWriteError(t *testing.T) {
	dir := t.TempDir()
	_, err := Canonicalize(t.Context(), bytes.NewReader(tgz(t, ent{Name: "oaklibs.json", Body: manifestJSON})), failingWriter{}, dir, Limits{})
	if err == nil || errs.KindOf(err) != errs.Internal {
		t.Errorf("err = %v (%v), want an internal error", err, errs.KindOf(err))
	}
	assertEmptyDir(t, dir)
}

// cutReader returns its data, then err: an upload the caller cut short.
type cutReader struct {
	r   io.Reader
	err error
}

func (c *cutReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		return n, c.err
	}
	return n, err
}

// TestCanonicalizeKeepsSourceErrors checks that an error of the caller's
// reader (an upload over the size limit) comes back with its kind.
func TestCanonicalizeKeepsSourceErrors(t *testing.T) {
	data := tgz(t, ent{Name: "oaklibs.json", Body: manifestJSON}, ent{Name: "big", Body: strings.Repeat("random-ish text ", 50000)})
	tooLarge := errs.New(errs.TooLarge, "package archive is larger than the limit")
	_, err := Canonicalize(t.Context(), &cutReader{r: bytes.NewReader(data[:len(data)/2]), err: tooLarge}, io.Discard, t.TempDir(), Limits{})
	if !errors.Is(err, errs.TooLarge) {
		t.Errorf("err = %v, want the reader's TooLarge error", err)
	}
}
